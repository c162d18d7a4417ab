package dap

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

const errDataBreakpointInfo = 2017 // Delve's UnableToGetDataBreakpointInfo

// dataAccessTypes are the accesses a data breakpoint can trap, as Delve
// offers them: the hardware traps reads (with writes) or writes.
var dataAccessTypes = []dap.DataBreakpointAccessType{"read", "write", "readWrite"}

// onDataBreakpointInfo names what a data breakpoint would watch. The
// dataId has Delve's form "goid,frame,expression": a variable of a
// listed scope or value is named by its address (so that the watch does
// not depend on where it is evaluated), a bare name is evaluated in the
// frame given, or as a package variable without one.
func (s *session) onDataBreakpointInfo(r *dap.DataBreakpointInfoRequest) {
	fail := func(details string) {
		s.sendError(r.Request, errDataBreakpointInfo, "Could not get data breakpoint info", details, false)
	}
	args := r.Arguments
	goid, frame := int64(-1), 0
	var expr, descr string
	if args.VariablesReference != 0 {
		ref, ok := s.state.variable(args.VariablesReference)
		if !ok {
			fail(fmt.Sprintf("variable reference %d unknown", args.VariablesReference))
			return
		}
		children, err := s.apiChildren(ref)
		if err != nil {
			fail(err.Error())
			return
		}
		var child *api.Variable
		for i := range children {
			if children[i].Name == args.Name {
				child = &children[i]
				break
			}
		}
		switch {
		case child == nil:
			fail(fmt.Sprintf("field %s not found", args.Name))
			return
		case child.Unreadable != "":
			fail(fmt.Sprintf("field %s is unreadable: %s", args.Name, child.Unreadable))
			return
		}
		expr = s.watchExprOf(ref, child)
		descr = "Locals." + args.Name // Delve names the scope's variable "Locals"
		if ref.v != nil {
			descr = ref.v.Name + "." + args.Name
		}
	} else {
		if f, ok := s.state.frame(args.FrameId); ok {
			goid, frame = f.goid, f.frame
		}
		expr, descr = args.Name, args.Name
	}
	s.send(&dap.DataBreakpointInfoResponse{Response: s.response(r.Request), Body: dap.DataBreakpointInfoResponseBody{
		DataId:      fmt.Sprintf("%d,%d,%s", goid, frame, expr),
		AccessTypes: dataAccessTypes,
		Description: descr,
	}})
}

// apiChildren is what ref lists, as the debugger gave it: a scope is
// loaded afresh.
func (s *session) apiChildren(ref *varRef) ([]api.Variable, error) {
	if ref.scope != notScope {
		return s.scopeVars(ref)
	}
	if ref.v == nil {
		return nil, nil
	}
	return ref.v.Children, nil
}

// scopeVars loads the variables of a Locals scope in Delve's layout: the
// arguments (results ~r0… among them) first, then the locals, in one list.
func (s *session) scopeVars(ref *varRef) ([]api.Variable, error) {
	vars, err := s.dbg.FunctionArguments(ref.goid, ref.frame, loadConfig)
	if err != nil {
		return nil, fmt.Errorf("listing the arguments: %w", err)
	}
	locals, err := s.dbg.LocalVariables(ref.goid, ref.frame, loadConfig)
	if err != nil {
		return nil, fmt.Errorf("listing the locals: %w", err)
	}
	return append(vars, locals...), nil
}

// watchExprOf names child by its memory, as Delve does, when its size
// is known from its kind; otherwise (a struct or an array, whose size the
// wire does not carry) by an expression that reaches it from ref.
func (s *session) watchExprOf(ref *varRef, child *api.Variable) string {
	if size := kindSize(child.Kind); size > 0 && child.Addr != 0 {
		return fmt.Sprintf("*(*[%d]byte)(%#x)", size, child.Addr)
	}
	if ref.scope != notScope || ref.expr == "" {
		return child.Name
	}
	return ref.expr + "." + child.Name
}

// kindSize is the size of a value of kind k on amd64, 0 when the kind
// alone does not say.
func kindSize(k reflect.Kind) int {
	switch k {
	case reflect.Bool, reflect.Int8, reflect.Uint8:
		return 1
	case reflect.Int16, reflect.Uint16:
		return 2
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return 4
	case reflect.Int, reflect.Uint, reflect.Int64, reflect.Uint64, reflect.Uintptr, reflect.Float64,
		reflect.Complex64, reflect.Ptr, reflect.UnsafePointer, reflect.Chan, reflect.Map, reflect.Func:
		return 8
	case reflect.Complex128, reflect.String, reflect.Interface:
		return 16
	case reflect.Slice:
		return 24
	}
	return 0
}

// parseDataID splits Delve's "goid,frame,expression".
func parseDataID(id string) (goid int64, frame int, expr string, err error) {
	parts := strings.SplitN(id, ",", 3)
	if len(parts) != 3 {
		return 0, 0, "", fmt.Errorf("malformed data ID: %q", id)
	}
	goid, err1 := strconv.ParseInt(parts[0], 0, 64)
	fr, err2 := strconv.ParseInt(parts[1], 0, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, "", fmt.Errorf("malformed data ID: %q", id)
	}
	return goid, int(fr), parts[2], nil
}

// accessWatchType maps a DAP access type to the watchpoint's.
func accessWatchType(access dap.DataBreakpointAccessType) (api.WatchType, error) {
	switch access {
	case "read":
		return api.WatchRead, nil
	case "write":
		return api.WatchWrite, nil
	case "readWrite":
		return api.WatchRead | api.WatchWrite, nil
	}
	return 0, fmt.Errorf("unknown access type: %q", access)
}

// onSetDataBreakpoints makes the watchpoints those of the request: the
// list replaces the previous one, each entry keyed by its dataId as
// Delve keys them (so a new access type for the same data is an amend of
// its conditions only, as in Delve).
func (s *session) onSetDataBreakpoints(r *dap.SetDataBreakpointsRequest) {
	wants := make([]wantedBp, 0, len(r.Arguments.Breakpoints))
	for _, b := range r.Arguments.Breakpoints {
		wants = append(wants, wantedBp{
			key: b.DataId,
			loc: api.Breakpoint{Cond: b.Condition, HitCond: b.HitCondition},
			create: func() (*api.Breakpoint, error) {
				goid, frame, expr, err := parseDataID(b.DataId)
				if err != nil {
					return nil, err
				}
				wtype, err := accessWatchType(b.AccessType)
				if err != nil {
					return nil, err
				}
				got, err := s.dbg.CreateWatchpoint(goid, frame, expr, wtype)
				if err != nil || (b.Condition == "" && b.HitCondition == "") {
					return got, err
				}
				amended, err := s.amendBreakpoint(got.ID, b.Condition, b.HitCondition)
				if err != nil {
					if _, cerr := s.dbg.ClearBreakpoint(got.ID, ""); cerr != nil {
						s.logf("clearing watchpoint %d: %v", got.ID, cerr)
					}
					return nil, err
				}
				return amended, nil
			},
		})
	}
	out := s.replaceBreakpoints(&s.bps.datas, wants)
	s.send(&dap.SetDataBreakpointsResponse{Response: s.response(r.Request), Body: dap.SetDataBreakpointsResponseBody{Breakpoints: out}})
}

// dataWhileRunning is Delve's answer to data breakpoint requests while
// the program runs.
const dataWhileRunning = "Can not set data breakpoints while the process is running"
