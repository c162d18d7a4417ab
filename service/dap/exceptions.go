package dap

import (
	"fmt"
	"go/constant"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// exceptionFilters are the exception breakpoints, Delve's default
// breakpoints under their names: both on unless the client says otherwise.
var exceptionFilters = []dap.ExceptionBreakpointsFilter{
	{Filter: debugger.UnrecoveredPanicName, Label: "Unrecovered Panics", Default: true},
	{Filter: debugger.FatalThrowName, Label: "Fatal Throws", Default: true},
}

// onSetExceptionBreakpoints enables the default breakpoints the filters
// name and disables the others; the response lists those enabled.
func (s *session) onSetExceptionBreakpoints(r *dap.SetExceptionBreakpointsRequest) {
	enabled := map[string]bool{}
	for _, f := range r.Arguments.Filters {
		enabled[f] = true
	}
	bps, err := s.dbg.Breakpoints()
	if err != nil {
		s.sendError(r.Request, errSetBreakpoints, "Unable to set exception breakpoints", err.Error(), false)
		return
	}
	// Delve's order: unrecovered-panic (-1), then runtime-fatal-throw (-2).
	sort.Slice(bps, func(i, j int) bool { return bps[i].ID > bps[j].ID })
	resp := &dap.SetExceptionBreakpointsResponse{Response: s.response(r.Request)}
	for _, bp := range bps {
		if bp.ID >= 0 {
			continue
		}
		if bp.Disabled == enabled[bp.Name] {
			// Toggled rather than amended: amending checks the name,
			// and Delve's names of these have dashes.
			if bp, err = s.dbg.ToggleBreakpoint(bp.ID, ""); err != nil {
				s.sendError(r.Request, errSetBreakpoints, "Unable to set exception breakpoints", err.Error(), false)
				return
			}
		}
		if !bp.Disabled {
			resp.Body.Breakpoints = append(resp.Body.Breakpoints, s.dapBreakpoint(bp, nil))
		}
	}
	s.send(resp)
}

// exception describes a stop on an exception breakpoint: its DAP id
// ("panic", "fatal error") and the panic value or throw reason; ok is
// false for any other stop.
func (s *session) exception(th *api.Thread) (id, text string, ok bool) {
	if th == nil || th.Breakpoint == nil {
		return "", "", false
	}
	switch th.Breakpoint.ID {
	case debugger.UnrecoveredPanicID:
		return "panic", s.panicValue(th), true
	case debugger.FatalThrowID:
		// runtime.throw(s string) and its siblings name the reason s.
		v, err := s.dbg.Eval(th.GoroutineID, 0, "s", loadConfig)
		if err != nil {
			return "fatal error", "", true
		}
		return "fatal error", valueText(v), true
	}
	return "", "", false
}

// panicValue is the value given to panic. By the time the runtime is in
// fatalpanic, an error or Stringer has been turned into its message.
func (s *session) panicValue(th *api.Thread) string {
	if v, err := s.dbg.Eval(th.GoroutineID, 0, "msgs.arg", loadConfig); err == nil {
		return valueText(v)
	}
	if info := th.BreakpointInfo; info != nil && len(info.Variables) > 0 {
		return valueText(&info.Variables[0]) // runtime.curg._panic.arg
	}
	return ""
}

// valueText shows a basic value (in an interface or not) as Delve's
// exception texts do: strings quoted and shortened as go/constant does,
// numbers and booleans as they are; "" for anything else.
func valueText(v *api.Variable) string {
	if v.Kind == reflect.Interface && len(v.Children) > 0 {
		v = &v.Children[0]
	}
	switch v.Kind {
	case reflect.String:
		return constant.MakeString(v.Value).String()
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return v.Value
	}
	return ""
}

// onExceptionInfo describes the exception goroutine threadId stopped on:
// an exception breakpoint, or the error of the last command.
func (s *session) onExceptionInfo(r *dap.ExceptionInfoRequest) {
	goid := int64(r.Arguments.ThreadId)
	fail := func(details string) {
		s.sendError(r.Request, errExceptionInfo, "Unable to get exception info", details, false)
	}
	st, err := s.dbg.State(true)
	if err != nil {
		fail(err.Error())
		return
	}
	var body dap.ExceptionInfoResponseBody
	found := false
	for _, th := range st.Threads {
		// A stop outside any goroutine (a throw on the system stack) was
		// reported as thread 1, DAP needing one.
		outside := th.GoroutineID == 0 && goid == 1 && th == st.CurrentThread
		if th.GoroutineID != goid && !outside {
			continue
		}
		if id, text, ok := s.exception(th); ok {
			body.ExceptionId, body.Description, found = id, text, true
		}
	}
	if !found {
		cur := st.CurrentThread
		lastErr, _ := s.lastErr.Load().(string)
		if lastErr == "" || cur == nil || cur.GoroutineID != goid {
			fail(fmt.Sprintf("no exception found for goroutine %d", goid))
			return
		}
		body.ExceptionId, body.Description = "runtime error", lastErr
	}
	body.Details = &dap.ExceptionDetails{StackTrace: s.exceptionStack(goid)}
	s.send(&dap.ExceptionInfoResponse{Response: s.response(r.Request), Body: body})
}

// exceptionStack prints the goroutine's stack as Delve's exceptionInfo
// does: "Stack:", then each frame's number, pc, function and position,
// leaving out the runtime's frames of a user goroutine.
func (s *session) exceptionStack(goid int64) string {
	frames, err := s.dbg.Stacktrace(goid, s.opts.stackDepth, 0, nil)
	if err != nil {
		return fmt.Sprintf("Error getting stack trace: %s", err)
	}
	user := false
	for _, f := range frames {
		if !strings.HasPrefix(f.Function.Name(), "runtime.") {
			user = true
		}
	}
	var b strings.Builder
	b.WriteString("Stack:\n")
	for i, f := range frames {
		if user && strings.HasPrefix(f.Function.Name(), "runtime.") {
			continue
		}
		fmt.Fprintf(&b, "\t%d  %#016x in %s\n\t    at %s:%d\n", i, f.PC, f.Function.Name(), s.opts.toClient(filepath.ToSlash(f.File)), f.Line)
	}
	return b.String()
}
