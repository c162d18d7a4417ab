package dap

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// breakpoints remembers which debugger breakpoint each client breakpoint
// is: DAP sends the whole list of a source file (or of the function
// breakpoints) every time, and the difference with the previous list
// says what to create, amend and clear.
type breakpoints struct {
	mu     sync.Mutex
	source map[string]map[int]int // client path → requested line → id
	funcs  map[string]int         // function breakpoint name → id
	insts  map[string]int         // instruction reference+offset → id
	datas  map[string]int         // data breakpoint dataId → watchpoint id
	logs   map[int]*logMessage    // id → message, for logpoints
}

func (b *breakpoints) init() {
	b.source = map[string]map[int]int{}
	b.funcs = map[string]int{}
	b.insts = map[string]int{}
	b.datas = map[string]int{}
	b.logs = map[int]*logMessage{}
}

// isFunction reports whether id is a function breakpoint.
func (b *breakpoints) isFunction(id int) bool {
	return b.isIn(b.funcs, id)
}

// isInstruction reports whether id is an instruction breakpoint.
func (b *breakpoints) isInstruction(id int) bool {
	return b.isIn(b.insts, id)
}

func (b *breakpoints) isIn(table map[string]int, id int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, bid := range table {
		if bid == id {
			return true
		}
	}
	return false
}

// wantedBp is one breakpoint of a request, in a form common to source
// and function breakpoints.
type wantedBp struct {
	key     string // line or function name, unique in its list
	loc     api.Breakpoint
	locExpr string
	// create, when set, makes the breakpoint instead of CreateBreakpoint
	// (a data breakpoint is a watchpoint).
	create func() (*api.Breakpoint, error)
}

// syncBreakpoints makes the debugger's breakpoints match wants: existing ones are
// amended (their condition may have changed), missing ones created, and
// those no longer wanted cleared. The result is in the order of wants.
func (s *session) syncBreakpoints(existing map[string]int, wants []wantedBp) ([]dap.Breakpoint, map[string]int) {
	out := make([]dap.Breakpoint, len(wants))
	kept := map[string]int{}
	for i, w := range wants {
		if _, dup := kept[w.key]; dup {
			out[i] = dap.Breakpoint{Verified: false, Message: "breakpoint already exists"}
			continue
		}
		var got *api.Breakpoint
		var err error
		if id, ok := existing[w.key]; ok {
			got, err = s.amendBreakpoint(id, w.loc.Cond, w.loc.HitCond)
			if err == nil || got != nil {
				kept[w.key] = id
			}
		} else if w.create != nil {
			got, err = w.create()
			if err == nil {
				kept[w.key] = got.ID
			}
		} else {
			got, err = s.dbg.CreateBreakpoint(w.loc, w.locExpr)
			if err == nil {
				kept[w.key] = got.ID
			}
		}
		out[i] = s.dapBreakpoint(got, err)
	}
	for key, id := range existing {
		if _, ok := kept[key]; ok {
			continue
		}
		if _, err := s.dbg.ClearBreakpoint(id, ""); err != nil {
			s.logf("clearing breakpoint %d: %v", id, err)
		}
	}
	return out, kept
}

// replaceBreakpoints syncs the breakpoints of *table (one of s.bps's) with
// wants and keeps the result there.
func (s *session) replaceBreakpoints(table *map[string]int, wants []wantedBp) []dap.Breakpoint {
	s.bps.mu.Lock()
	existing := maps.Clone(*table)
	s.bps.mu.Unlock()
	out, kept := s.syncBreakpoints(existing, wants)
	s.bps.mu.Lock()
	*table = kept
	s.bps.mu.Unlock()
	return out
}

// amendBreakpoint changes the conditions of breakpoint id.
func (s *session) amendBreakpoint(id int, cond, hitCond string) (*api.Breakpoint, error) {
	bp, err := s.dbg.GetBreakpoint(id, "")
	if err != nil {
		return nil, err
	}
	if bp.Cond == cond && bp.HitCond == hitCond {
		return bp, nil
	}
	bp.Cond, bp.HitCond = cond, hitCond
	if err := s.dbg.AmendBreakpoint(*bp); err != nil {
		return bp, err
	}
	return s.dbg.GetBreakpoint(id, "")
}

// dapBreakpoint describes the outcome for one requested breakpoint.
func (s *session) dapBreakpoint(got *api.Breakpoint, err error) dap.Breakpoint {
	if err == nil && got != nil && len(got.Addrs) == 0 {
		err = errors.New("unable to set breakpoint")
	}
	var out dap.Breakpoint
	out.Verified = err == nil
	if err != nil {
		out.Message = err.Error()
	}
	if got != nil {
		out.Id = got.ID
		if got.File != "" {
			out.Line = got.Line
			path := s.opts.toClient(got.File)
			out.Source = &dap.Source{Name: filepath.Base(path), Path: path}
		}
	}
	return out
}

func (s *session) onSetBreakpoints(r *dap.SetBreakpointsRequest) {
	path := r.Arguments.Source.Path
	if path == "" {
		s.sendError(r.Request, errSetBreakpoints, "Unable to set or clear breakpoints", "empty file path", false)
		return
	}
	s.releaseKernelLogs() // kernellogs.go; syncKernelLogs below takes them back
	wants := make([]wantedBp, 0, len(r.Arguments.Breakpoints))
	msgs := map[int]*logMessage{}      // line → logpoint message
	badLog := map[int]dap.Breakpoint{} // index → the answer for an unparsable logMessage
	for i, b := range r.Arguments.Breakpoints {
		if b.LogMessage != "" {
			m, err := parseLogMessage(b.LogMessage)
			if err != nil {
				badLog[i] = dap.Breakpoint{Verified: false, Message: err.Error()}
				continue
			}
			msgs[b.Line] = m
		}
		wants = append(wants, wantedBp{
			key: fmt.Sprint(b.Line),
			loc: api.Breakpoint{File: s.opts.toServer(path), Line: b.Line, Cond: b.Condition, HitCond: b.HitCondition},
		})
	}
	s.bps.mu.Lock()
	existing := map[string]int{}
	for line, id := range s.bps.source[path] {
		existing[fmt.Sprint(line)] = id
	}
	s.bps.mu.Unlock()
	synced, kept := s.syncBreakpoints(existing, wants)
	for _, id := range existing {
		s.bps.setLogMessage(id, nil)
	}
	lines := map[int]int{}
	for _, b := range r.Arguments.Breakpoints {
		if id, ok := kept[fmt.Sprint(b.Line)]; ok {
			lines[b.Line] = id
			s.bps.setLogMessage(id, msgs[b.Line])
		}
	}
	// The answers in the order of the request, unparsable logpoints in
	// their places.
	out := make([]dap.Breakpoint, 0, len(r.Arguments.Breakpoints))
	for i := range r.Arguments.Breakpoints {
		if bad, ok := badLog[i]; ok {
			out = append(out, bad)
			continue
		}
		out = append(out, synced[0])
		synced = synced[1:]
	}
	s.bps.mu.Lock()
	s.bps.source[path] = lines
	s.bps.mu.Unlock()
	s.syncKernelLogs() // the target is halted for the whole request (dispatchRunning)
	s.send(&dap.SetBreakpointsResponse{Response: s.response(r.Request), Body: dap.SetBreakpointsResponseBody{Breakpoints: out}})
}

// onSetFunctionBreakpoints sets breakpoints by location spec: a function
// ("main.add"), "func:line" or "file:line", as Delve accepts.
func (s *session) onSetFunctionBreakpoints(r *dap.SetFunctionBreakpointsRequest) {
	wants := make([]wantedBp, 0, len(r.Arguments.Breakpoints))
	for _, b := range r.Arguments.Breakpoints {
		wants = append(wants, wantedBp{
			key:     b.Name,
			loc:     api.Breakpoint{Cond: b.Condition, HitCond: b.HitCondition},
			locExpr: b.Name,
		})
	}
	s.bps.mu.Lock()
	existing := map[string]int{}
	for name, id := range s.bps.funcs {
		existing[name] = id
	}
	s.bps.mu.Unlock()
	for i, w := range wants {
		if w.locExpr == "" {
			wants[i].locExpr = " " // an empty spec would fall back to the zero location
		}
	}
	out, kept := s.syncBreakpoints(existing, wants)
	s.bps.mu.Lock()
	s.bps.funcs = kept
	s.bps.mu.Unlock()
	s.send(&dap.SetFunctionBreakpointsResponse{Response: s.response(r.Request), Body: dap.SetFunctionBreakpointsResponseBody{Breakpoints: out}})
}

// onSetInstructionBreakpoints sets breakpoints at addresses, as VS Code's
// disassembly view asks for them: instructionReference (an address) plus
// offset bytes.
func (s *session) onSetInstructionBreakpoints(r *dap.SetInstructionBreakpointsRequest) {
	wants := make([]wantedBp, 0, len(r.Arguments.Breakpoints))
	bad := map[int]dap.Breakpoint{}
	for i, b := range r.Arguments.Breakpoints {
		addr, err := strconv.ParseUint(b.InstructionReference, 0, 64)
		if err != nil {
			bad[i] = dap.Breakpoint{Message: fmt.Sprintf("invalid instructionReference %q", b.InstructionReference)}
			continue
		}
		addr = uint64(int64(addr) + int64(b.Offset))
		wants = append(wants, wantedBp{key: fmt.Sprintf("%#x", addr),
			loc: api.Breakpoint{Addr: addr, Cond: b.Condition, HitCond: b.HitCondition}})
	}
	synced := s.replaceBreakpoints(&s.bps.insts, wants)
	out := make([]dap.Breakpoint, 0, len(r.Arguments.Breakpoints))
	for i := range r.Arguments.Breakpoints {
		if b, ok := bad[i]; ok {
			out = append(out, b)
			continue
		}
		b := synced[0]
		synced = synced[1:]
		if b.Verified {
			b.InstructionReference = wants[0].key
		}
		wants = wants[1:]
		out = append(out, b)
	}
	s.send(&dap.SetInstructionBreakpointsResponse{Response: s.response(r.Request), Body: dap.SetInstructionBreakpointsResponseBody{Breakpoints: out}})
}
