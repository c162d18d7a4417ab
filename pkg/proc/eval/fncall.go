package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/types"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// CallPlan is a call expression resolved in a scope, ready to be injected:
// the function, its parameters placed by the register ABI and the encoded
// bytes of each argument.
type CallPlan struct {
	Fn        *bininfo.Function
	Closure   uint64 // the funcval a func-typed variable points to; 0 for a plain function
	Params    []probe.Param
	Locs      []probe.Location // parallel to Params
	Args      [][]byte         // parallel to Params; nil for results
	FrameSize int64            // the argument frame debugCallV2 must open
	// Pointers are the addresses the arguments hold (pointers, string and
	// slice data), named for the escape check.
	Pointers []ArgPointer
}

// ArgPointer is one address an argument passes to the callee.
type ArgPointer struct {
	Arg   string // the argument expression (the call's function for a receiver)
	Param string // the formal parameter
	Path  string // where in the parameter the pointer is: "p", "p.Name"
	// Receiver is set for the method's receiver.
	Receiver bool
	Addr     uint64
}

// MaxRegArgBytes is the register space ABIInternal may spill into the
// argument frame.
const MaxRegArgBytes = arch.MaxRegArgBytes

// Errors worded as Delve's.
var (
	errTooManyArguments   = errors.New("too many arguments")
	errNotEnoughArguments = errors.New("not enough arguments")
	// ErrStringAlloc is returned for a non-empty string constant argument:
	// its bytes would need memory allocated in the target.
	ErrStringAlloc = errors.New("literal string can not be allocated because function calls are not allowed without using 'call'")
)

// ErrNotCall is returned by PlanCall for an expression that calls no
// function of the program: it is evaluated as usual.
var ErrNotCall = errors.New("not a function call")

// isConversionOrBuiltin reports whether call is a conversion or a builtin
// (len, cap, ...), which the evaluator computes without the target.
func (s *Scope) isConversionOrBuiltin(call *ast.CallExpr) bool {
	if id, ok := call.Fun.(*ast.Ident); ok {
		if _, local := s.lookupLocal(id.Name); !local {
			switch id.Name {
			case "len", "cap", "real", "imag", "complex":
				return true
			}
		}
	}
	_, err := s.typeOf(call.Fun)
	return err == nil
}

// Alloc allocates size bytes in the target (by a call of runtime.mallocgc)
// and returns their address.
type Alloc func(size int64) (uint64, error)

// PlanCall parses expr, which must be a call of a function, a method or a
// func-typed variable, and encodes its arguments for the callee. String
// constants are copied into memory got from alloc; without alloc they are
// refused, as Delve refuses them outside call.
func (s *Scope) PlanCall(expr string, alloc Alloc) (*CallPlan, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", expr, err)
	}
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return nil, ErrNotCall
	}
	return s.PlanCallExpr(call, alloc)
}

// PlanCallExpr is PlanCall of a parsed call; calls among its arguments
// must have their results set (SetCallResult).
func (s *Scope) PlanCallExpr(call *ast.CallExpr, alloc Alloc) (*CallPlan, error) {
	s.mem.Reset()
	if s.isConversionOrBuiltin(call) {
		return nil, ErrNotCall
	}
	plan := &CallPlan{}
	var err error
	var recv *evalValue
	plan.Fn, recv, plan.Closure, err = s.callee(call.Fun)
	if err != nil {
		return nil, err
	}
	if plan.Fn.Optimized() {
		// As Delve: the locations DWARF gives an optimized function's
		// arguments are too incomplete to trust for a call.
		return nil, fmt.Errorf("can not call optimized function %s when regabi is in use", plan.Fn.Name)
	}
	params, err := probe.Params(s.prog.Types, plan.Fn)
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		if p.Dict {
			return nil, fmt.Errorf("can not call generic function %s: its dictionary is not known", plan.Fn.Name)
		}
	}
	actual := make([]ast.Expr, 0, len(call.Args)+1)
	var nargs int
	for _, p := range params {
		if !p.Result {
			nargs++
		}
	}
	if recv != nil {
		nargs-- // the receiver is the first parameter
	}
	if len(call.Args) > nargs {
		return nil, errTooManyArguments
	}
	if len(call.Args) < nargs {
		return nil, errNotEnoughArguments
	}
	actual = append(actual, call.Args...)
	if plan.Locs, err = probe.Assign(params, probe.ABIInternal); err != nil {
		return nil, err
	}
	plan.Params = params
	plan.Args = make([][]byte, len(params))
	var size int64
	next := 0
	for i, p := range params {
		// Word alignment for every parameter over-estimates the frame,
		// which only has to be large enough.
		size = (size+7)&^7 + p.Type.Size()
		if p.Result {
			continue
		}
		var v *evalValue
		name := p.Name
		if i == 0 && recv != nil {
			v, name = recv, types.ExprString(call.Fun)
		} else {
			if v, err = s.eval(actual[next]); err != nil {
				return nil, err
			}
			name = types.ExprString(actual[next])
			next++
		}
		b, err := s.argBytes(v, p.Type, alloc)
		if err != nil {
			return nil, err
		}
		plan.Args[i] = b
		for _, ap := range pointersIn(p.Name, p.Type, b) {
			ap.Arg, ap.Param, ap.Receiver = name, p.Name, i == 0 && recv != nil
			plan.Pointers = append(plan.Pointers, ap)
		}
	}
	plan.FrameSize = (size+7)&^7 + MaxRegArgBytes
	return plan, nil
}

// callee resolves the called expression: a function by name, a method of
// a value (through an interface too), or a func-typed variable.
func (s *Scope) callee(fun ast.Expr) (*bininfo.Function, *evalValue, uint64, error) {
	if name := typeExprName(fun); name != "" {
		if _, local := s.lookupLocal(strings.SplitN(name, ".", 2)[0]); !local {
			if fn := s.funcNamed(name); fn != nil {
				return fn, nil, 0, nil
			}
		}
	}
	if sel, ok := fun.(*ast.SelectorExpr); ok {
		if x, err := s.eval(sel.X); err == nil && x.typ != nil {
			fn, recv, err := s.method(x, sel.Sel.Name)
			if err == nil {
				return fn, recv, 0, nil
			}
			if _, isStruct := godwarf.ResolveTypedef(x.typ).(*godwarf.StructType); !isStruct {
				return nil, nil, 0, err
			}
		}
	}
	v, err := s.eval(fun)
	if err != nil {
		return nil, nil, 0, err
	}
	if _, ok := godwarf.ResolveTypedef(typeOrNil(v)).(*godwarf.FuncType); !ok {
		return nil, nil, 0, fmt.Errorf("expression %q is not a function", types.ExprString(fun))
	}
	fv, err := readWord(s.mem, v.addr)
	if err != nil {
		return nil, nil, 0, err
	}
	if fv == 0 {
		return nil, nil, 0, errors.New("nil pointer dereference")
	}
	entry, err := readWord(s.mem, fv)
	if err != nil {
		return nil, nil, 0, err
	}
	fn := s.prog.BI.PCToFunc(entry)
	if fn == nil {
		return nil, nil, 0, fmt.Errorf("could not find DIE for function %q", types.ExprString(fun))
	}
	return fn, nil, fv, nil
}

func typeOrNil(v *evalValue) godwarf.Type {
	if v.typ == nil {
		return &godwarf.VoidType{}
	}
	return v.typ
}

// funcNamed finds a function by its full name or, unqualified, in the
// package of the scope's function.
func (s *Scope) funcNamed(name string) *bininfo.Function {
	if fn, err := s.prog.BI.LookupFunc(name); err == nil {
		return fn
	}
	if s.fn != nil && !strings.Contains(name, ".") {
		if pkg := packageOf(s.fn.Name); pkg != "" {
			if fn, err := s.prog.BI.LookupFunc(pkg + "." + name); err == nil {
				return fn
			}
		}
	}
	return nil
}

// packageOf returns the package path of a function name ("main.(*T).M" → "main").
func packageOf(fn string) string {
	slash := strings.LastIndex(fn, "/")
	dot := strings.Index(fn[slash+1:], ".")
	if dot < 0 {
		return ""
	}
	return fn[:slash+1+dot]
}

// method finds method name of x's type and the receiver to pass: the value
// for a value receiver, its address for a pointer one. An interface is
// replaced by the value it holds.
func (s *Scope) method(x *evalValue, name string) (*bininfo.Function, *evalValue, error) {
	if _, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.InterfaceType); ok {
		d, err := s.ifaceData(x)
		if err != nil {
			return nil, nil, err
		}
		if d == nil {
			return nil, nil, errors.New("nil pointer dereference")
		}
		x = d
	}
	tn := value.TypeName(x.typ)
	base, isPtr := strings.CutPrefix(tn, "*")
	i := strings.LastIndex(base, ".")
	if i < 0 {
		return nil, nil, fmt.Errorf("type %s has no method %s", tn, name)
	}
	valueName := base + "." + name
	ptrName := base[:i] + ".(*" + base[i+1:] + ")." + name
	if isPtr {
		if fn := s.funcNamed(ptrName); fn != nil {
			return fn, x, nil
		}
		if fn := s.funcNamed(valueName); fn != nil {
			d, err := s.deref(x)
			if err != nil {
				return nil, nil, err
			}
			return fn, d, nil
		}
	} else {
		if fn := s.funcNamed(valueName); fn != nil {
			return fn, x, nil
		}
		if fn := s.funcNamed(ptrName); fn != nil {
			if !isTarget(x.addr) {
				return nil, nil, fmt.Errorf("can not take the address of %s to call %s", x.name, fn.Name)
			}
			b := make([]byte, 8)
			binary.LittleEndian.PutUint64(b, x.addr)
			a, err := s.mem.Alloc(b)
			if err != nil {
				return nil, nil, err
			}
			return fn, &evalValue{name: "&" + x.name, typ: s.pointerTo(x.typ), addr: a, reg: -1}, nil
		}
	}
	return nil, nil, fmt.Errorf("type %s has no method %s", tn, name)
}

// argBytes encodes v as a value of the formal parameter type typ, with
// Delve's conversions: untyped constants to numbers, nil to any nillable
// type, the empty string, and otherwise only a value of the same type.
func (s *Scope) argBytes(v *evalValue, typ godwarf.Type, alloc Alloc) ([]byte, error) {
	if v.unreadable != nil {
		return nil, fmt.Errorf("Expression %q is unreadable: %w", v.name, v.unreadable) //nolint:staticcheck // Delve's wording
	}
	rt := godwarf.ResolveTypedef(typ)
	size := typ.Size()
	if v.isNil {
		switch rt.(type) {
		case *godwarf.PtrType, *godwarf.SliceType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType, *godwarf.InterfaceType:
			return make([]byte, size), nil
		}
		return nil, fmt.Errorf("mismatched types nil and %s", value.TypeName(typ))
	}
	if v.typ == nil {
		if c := v.konst; c != nil && c.Kind() == constant.String {
			if _, ok := rt.(*godwarf.StringType); !ok {
				return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
			}
			return s.allocString(constant.StringVal(c), alloc)
		}
		if _, ok := rt.(*godwarf.PtrType); ok {
			c := constant.ToInt(v.konst)
			if c.Kind() != constant.Int {
				return nil, fmt.Errorf("can not convert %s constant to %s", v.konst, value.TypeName(typ))
			}
			b := make([]byte, 8)
			binary.LittleEndian.PutUint64(b, wrapInt(c))
			return b, nil
		}
		b := godwarf.Basic(typ)
		if b == nil {
			return nil, fmt.Errorf("can not convert %s constant to %s", v.konst, value.TypeName(typ))
		}
		c, err := convertConst(v.konst, typ)
		if err != nil {
			return nil, err
		}
		return encodeBasic(b.Kind, size, c)
	}
	if !value.SameType(v.typ, typ) {
		return nil, fmt.Errorf("can not convert value of type %s to %s", value.TypeName(v.typ), value.TypeName(typ))
	}
	buf := make([]byte, size)
	if err := readFull(s.mem, buf, v.addr); err != nil {
		return nil, fmt.Errorf("reading %s: %w", v.name, err)
	}
	return buf, nil
}

// allocString copies str into the target and returns its string header;
// "" needs no memory.
func (s *Scope) allocString(str string, alloc Alloc) ([]byte, error) {
	hdr := make([]byte, 16)
	if str == "" {
		return hdr, nil
	}
	w, ok := s.mem.Parent.(MemoryWriter)
	if alloc == nil || !ok {
		return nil, ErrStringAlloc
	}
	addr, err := alloc(int64(len(str)))
	if err != nil {
		return nil, fmt.Errorf("allocating %d bytes for a string: %w", len(str), err)
	}
	if n, err := w.WriteMemory(addr, []byte(str)); err != nil || n != len(str) {
		return nil, fmt.Errorf("writing a string at %#x: %w", addr, errors.Join(err, errors.New("short write")))
	}
	binary.LittleEndian.PutUint64(hdr, addr)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(str)))
	return hdr, nil
}

// readFull fills buf from addr or fails.
func readFull(mem Memory, buf []byte, addr uint64) error {
	n, err := mem.ReadMemory(buf, addr)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return fmt.Errorf("short read at %#x", addr)
	}
	return nil
}

// pointersIn lists the target addresses an encoded value of type typ
// holds at its top level: a pointer, the data of a string or slice, a map
// or chan header, a funcval, an interface's data, and the same in a
// struct's fields and an array's elements.
func pointersIn(path string, typ godwarf.Type, b []byte) []ArgPointer {
	word := func(off int64) uint64 {
		if off < 0 || off+8 > int64(len(b)) {
			return 0
		}
		return binary.LittleEndian.Uint64(b[off:])
	}
	switch t := godwarf.ResolveTypedef(typ).(type) {
	case *godwarf.PtrType, *godwarf.StringType, *godwarf.SliceType, *godwarf.MapType, *godwarf.ChanType:
		if a := word(0); a != 0 {
			return []ArgPointer{{Path: path, Addr: a}}
		}
	case *godwarf.FuncType:
		if a := word(0); a != 0 {
			return []ArgPointer{{Path: path, Addr: a}}
		}
	case *godwarf.InterfaceType:
		if a := word(8); a != 0 {
			return []ArgPointer{{Path: path + ".data", Addr: a}}
		}
	case *godwarf.ArrayType:
		var out []ArgPointer
		for i := int64(0); i < t.Count && t.Stride > 0; i++ {
			off, n := i*t.Stride, t.Elem.Size()
			if off+n > int64(len(b)) {
				break
			}
			out = append(out, pointersIn(fmt.Sprintf("%s[%d]", path, i), t.Elem, b[off:off+n])...)
		}
		return out
	case *godwarf.StructType:
		var out []ArgPointer
		for _, f := range t.Fields {
			if f.ByteOffset < 0 || f.ByteOffset+f.Type.Size() > int64(len(b)) {
				continue
			}
			out = append(out, pointersIn(path+"."+f.Name, f.Type, b[f.ByteOffset:f.ByteOffset+f.Type.Size()])...)
		}
		return out
	}
	return nil
}
