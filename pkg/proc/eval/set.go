package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"go/constant"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// SetVariable assigns the value of expression rhs to the variable lhs, as
// Delve's set command does. Only numbers, bools and pointers can be set;
// the new value is written to the variable's memory, or to its register
// when the frame is the innermost one and SetRegister is provided.
func (s *Scope) SetVariable(lhs, rhs string) error {
	s.mem.Reset()
	dst, err := s.evalString(lhs)
	if err != nil {
		return err
	}
	if dst.unreadable != nil {
		return fmt.Errorf("can not set %s: %w", lhs, dst.unreadable)
	}
	if dst.typ == nil {
		return fmt.Errorf("can not set %s: not a variable", lhs)
	}
	src, err := s.evalString(rhs)
	if err != nil {
		return err
	}
	if src.unreadable != nil {
		return src.unreadable
	}
	data, err := s.assignBytes(dst, src)
	if err != nil {
		return err
	}
	switch {
	case isTarget(dst.addr):
		w, ok := s.mem.Parent.(MemoryWriter)
		if !ok {
			return errors.New("can not set variables: the target's memory is read-only")
		}
		n, err := w.WriteMemory(dst.addr, data)
		if err != nil {
			return fmt.Errorf("writing %s at %#x: %w", lhs, dst.addr, err)
		}
		if n != len(data) {
			return fmt.Errorf("writing %s at %#x: short write", lhs, dst.addr)
		}
		return nil
	case dst.reg >= 0 && s.SetRegister != nil:
		var word [8]byte
		old, _ := s.regs.Reg(uint64(dst.reg))
		binary.LittleEndian.PutUint64(word[:], old)
		copy(word[:], data) // a narrow value keeps the register's upper bytes
		val := binary.LittleEndian.Uint64(word[:])
		if err := s.SetRegister(uint64(dst.reg), val); err != nil {
			return fmt.Errorf("setting register of %s: %w", lhs, err)
		}
		s.regs.AddReg(uint64(dst.reg), val)
		return nil
	}
	return fmt.Errorf("can not set %s: it is not in memory or in a writable register", lhs)
}

// assignBytes converts src to dst's type with Go's assignability rules and
// encodes it.
func (s *Scope) assignBytes(dst, src *evalValue) ([]byte, error) {
	var c constant.Value
	switch t := godwarf.ResolveTypedef(dst.typ).(type) {
	case *godwarf.BasicType:
		if src.isNil {
			return nil, fmt.Errorf("can not assign nil to %s", value.TypeName(dst.typ))
		}
		if src.typ != nil && !value.SameType(src.typ, dst.typ) {
			return nil, fmt.Errorf("can not assign %s to %s", src.typeName(), value.TypeName(dst.typ))
		}
		v, err := s.operand(src, dst.typ)
		if err != nil {
			return nil, err
		}
		return encodeBasic(t.Kind, t.Size(), v)
	case *godwarf.PtrType:
		switch {
		case src.isNil:
			c = constant.MakeUint64(0)
		case src.typ == nil || value.SameType(src.typ, dst.typ):
			v, err := s.scalar(src)
			if err != nil {
				return nil, err
			}
			c = constant.ToInt(v)
			if c.Kind() != constant.Int {
				return nil, fmt.Errorf("can not assign %s to %s", src.typeName(), value.TypeName(dst.typ))
			}
		default:
			return nil, fmt.Errorf("can not assign %s to %s", src.typeName(), value.TypeName(dst.typ))
		}
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, wrapInt(c))
		return b, nil
	}
	return nil, fmt.Errorf("can not set variables of type %s (only numbers, bools and pointers)", value.TypeName(dst.typ))
}
