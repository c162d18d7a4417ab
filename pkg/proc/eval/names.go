package eval

import (
	"go/ast"
	"go/parser"
	"strings"
)

// UnknownNames returns the names in expr that nothing would resolve at the
// run-time pc (no local or argument visible there, no variable or integer
// constant of the function's package, no predeclared name or register),
// as the evaluator would report them: "x", or "pkg.x" for a name a
// package lacks. It reads no memory, so a tracer can reject a condition
// before it probes anything. Names in call and type position (functions,
// len, conversions, type assertions, composite types) are not looked at.
func (p *Program) UnknownNames(pc uint64, expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	s, err := p.PCScope(nil, nil, pc)
	if err != nil {
		return nil, err
	}
	if calls := p.BI.InlinedCallsAt(pc); len(calls) > 0 {
		s.root = calls[0].Offset // as LocateVars: the innermost inlined call's frame
	}
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	s.unknownIn([]ast.Expr{e}, add)
	return out, nil
}

// unknownIn adds the unknown names of each of es.
func (s *Scope) unknownIn(es []ast.Expr, add func(string)) {
	for _, e := range es {
		ast.Inspect(e, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				// A builtin, a conversion or a function: only the
				// arguments are names that must be in scope.
				s.unknownIn(n.Args, add)
				return false
			case *ast.TypeAssertExpr:
				s.unknownIn([]ast.Expr{n.X}, add)
				return false
			case *ast.CompositeLit:
				s.unknownIn(n.Elts, add)
				return false
			case *ast.KeyValueExpr:
				s.unknownIn([]ast.Expr{n.Value}, add)
				return false
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if name, bad := s.unknownSelector(x.Name, n.Sel.Name); bad {
						add(name)
					}
					return false
				}
				s.unknownIn([]ast.Expr{n.X}, add)
				return false
			case *ast.Ident:
				if !s.knownIdent(n.Name) {
					add(n.Name)
				}
			}
			return true
		})
	}
}

// knownIdent follows ident's order of lookups, without loading anything.
func (s *Scope) knownIdent(name string) bool {
	if s.hasLocal(name) {
		return true
	}
	switch name {
	case "nil", "true", "false":
		return true
	}
	if _, ok := registerNums[strings.TrimLeft(name, "_")]; ok {
		return true
	}
	if s.fn.CU == nil {
		return false
	}
	if s.isPackageVar(s.fn.CU.Name + "." + name) {
		return true
	}
	_, ok := s.namedConstant(s.fn.CU.Name+"."+name, name)
	return ok
}

// unknownSelector is selector's test of x.sel where x is a name: a
// variable's field (not checked here) or a package's variable.
func (s *Scope) unknownSelector(x, sel string) (string, bool) {
	if s.knownIdent(x) {
		return "", false
	}
	if _, ok := s.qualified(x, sel); ok {
		return "", false
	}
	if s.isPackage(x) {
		return x + "." + sel, true
	}
	return x, true
}

func (s *Scope) hasLocal(name string) bool {
	ents, err := s.entries()
	if err != nil {
		return false
	}
	for i := range ents {
		if n := ents[i].name; n == name || n == "&"+name {
			return true
		}
	}
	return false
}
