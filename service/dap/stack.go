package dap

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// handles maps the ids the client holds (frame ids, variablesReference)
// to what they stand for. They are valid until the target resumes: every
// stop starts afresh, as DAP allows.
type handles struct {
	mu     sync.Mutex
	next   int
	frames map[int]frameRef
	vars   map[int]*varRef
}

// frameRef is one frame of one goroutine.
type frameRef struct {
	goid  int64
	frame int
	// fn is the frame's function as the stack trace saw it (nil when
	// not from one), for the scopes' names.
	fn *api.Function
}

// varRef is an expandable value, or a scope (a list of variables).
type varRef struct {
	frameRef
	// v is the value as loaded; for a scope, its Children are the
	// variables.
	v *api.Variable
	// expr is an expression that reloads v in its frame ("" when none
	// does), also the prefix of its children's evaluate names.
	expr string
	// scope says v lists variables, reloaded on every request so that a
	// setVariable shows at once.
	scope    scopeKind
	children []dap.Variable // converted once, so handles stay stable
}

type scopeKind int

const (
	notScope    scopeKind = iota
	scopeLocals           // the arguments, results and locals of a frame
)

// reset forgets every id.
func (h *handles) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Ids keep growing across stops, so a stale id from the client is
	// unknown rather than silently meaning something else.
	if h.next == 0 {
		h.next = 1000
	}
	h.frames = map[int]frameRef{}
	h.vars = map[int]*varRef{}
}

func (h *handles) addFrame(f frameRef) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	h.frames[h.next] = f
	return h.next
}

func (h *handles) frame(id int) (frameRef, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.frames[id]
	return f, ok
}

func (h *handles) addVar(r *varRef) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	h.vars[h.next] = r
	return h.next
}

func (h *handles) variable(id int) (*varRef, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.vars[id]
	return r, ok
}

// maxGoroutines bounds the threads list: VS Code cannot show more anyway.
const maxGoroutines = 1 << 10

// defaultStackDepth is the number of frames sent when the client does not
// say, Delve's default.
const defaultStackDepth = 50

func (s *session) onThreads(r *dap.ThreadsRequest) {
	gs, err := s.goroutines()
	var threads []dap.Thread
	switch {
	case err != nil:
		if !isExited(err) {
			s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
				Output: fmt.Sprintf("Unable to retrieve goroutines: %s\n", err), Category: "stderr"}})
		}
		threads = []dap.Thread{{Id: 1, Name: "Dummy"}}
	case len(gs) == 0:
		// DAP requires at least one thread, even before the runtime has
		// made a goroutine.
		threads = []dap.Thread{{Id: 1, Name: "Dummy"}}
	default:
		var selected int64
		if st, err := s.dbg.State(true); err == nil && st.SelectedGoroutine != nil {
			selected = st.SelectedGoroutine.ID
		}
		for _, g := range gs {
			mark := ""
			if g.ID == selected {
				mark = "* "
			}
			thread := ""
			if g.ThreadID != 0 {
				thread = fmt.Sprintf(" (Thread %d)", g.ThreadID)
			}
			name := fmt.Sprintf("%s[Go %d%s] %s%s", mark, g.ID, s.opts.labelText(g.Labels), shortFuncName(g.UserCurrentLoc.Function.Name()), thread)
			if g.Unreadable != "" {
				name = fmt.Sprintf("%sUnreadable goroutine: %s", mark, g.Unreadable)
			}
			threads = append(threads, dap.Thread{Id: int(g.ID), Name: name})
		}
	}
	s.send(&dap.ThreadsResponse{Response: s.response(r.Request), Body: dap.ThreadsResponseBody{Threads: threads}})
}

// goroutines lists the goroutines the threads request shows: with
// hideSystemGoroutines only those running user code, and the selected one.
func (s *session) goroutines() ([]*api.Goroutine, error) {
	if !s.opts.hideSystem {
		gs, _, err := s.dbg.Goroutines(0, maxGoroutines)
		return gs, err
	}
	list, err := s.dbg.ListGoroutines(0, maxGoroutines, []api.ListGoroutinesFilter{{Kind: api.GoroutineUser}}, api.GoroutineGroupingOptions{})
	if err != nil {
		return nil, err
	}
	return list.Goroutines, nil
}

// shortFuncName drops the package path before the package name, as
// Delve's DAP server names frames: "github.com/a/b.F" is "b.F".
func shortFuncName(name string) string {
	head := name
	if i := strings.IndexByte(head, '['); i >= 0 {
		head = head[:i] // type arguments may hold paths of their own
	}
	if i := strings.LastIndexByte(head, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func (s *session) onStackTrace(r *dap.StackTraceRequest) {
	goid := int64(r.Arguments.ThreadId)
	start := max(r.Arguments.StartFrame, 0)
	levels := r.Arguments.Levels
	if levels <= 0 {
		levels = s.opts.stackDepth // stackTraceDepth
	}
	if levels <= 0 {
		levels = defaultStackDepth
	}
	// One frame more than asked says whether there are more.
	frames, err := s.dbg.Stacktrace(goid, start+levels, 0, nil)
	if err != nil {
		s.sendError(r.Request, errStackTrace, "Unable to produce stack trace", err.Error(), false)
		return
	}
	out := []dap.StackFrame{} // DAP wants [], not null
	for i := start; i < len(frames) && i < start+levels; i++ {
		f := frames[i]
		sf := dap.StackFrame{
			Id:                          s.state.addFrame(frameRef{goid: goid, frame: i, fn: f.Function}),
			Name:                        shortFuncName(f.Function.Name()),
			Line:                        f.Line,
			InstructionPointerReference: fmt.Sprintf("%#x", f.PC),
		}
		if f.File != "" && f.File != "<autogenerated>" {
			path := s.opts.toClient(f.File)
			sf.Source = &dap.Source{Name: filepath.Base(path), Path: path}
		}
		if strings.HasPrefix(f.Function.Name(), "runtime.") {
			sf.PresentationHint = "subtle"
		}
		out = append(out, sf)
	}
	total := len(frames)
	if len(frames) > start+levels {
		// The real depth is unknown; more than we sent makes the client
		// ask for the next page.
		total = start + levels + defaultStackDepth
	}
	s.send(&dap.StackTraceResponse{Response: s.response(r.Request),
		Body: dap.StackTraceResponseBody{StackFrames: out, TotalFrames: total}})
}
