package dap

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// onScopes lists a frame's scopes as Delve does: one "Locals" scope with
// the arguments first, then the results (~r0…) and the locals; with
// showGlobalVariables the package variables of the frame's package; with
// showRegisters the frame's registers.
func (s *session) onScopes(r *dap.ScopesRequest) {
	f, ok := s.state.frame(r.Arguments.FrameId)
	if !ok {
		s.sendError(r.Request, errListLocals, "Unable to list locals", fmt.Sprintf("unknown frame id %d", r.Arguments.FrameId), false)
		return
	}
	name := "Locals"
	if f.fn != nil && f.fn.Optimized {
		name += " (warning: optimized function)"
	}
	locals := &varRef{frameRef: f, scope: scopeLocals}
	scopes := []dap.Scope{{Name: name, VariablesReference: s.state.addVar(locals)}}
	if s.opts.showGlobals {
		pkg := packageOf(f.fn.Name())
		globals, err := s.dbg.PackageVariables("^"+regexp.QuoteMeta(pkg)+`\.`, loadConfig)
		if err != nil {
			s.sendError(r.Request, errListGlobals, "Unable to list globals", err.Error(), false)
			return
		}
		children := []dap.Variable{}
		shown := make([]api.Variable, len(globals)) // as named in the scope, for dataBreakpointInfo
		for i := range globals {
			g := &globals[i]
			// The package is named once, in the scope.
			children = append(children, s.dapVar(strings.TrimPrefix(g.Name, pkg+"."), g.Name, g, f))
			shown[i] = *g
			shown[i].Name = children[i].Name
		}
		scopeName := fmt.Sprintf("Globals (package %s)", pkg)
		ref := &varRef{frameRef: f, children: children, v: &api.Variable{Name: scopeName, Children: shown}}
		scopes = append(scopes, dap.Scope{Name: scopeName, VariablesReference: s.state.addVar(ref)})
	}
	if s.opts.showRegisters {
		regs, err := s.dbg.ScopeRegisters(f.goid, f.frame, false)
		if err != nil {
			s.sendError(r.Request, errListRegisters, "Unable to list registers", err.Error(), false)
			return
		}
		children := []dap.Variable{}
		for _, reg := range regs {
			// Delve's names: lower case, right-aligned in six columns so
			// that the values line up. No evaluateName: Delve's is _RIP,
			// a pseudo-variable tinydbg's expressions do not have.
			children = append(children, dap.Variable{Name: fmt.Sprintf("%6s", strings.ToLower(reg.Name)), Value: reg.Value})
		}
		ref := &varRef{frameRef: f, children: children}
		scopes = append(scopes, dap.Scope{Name: "Registers", VariablesReference: s.state.addVar(ref)})
	}
	s.send(&dap.ScopesResponse{Response: s.response(r.Request), Body: dap.ScopesResponseBody{Scopes: scopes}})
}

// packageOf is the package path of a qualified function name:
// "main" for main.(*T).M, "a/b/c" for a/b/c.F, "a/b.c" for a/b.c.F.
func packageOf(fn string) string {
	head := fn
	if i := strings.IndexByte(head, '['); i >= 0 {
		head = head[:i] // type arguments hold paths of their own
	}
	slash := strings.LastIndexByte(head, '/')
	if i := strings.IndexByte(head[slash+1:], '.'); i >= 0 {
		return head[:slash+1+i]
	}
	return head
}
