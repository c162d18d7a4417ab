package dap

import (
	"errors"
	"strings"

	"github.com/google/go-dap"
	"github.com/tinydbg/tinydbg/service/api"
)

// maxStringLenInCall is how much of a string result a call loads: the
// results are gone after the call, so more is loaded than for variables,
// as Delve does.
const maxStringLenInCall = 1 << 16

// evaluateCall serves evaluate "call f(x)", as Delve: the call is
// injected on the frame's goroutine and its results answer, joined in
// Result and expandable by name. A call that something else stopped first
// (a breakpoint) reports that stop and fails with "call stopped".
func (s *session) evaluateCall(r *dap.EvaluateRequest, f frameRef, expr string, showUser bool) {
	expr = strings.Replace(expr, "call ", "", 1)
	before, err := s.dbg.State(false)
	if err != nil {
		s.sendError(r.Request, errEvaluate, "Unable to evaluate expression", err.Error(), showUser)
		return
	}
	cfg := loadConfig
	cfg.MaxStringLen = maxStringLenInCall
	goid := f.goid
	if goid < 0 && before.SelectedGoroutine != nil {
		goid = before.SelectedGoroutine.ID
	}
	st, err := s.dbg.Command(api.DebuggerCommand{Name: api.Call, Expr: expr, GoroutineID: goid, ReturnInfoLoadConfig: &cfg}, nil)
	// The target ran the call: its goroutines may have come and gone.
	s.state.forgetThreads()
	if err == nil && st.Exited {
		s.reportStop(st, nil)
		err = errors.New("terminated")
	}
	if err != nil {
		s.sendError(r.Request, errEvaluate, "Unable to evaluate expression", err.Error(), showUser)
		return
	}
	var ret *api.Thread
	for _, th := range st.Threads {
		if th.GoroutineID == goid && th.CallReturn {
			ret = th
		}
	}
	if ret == nil {
		s.reportStop(st, nil)
		s.sendError(r.Request, errEvaluate, "Unable to evaluate expression", "call stopped", showUser)
		return
	}
	body := dap.EvaluateResponseBody{}
	if len(ret.ReturnValues) > 0 {
		vals := make([]string, 0, len(ret.ReturnValues))
		for i := range ret.ReturnValues {
			v, _ := s.convert(&ret.ReturnValues[i], "", f, false)
			vals = append(vals, v)
		}
		body.Result = strings.Join(vals, ", ")
		// One nameless value holds the results, so that each keeps its name.
		body.VariablesReference = s.state.addVar(&varRef{frameRef: f, v: &api.Variable{Children: ret.ReturnValues}})
	}
	s.send(&dap.EvaluateResponse{Response: s.response(r.Request), Body: body})
}
