package dap

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// loadConfig is Delve's DAP load configuration: one level of children,
// followed pointers; deeper levels load when the user expands them.
var loadConfig = api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 512, MaxArrayValues: 64, MaxStructFields: -1}

// maxSingleStringLen is how much of a string an evaluate in the REPL or a
// hover loads: a single value can afford more than a list of locals.
const maxSingleStringLen = 4 << 10

// maxValueLen bounds the one-line value of an expandable variable; its
// children show the rest.
const maxValueLen = 1 << 8

func (s *session) onVariables(r *dap.VariablesRequest) {
	ref, ok := s.state.variable(r.Arguments.VariablesReference)
	if !ok {
		s.sendError(r.Request, errLookupVariable, "Unable to lookup variable", fmt.Sprintf("unknown reference %d", r.Arguments.VariablesReference), false)
		return
	}
	children, err := s.childrenOf(ref)
	if err != nil {
		s.sendError(r.Request, errListLocals, "Unable to list variables", err.Error(), false)
		return
	}
	if start := r.Arguments.Start; start > 0 || r.Arguments.Count > 0 {
		start = min(start, len(children))
		end := len(children)
		if c := r.Arguments.Count; c > 0 && start+c < end {
			end = start + c
		}
		children = children[start:end]
	}
	s.send(&dap.VariablesResponse{Response: s.response(r.Request), Body: dap.VariablesResponseBody{Variables: children}})
}

// childrenOf converts the children of ref, loading a scope afresh.
func (s *session) childrenOf(ref *varRef) ([]dap.Variable, error) {
	if ref.scope != notScope {
		vars, err := s.scopeVars(ref)
		if err != nil {
			return nil, err
		}
		out := []dap.Variable{}
		for i := range vars {
			v := &vars[i]
			name := v.Name
			if v.Flags&api.VariableShadowed != 0 {
				name = "(" + name + ")" // an outer variable hidden by an inner one
			}
			expr := v.Name
			if strings.HasPrefix(v.Name, "~") || v.Flags&api.VariableShadowed != 0 {
				expr = "" // no expression names it
			}
			out = append(out, s.dapVar(name, expr, v, ref.frameRef))
		}
		return out, nil
	}
	if ref.children != nil {
		return ref.children, nil
	}
	v := ref.v
	out := []dap.Variable{}
	switch v.Kind {
	case reflect.Map:
		for i := 0; i+1 < len(v.Children); i += 2 {
			out = append(out, s.mapEntry(ref, i/2, &v.Children[i], &v.Children[i+1])...)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Children {
			out = append(out, s.dapVar(fmt.Sprintf("[%d]", i), childExpr(ref.expr, "[%d]", i), &v.Children[i], ref.frameRef))
		}
	default:
		for i := range v.Children {
			c := &v.Children[i]
			expr := ""
			switch {
			case ref.expr == "" || strings.HasPrefix(c.Name, "~") || strings.HasPrefix(c.Name, "."):
			case v.Kind == reflect.Ptr:
				expr = "(*" + ref.expr + ")"
			case v.Kind == reflect.Interface:
				expr = fmt.Sprintf("%s.(%s)", ref.expr, c.Type)
			case v.Kind == reflect.Struct:
				expr = ref.expr + "." + c.Name
			}
			out = append(out, s.dapVar(c.Name, expr, c, ref.frameRef))
		}
	}
	ref.children = out
	return out, nil
}

// childExpr appends an index to a parent expression, "" without one.
func childExpr(parent, format string, args ...any) string {
	if parent == "" {
		return ""
	}
	return parent + fmt.Sprintf(format, args...)
}

// mapEntry shows one key/value pair: as "key: value" when either side is
// plain, as two expandable entries when both are composite.
func (s *session) mapEntry(ref *varRef, n int, key, val *api.Variable) []dap.Variable {
	valExpr := ""
	switch key.Kind {
	case reflect.String:
		if int64(len(key.Value)) == key.Len {
			valExpr = childExpr(ref.expr, "[%q]", key.Value)
		}
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		valExpr = childExpr(ref.expr, "[%s]", api.ExtractIntValue(key.Value))
	}
	k := s.dapVar("", "", key, ref.frameRef)
	v := s.dapVar("", valExpr, val, ref.frameRef)
	if k.VariablesReference > 0 && v.VariablesReference > 0 {
		k.Name, v.Name = fmt.Sprintf("[key %d]", n), fmt.Sprintf("[val %d]", n)
		return []dap.Variable{k, v}
	}
	entry := v
	entry.Name = k.Value
	if k.Type != "" && v.Type != "" {
		entry.Type = k.Type + ": " + v.Type
	}
	if k.VariablesReference > 0 {
		if len(entry.Name) > 64 {
			entry.Name = fmt.Sprintf("%s... @ %#x", entry.Name[:64], key.Addr)
		}
		entry.VariablesReference = k.VariablesReference
	}
	return []dap.Variable{entry}
}

// dapVar converts one value, giving it a handle when it can be expanded.
func (s *session) dapVar(name, expr string, v *api.Variable, f frameRef) dap.Variable {
	value, ref := s.convert(v, expr, f, false)
	out := dap.Variable{Name: name, Value: value, EvaluateName: expr, VariablesReference: ref, MemoryReference: memoryReference(v)}
	if s.clientCaps.SupportsVariableType {
		out.Type = typeOf(v)
	}
	return out
}

// memoryReference is where a string's or a slice's bytes are, as Delve
// offers them to a memory view ("" for other values, as in Delve).
func memoryReference(v *api.Variable) string {
	if v.Unreadable != "" || (v.Kind != reflect.String && v.Kind != reflect.Slice) {
		return ""
	}
	addr := v.Addr
	if v.Base != 0 {
		addr = v.Base
	}
	return fmt.Sprintf("%#x", addr)
}

// typeOf is the type shown next to a value; an interface shows its
// dynamic type too.
func typeOf(v *api.Variable) string {
	if v.Kind == reflect.Interface && len(v.Children) > 0 && v.Children[0].Kind != reflect.Invalid {
		return fmt.Sprintf("%s(%s)", v.Type, v.Children[0].Type)
	}
	return v.Type
}

// convert renders v on one line and, for a value with children, makes a
// handle for them. A value whose children were not loaded (deeper than
// the load configuration reaches) is loaded again through expr first, so
// that both its line and its children are complete.
func (s *session) convert(v *api.Variable, expr string, f frameRef, fullValue bool) (string, int) {
	if v.Unreadable == "" && expr != "" && notLoaded(v) {
		if nv, err := s.dbg.Eval(f.goid, f.frame, expr, loadConfig); err == nil {
			nv.Name = v.Name
			*v = *nv
		}
	}
	value := v.SinglelineStringWithShortTypes()
	if v.Unreadable != "" {
		return value, 0
	}
	expandable := false
	switch v.Kind {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(api.ExtractIntValue(v.Value), 10, 64); err == nil {
			value = fmt.Sprintf("%s = %#x", value, n)
		}
	case reflect.Ptr:
		expandable = len(v.Children) > 0 && v.Children[0].Addr != 0 && v.Children[0].Kind != reflect.Invalid && !v.Children[0].OnlyAddr
	case reflect.Interface:
		expandable = len(v.Children) > 0 && v.Children[0].Kind != reflect.Invalid && !v.Children[0].OnlyAddr && hasChildren(&v.Children[0])
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct, reflect.Func, reflect.Chan:
		expandable = len(v.Children) > 0
	}
	if !expandable {
		return value, 0
	}
	if len(value) > maxValueLen && !fullValue {
		value = value[:maxValueLen] + "..."
	}
	return value, s.state.addVar(&varRef{frameRef: f, v: v, expr: expr})
}

// hasChildren says whether an interface's data is worth expanding.
func hasChildren(v *api.Variable) bool {
	switch v.Kind {
	case reflect.Ptr, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct, reflect.Interface, reflect.Chan:
		return true
	}
	return false
}

// notLoaded reports a composite value whose children the load
// configuration did not reach.
func notLoaded(v *api.Variable) bool {
	switch v.Kind {
	case reflect.Ptr, reflect.Interface:
		// A pointer whose target is an unloaded composite would read
		// "*(*T)(0x...)": loading it is one evaluation, and the line
		// then shows the fields.
		return len(v.Children) > 0 && v.Children[0].Addr != 0 &&
			(v.Children[0].OnlyAddr || v.Kind == reflect.Ptr && notLoaded(&v.Children[0]))
	case reflect.Struct:
		return v.Len > 0 && len(v.Children) == 0
	case reflect.Slice, reflect.Map:
		return v.Len > 0 && len(v.Children) == 0 && v.Base != 0
	case reflect.Array:
		return v.Len > 0 && len(v.Children) == 0
	}
	return false
}

// callExpr recognizes Delve's "call f(x)" (call.go).
var callExpr = regexp.MustCompile(`^\s*call\s+\S+`)

func (s *session) onEvaluate(r *dap.EvaluateRequest) {
	ctx := r.Arguments.Context
	// Errors of watches, hovers and the REPL show where they were asked;
	// others deserve a dialog.
	showUser := ctx != "watch" && ctx != "repl" && ctx != "hover"
	f := frameRef{goid: -1}
	if r.Arguments.FrameId != 0 {
		fr, ok := s.state.frame(r.Arguments.FrameId)
		if !ok {
			s.sendError(r.Request, errEvaluate, "Unable to evaluate expression", fmt.Sprintf("unknown frame id %d", r.Arguments.FrameId), showUser)
			return
		}
		f = fr
	}
	expr := r.Arguments.Expression
	if callExpr.MatchString(expr) {
		s.evaluateCall(r, f, expr, showUser)
		return
	}
	v, err := s.dbg.Eval(f.goid, f.frame, expr, loadConfig)
	if err != nil {
		s.sendError(r.Request, errEvaluate, "Unable to evaluate expression", err.Error(), showUser)
		return
	}
	switch ctx {
	case "repl", "variables", "hover", "clipboard":
		if v.Kind == reflect.String && v.Unreadable == "" && int64(len(v.Value)) < v.Len {
			cfg := loadConfig
			cfg.MaxStringLen = maxSingleStringLen
			if more, err := s.dbg.Eval(f.goid, f.frame, expr, cfg); err == nil {
				v = more
			}
		}
	}
	full := ctx == "clipboard" || ctx == "variables"
	value, ref := s.convert(v, "("+expr+")", f, full)
	body := dap.EvaluateResponseBody{Result: value, VariablesReference: ref}
	if s.clientCaps.SupportsVariableType {
		body.Type = typeOf(v)
	}
	s.send(&dap.EvaluateResponse{Response: s.response(r.Request), Body: body})
}

func (s *session) onSetVariable(r *dap.SetVariableRequest) {
	fail := func(details string) {
		s.sendError(r.Request, errSetVariable, "Unable to set variable", details, true)
	}
	ref, ok := s.state.variable(r.Arguments.VariablesReference)
	if !ok {
		fail(fmt.Sprintf("unknown reference %d", r.Arguments.VariablesReference))
		return
	}
	children, err := s.childrenOf(ref)
	if err != nil {
		fail(err.Error())
		return
	}
	expr := ""
	for _, c := range children {
		if c.Name == r.Arguments.Name {
			expr = c.EvaluateName
			break
		}
	}
	if expr == "" {
		fail(fmt.Sprintf("%s cannot be set: no expression names it", r.Arguments.Name))
		return
	}
	err = s.dbg.Set(ref.goid, ref.frame, expr, r.Arguments.Value)
	s.state.forgetThreads() // the value may be a goroutine's, or its labels
	if err != nil {
		fail(err.Error())
		return
	}
	v, err := s.dbg.Eval(ref.goid, ref.frame, expr, loadConfig)
	if err != nil {
		fail(err.Error())
		return
	}
	// The container's children are stale now; load them again when asked.
	ref.children = nil
	if ref.scope == notScope && ref.expr != "" {
		if nv, err := s.dbg.Eval(ref.goid, ref.frame, ref.expr, loadConfig); err == nil {
			ref.v = nv
		}
	}
	value, vref := s.convert(v, expr, ref.frameRef, false)
	body := dap.SetVariableResponseBody{Value: value, VariablesReference: vref}
	if s.clientCaps.SupportsVariableType {
		body.Type = typeOf(v)
	}
	s.send(&dap.SetVariableResponse{Response: s.response(r.Request), Body: body})
}
