package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// maxExprDepth bounds the nesting of an expression, so that a deeply
// nested input is an error instead of a deep recursion.
const maxExprDepth = 1000

// Eval evaluates the Go expression expr in the scope and loads the result
// under cfg. Syntax errors carry Go's position ("1:5: expected operand");
// unknown names give Delve's "could not find symbol value for X".
func (s *Scope) Eval(expr string, cfg value.LoadConfig) (*value.Variable, error) {
	s.mem.Reset()
	v, err := s.evalString(expr)
	if err != nil {
		return nil, err
	}
	return s.load(v, expr, cfg), nil
}

func (s *Scope) evalString(expr string) (*evalValue, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	s.depth, s.work = 0, 0
	return s.eval(e)
}

func (s *Scope) eval(e ast.Expr) (*evalValue, error) {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxExprDepth {
		return nil, errors.New("expression nested too deeply")
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		return s.literal(e)
	case *ast.Ident:
		return s.ident(e.Name)
	case *ast.ParenExpr:
		return s.eval(e.X)
	case *ast.SelectorExpr:
		return s.selector(e)
	case *ast.StarExpr:
		x, err := s.eval(e.X)
		if err != nil {
			return nil, err
		}
		return s.deref(x)
	case *ast.UnaryExpr:
		return s.unary(e)
	case *ast.BinaryExpr:
		return s.binary(e)
	case *ast.IndexExpr:
		return s.index(e)
	case *ast.SliceExpr:
		return s.slice(e)
	case *ast.TypeAssertExpr:
		return s.typeAssert(e)
	case *ast.CallExpr:
		return s.call(e)
	case *ast.CompositeLit:
		return s.composite(e)
	}
	return nil, fmt.Errorf("expression %T not supported", e)
}

func (s *Scope) literal(e *ast.BasicLit) (*evalValue, error) {
	c := constant.MakeFromLiteral(e.Value, e.Kind, 0)
	if c.Kind() == constant.Unknown {
		return nil, fmt.Errorf("invalid literal %s", e.Value)
	}
	return &evalValue{konst: c, isRune: e.Kind == token.CHAR, reg: -1}, nil
}

// ident resolves a name: locals first, then the current package's
// variables, then predeclared constants and CPU registers, as Delve does.
func (s *Scope) ident(name string) (*evalValue, error) {
	if v, ok := s.lookupLocal(name); ok {
		return v, nil
	}
	if s.fn.CU != nil {
		if v, ok := s.packageVar(s.fn.CU.Name + "." + name); ok {
			v.name = name
			return v, nil
		}
	}
	switch name {
	case "nil":
		return &evalValue{isNil: true, reg: -1}, nil
	case "true", "false":
		return &evalValue{konst: constant.MakeBool(name == "true"), reg: -1}, nil
	}
	if s.fn.CU != nil {
		if v, ok := s.namedConstant(s.fn.CU.Name+"."+name, name); ok {
			return v, nil
		}
	}
	if v, ok := s.register(name); ok {
		return v, nil
	}
	return nil, fmt.Errorf("could not find symbol value for %s", name)
}

// packageVar loads a package variable by its full name ("main.counter").
func (s *Scope) packageVar(full string) (*evalValue, bool) {
	pv, err := s.prog.BI.LookupPackageVar(full)
	if err != nil {
		return nil, false
	}
	v := &evalValue{name: full, addr: pv.Addr, reg: -1}
	if v.typ, err = s.prog.Types.Type(pv.Type); err != nil {
		v.unreadable = fmt.Errorf("could not read type of %s: %w", full, err)
	}
	return v, true
}

// registerNums maps upper-case register names to DWARF numbers.
var registerNums = func() map[string]int {
	m := map[string]int{}
	for n := 0; n < regnum.Count; n++ {
		name := regnum.Name(n)
		if !strings.HasPrefix(name, "r?") {
			m[strings.ToUpper(name)] = n
		}
	}
	return m
}()

// register reads a CPU register of the frame as a uint64; any number of
// leading underscores is allowed (Delve's way around shadowing).
func (s *Scope) register(name string) (*evalValue, bool) {
	n, ok := registerNums[strings.TrimLeft(name, "_")]
	if !ok {
		return nil, false
	}
	val, ok := s.regs.Reg(uint64(n))
	if !ok {
		return &evalValue{name: name, reg: -1, unreadable: fmt.Errorf("register %s unavailable in this frame", name)}, true
	}
	u64, err := s.basicType("uint64")
	if err != nil {
		return nil, false
	}
	v, err := s.store(constant.MakeUint64(val), u64, name)
	if err != nil {
		return &evalValue{name: name, reg: -1, unreadable: err}, true
	}
	v.reg = n
	return v, true
}

// selector handles package-qualified names and field access.
func (s *Scope) selector(e *ast.SelectorExpr) (*evalValue, error) {
	switch x := e.X.(type) {
	case *ast.Ident:
		_, local := s.lookupLocal(x.Name)
		if !local && (s.fn.CU == nil || !s.isPackageVar(s.fn.CU.Name+"."+x.Name)) {
			if v, ok := s.qualified(x.Name, e.Sel.Name); ok {
				return v, nil
			}
			{
				if _, isReg := registerNums[strings.TrimLeft(x.Name, "_")]; !isReg {
					if s.isPackage(x.Name) {
						return nil, fmt.Errorf("could not find symbol value for %s.%s", x.Name, e.Sel.Name)
					}
					return nil, fmt.Errorf("could not find symbol value for %s", x.Name)
				}
			}
		}
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			path, err := strconv.Unquote(x.Value)
			if err != nil {
				return nil, err
			}
			if v, ok := s.packageVar(path + "." + e.Sel.Name); ok {
				return v, nil
			}
			return nil, fmt.Errorf("could not find symbol value for %s.%s", x.Value, e.Sel.Name)
		}
	}
	xv, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	return s.field(xv, e.Sel.Name)
}

// isPackage reports whether name is the last element of a package path.
func (s *Scope) isPackage(name string) bool {
	if s.prog.BI.CompileUnitByName(name) != nil {
		return true
	}
	units, _ := s.prog.BI.CompileUnits()
	for _, cu := range units {
		if strings.HasSuffix(cu.Name, "/"+name) {
			return true
		}
	}
	return false
}

func (s *Scope) isPackageVar(full string) bool {
	_, err := s.prog.BI.LookupPackageVar(full)
	return err == nil
}

// qualified resolves pkg.name where pkg is a package's last path element.
func (s *Scope) qualified(pkg, name string) (*evalValue, bool) {
	if v, ok := s.packageVar(pkg + "." + name); ok {
		v.name = pkg + "." + name
		return v, true
	}
	units, err := s.prog.BI.CompileUnits()
	if err != nil {
		return nil, false
	}
	for _, cu := range units {
		if strings.HasSuffix(cu.Name, "/"+pkg) {
			if v, ok := s.packageVar(cu.Name + "." + name); ok {
				return v, true
			}
		}
	}
	return s.namedConstant(pkg+"."+name, pkg+"."+name)
}

// deref follows a pointer.
func (s *Scope) deref(x *evalValue) (*evalValue, error) {
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if x.isNil {
		return nil, errors.New("nil pointer dereference")
	}
	pt, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.PtrType)
	if !ok || pt.Elem == nil {
		return nil, fmt.Errorf("expression %q (%s) can not be dereferenced", x.name, x.typeName())
	}
	p, err := readWord(s.mem, x.addr)
	if err != nil {
		return nil, err
	}
	if p == 0 {
		return nil, errors.New("nil pointer dereference")
	}
	return &evalValue{name: "*" + x.name, typ: pt.Elem, addr: p, reg: -1}, nil
}

func (s *Scope) unary(e *ast.UnaryExpr) (*evalValue, error) {
	x, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if e.Op == token.AND {
		if x.typ == nil || !isTarget(x.addr) {
			return nil, fmt.Errorf("can not take address of %q", exprText(e.X))
		}
		p, err := s.store(constant.MakeUint64(x.addr), s.pointerTo(x.typ), "&"+x.name)
		if err != nil {
			return nil, err
		}
		p.addrOnly = true
		return p, nil
	}
	var op token.Token
	switch e.Op {
	case token.SUB, token.ADD, token.XOR, token.NOT:
		op = e.Op
	default:
		return nil, fmt.Errorf("operator %s not supported", e.Op)
	}
	c, err := s.scalar(x)
	if err != nil {
		return nil, err
	}
	if op == token.NOT && c.Kind() != constant.Bool {
		return nil, fmt.Errorf("operator ! not defined on %s", x.typeName())
	}
	if op != token.NOT && c.Kind() == constant.Bool || c.Kind() == constant.String {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	if x.typ == nil {
		return &evalValue{konst: constant.UnaryOp(op, c, 0), isRune: x.isRune, reg: -1}, nil
	}
	b := godwarf.Basic(x.typ)
	if b == nil {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	var prec uint
	if op == token.XOR && godwarf.IsUnsignedKind(b.Kind) {
		prec = uint(b.Size() * 8)
	}
	r, err := fitKind(b.Kind, b.Size(), constant.UnaryOp(op, c, prec))
	if err != nil {
		return nil, err
	}
	return s.store(r, x.typ, "")
}

// exprText prints an expression back, for error messages.
func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprText(e.X) + "." + e.Sel.Name
	case *ast.BasicLit:
		return e.Value
	case *ast.StarExpr:
		return "*" + exprText(e.X)
	case *ast.ParenExpr:
		return "(" + exprText(e.X) + ")"
	case *ast.IndexExpr:
		return exprText(e.X) + "[" + exprText(e.Index) + "]"
	}
	return fmt.Sprintf("%T", e)
}
