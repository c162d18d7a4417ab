package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/types"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// CallResult is what an injected call returned, kept so that the call can
// stand for its value in a larger expression ("add(1, 2) + 3", an argument
// of another call): the bytes of each result, copied when it returned.
type CallResult struct {
	Types  []godwarf.Type
	Values [][]byte
	Fn     string
}

// Pointers lists the addresses the results hold (pointers, string and
// slice data, and the like, at their top level): what must stay alive
// while only the debugger refers to them.
func (r CallResult) Pointers() []uint64 {
	var out []uint64
	for i, b := range r.Values {
		for _, p := range pointersIn("", r.Types[i], b) {
			out = append(out, p.Addr)
		}
	}
	return out
}

// ProgramCalls parses expr and returns it with its calls of program
// functions (not conversions or builtins) in the order to inject them:
// Go's and Delve's, left to right, each after the calls among its own
// function expression and arguments.
func (s *Scope) ProgramCalls(expr string) (ast.Expr, []*ast.CallExpr, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, nil, err
	}
	// Post-order: Inspect reports leaving a node with nil, after its
	// children (a call's function, then its arguments in order).
	var open []ast.Node
	var out []*ast.CallExpr
	ast.Inspect(e, func(n ast.Node) bool {
		if n != nil {
			open = append(open, n)
			return true
		}
		last := open[len(open)-1]
		open = open[:len(open)-1]
		if c, ok := last.(*ast.CallExpr); ok && !s.isConversionOrBuiltin(c) {
			out = append(out, c)
		}
		return true
	})
	return e, out, nil
}

// SetCallResult records what call returned, for the evaluation of the
// expressions around it in this scope.
func (s *Scope) SetCallResult(call *ast.CallExpr, r CallResult) {
	if s.results == nil {
		s.results = map[*ast.CallExpr]CallResult{}
	}
	s.results[call] = r
}

// resultValue is the value of a call made already: its one result.
func (s *Scope) resultValue(e *ast.CallExpr, r CallResult) (*evalValue, error) {
	switch len(r.Values) {
	case 1:
	case 0:
		return nil, errors.New("no return values") // Delve's words
	default:
		return nil, fmt.Errorf("multiple-value %s (value of %d results) in single-value context", types.ExprString(e), len(r.Values))
	}
	addr, err := s.mem.Alloc(r.Values[0])
	if err != nil {
		return nil, err
	}
	return &evalValue{name: types.ExprString(e), typ: r.Types[0], addr: addr, reg: -1}, nil
}

// EvalParsed is Eval of an expression ProgramCalls parsed, whose calls
// have their results set; name names the value.
func (s *Scope) EvalParsed(e ast.Expr, name string, cfg value.LoadConfig) (*value.Variable, error) {
	if e == nil {
		return nil, errors.New("no expression")
	}
	s.mem.Reset()
	s.depth, s.work = 0, 0
	v, err := s.eval(e)
	if err != nil {
		return nil, err
	}
	return s.load(v, name, cfg), nil
}
