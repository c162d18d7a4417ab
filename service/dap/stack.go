package dap

import (
	"fmt"
	"path/filepath"
	"slices"
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
	// page is the threads list of this stop, nil until asked for: VS
	// Code asks for it again and again at one stop (after each step, on
	// every pause of a thread), and a program may have thousands.
	page *threadsPage
}

// threadsPage is what the threads request shows of one stop.
type threadsPage struct {
	gs       []*api.Goroutine // those listed, the selected one last when the list is cut
	cut      bool             // more goroutines than maxGoroutines
	loaded   int              // how many of them the list read
	selected int64            // 0: none
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
	h.page = nil
}

// forgetThreads drops the threads list of this stop, for what changes
// goroutines without a new stop: a resume, a write, an injected call.
func (h *handles) forgetThreads() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.page = nil
}

func (h *handles) threads() *threadsPage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.page
}

func (h *handles) keepThreads(p *threadsPage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.page = p
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
	page, err := s.threadsPage()
	var threads []dap.Thread
	switch {
	case err != nil:
		if !isExited(err) {
			s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
				Output: fmt.Sprintf("Unable to retrieve goroutines: %s\n", err), Category: "stderr"}})
		}
		threads = []dap.Thread{{Id: 1, Name: "Dummy"}}
	case len(page.gs) == 0:
		// DAP requires at least one thread, even before the runtime has
		// made a goroutine.
		threads = []dap.Thread{{Id: 1, Name: "Dummy"}}
	default:
		if page.cut {
			// As Delve: say the list is cut, at every threads request.
			s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
				Output: fmt.Sprintf("Too many goroutines, only loaded %d\n", page.loaded), Category: "console"}})
		}
		for _, g := range page.gs {
			mark := ""
			if g.ID == page.selected {
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

// threadsPage returns the threads list of this stop, reading it on the
// first request. Errors are not kept: the next request tries again.
func (s *session) threadsPage() (*threadsPage, error) {
	if p := s.state.threads(); p != nil {
		return p, nil
	}
	gs, next, err := s.goroutines()
	if err != nil {
		return nil, err
	}
	p := &threadsPage{gs: gs, cut: next >= 0, loaded: len(gs)}
	if len(gs) > 0 {
		st, err := s.dbg.State(true)
		if err == nil && st.SelectedGoroutine != nil {
			p.selected = st.SelectedGoroutine.ID
		}
		if p.cut && p.selected != 0 && !slices.ContainsFunc(gs, func(g *api.Goroutine) bool { return g.ID == p.selected }) {
			// As Delve: keep the selected goroutine in a cut list so
			// that the client can show where it stopped.
			p.gs = append(gs, st.SelectedGoroutine)
		}
	}
	s.state.keepThreads(p)
	return p, nil
}

// goroutines lists the goroutines the threads request shows: those the
// goroutineFilters keep and, with hideSystemGoroutines, only those running
// user code, and the selected one. next is -1 when the list is whole.
func (s *session) goroutines() ([]*api.Goroutine, int, error) {
	filters := s.opts.goroutineFilters
	if s.opts.hideSystem {
		filters = append(slices.Clip(filters), api.ListGoroutinesFilter{Kind: api.GoroutineUser})
	}
	if len(filters) == 0 {
		return s.dbg.Goroutines(0, maxGoroutines)
	}
	list, err := s.dbg.ListGoroutines(0, maxGoroutines, filters, api.GoroutineGroupingOptions{})
	if err != nil {
		return nil, -1, err
	}
	return list.Goroutines, list.Next, nil
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
