package eval

import (
	"errors"
	"fmt"
	"go/ast"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// composite builds a struct or array literal of numbers, bools and
// pointers (main.Point{1, 2}, [2]int{3, 4}), mostly to index maps.
func (s *Scope) composite(e *ast.CompositeLit) (*evalValue, error) {
	if e.Type == nil {
		return nil, errors.New("composite literal without a type")
	}
	typ, err := s.typeOf(e.Type)
	if err != nil {
		return nil, err
	}
	size := typ.Size()
	if size < 0 || size > 1<<16 {
		return nil, fmt.Errorf("composite literal of %d bytes is too large", size)
	}
	buf := make([]byte, size)
	put := func(off int64, ft godwarf.Type, x ast.Expr) error {
		src, err := s.eval(x)
		if err != nil {
			return err
		}
		if src.unreadable != nil {
			return src.unreadable
		}
		dst := &evalValue{typ: ft, reg: -1}
		b, err := s.assignBytes(dst, src)
		if err != nil {
			return err
		}
		if off < 0 || off+int64(len(b)) > size {
			return errors.New("field outside the literal")
		}
		copy(buf[off:], b)
		return nil
	}
	switch t := godwarf.ResolveTypedef(typ).(type) {
	case *godwarf.StructType:
		for i, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				id, ok := kv.Key.(*ast.Ident)
				if !ok || t.Field(id.Name) == nil {
					return nil, fmt.Errorf("unknown field %s in %s", exprText(kv.Key), value.TypeName(typ))
				}
				f := t.Field(id.Name)
				if err := put(f.ByteOffset, f.Type, kv.Value); err != nil {
					return nil, err
				}
				continue
			}
			if i >= len(t.Fields) {
				return nil, fmt.Errorf("too many values in %s literal", value.TypeName(typ))
			}
			if err := put(t.Fields[i].ByteOffset, t.Fields[i].Type, el); err != nil {
				return nil, err
			}
		}
	case *godwarf.ArrayType:
		if int64(len(e.Elts)) > t.Count {
			return nil, fmt.Errorf("too many values in %s literal", value.TypeName(typ))
		}
		for i, el := range e.Elts {
			if _, ok := el.(*ast.KeyValueExpr); ok {
				return nil, errors.New("indexed array literals are not supported")
			}
			if err := put(int64(i)*t.Stride, t.Elem, el); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("composite literals of %s are not supported", value.TypeName(typ))
	}
	addr, err := s.mem.Alloc(buf)
	if err != nil {
		return nil, err
	}
	return &evalValue{typ: typ, addr: addr, reg: -1}, nil
}
