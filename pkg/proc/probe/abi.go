package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// ABI is a Go calling convention on amd64.
type ABI int

// The calling conventions a Go function can have.
const (
	// ABIInternal passes arguments and results in registers (Go 1.17+).
	ABIInternal ABI = iota
	// ABI0 passes everything on the stack (assembly, and Go before 1.17).
	ABI0
)

// IntArgRegs names the integer registers of ABIInternal in assignment
// order; Piece.Reg of an integer piece indexes it.
var IntArgRegs = [...]string{"RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11"}

// GeneralRegs extends IntArgRegs with the other general registers a
// location list may name in optimized code (an inlined call's arguments
// live wherever the register allocator put them; RSP holds a pointer to
// the frame's own stack). Piece.Reg of an integer piece indexes it.
var GeneralRegs = [...]string{"RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11",
	"RDX", "RBP", "R12", "R13", "R14", "R15", "RSP"}

// NumFloatArgRegs is how many X registers (X0–X14) ABIInternal assigns;
// Piece.Reg of a float piece is the X register number.
const NumFloatArgRegs = 15

// IntArgReg returns general register i (an index into GeneralRegs, whose
// first entries are IntArgRegs).
func IntArgReg(r *arch.Registers, i int) uint64 {
	switch i {
	case 0:
		return r.Rax
	case 1:
		return r.Rbx
	case 2:
		return r.Rcx
	case 3:
		return r.Rdi
	case 4:
		return r.Rsi
	case 5:
		return r.R8
	case 6:
		return r.R9
	case 7:
		return r.R10
	case 8:
		return r.R11
	case 9:
		return r.Rdx
	case 10:
		return r.Rbp
	case 11:
		return r.R12
	case 12:
		return r.R13
	case 13:
		return r.R14
	case 14:
		return r.R15
	case 15:
		return r.Rsp
	}
	return 0
}

// Piece is one register holding bytes [Off, Off+Size) of a value, or,
// with Stack, the stack bytes at CFA+StackOff holding them: optimized code
// may keep part of an inlined copy's argument in registers and spill the
// rest to its caller's frame.
type Piece struct {
	Float    bool // an X register rather than an integer one
	Stack    bool // stack bytes rather than a register
	Reg      int  // index into GeneralRegs, or the X register number
	Off      int64
	Size     int64
	StackOff int64 // of a Stack piece, relative to the CFA
}

// Location is where a value is at a probe site: assembled from pieces
// (InRegs; registers and, in a composite DWARF location, stack bytes), or
// on the stack at CFA+StackOff (the CFA is SP+8 at every site of Sites).
type Location struct {
	InRegs   bool
	Pieces   []Piece // in order of offset; empty for a zero-sized value
	StackOff int64
}

// Shift returns the location with every stack offset moved by d: how a
// location relative to one frame address becomes relative to another.
func (l Location) Shift(d int64) Location {
	l.StackOff += d
	if l.InRegs {
		l.Pieces = append([]Piece(nil), l.Pieces...)
		for i := range l.Pieces {
			if l.Pieces[i].Stack {
				l.Pieces[i].StackOff += d
			}
		}
	}
	return l
}

// HasStack reports whether part of a piece-assembled value is on the stack.
func (l Location) HasStack() bool {
	for _, p := range l.Pieces {
		if p.Stack {
			return true
		}
	}
	return false
}

// HasFloat reports whether part of the value is in an X register, which
// neither ptrace's general registers nor a uprobe's pt_regs hold.
func (l Location) HasFloat() bool {
	for _, p := range l.Pieces {
		if p.Float {
			return true
		}
	}
	return false
}

// ErrFloatRegister is returned by Assemble for a value held (partly) in
// an X register.
var ErrFloatRegister = errors.New("held in a floating-point register, which is not captured")

// Assemble returns the size bytes of a register-held value: integer
// pieces from regs, float pieces from the low bytes of fp's X registers.
// fp may be nil when the backend cannot read them; a value with a float
// piece is then ErrFloatRegister.
func (l Location) Assemble(regs *arch.Registers, fp *arch.FPRegisters, size int64) ([]byte, error) {
	return l.AssembleFrom(regs, fp, nil, 0, size)
}

// AssembleFrom is Assemble for a location that may have stack pieces,
// which are read from mem at cfa+StackOff.
func (l Location) AssembleFrom(regs *arch.Registers, fp *arch.FPRegisters, mem op.MemoryReader, cfa uint64, size int64) ([]byte, error) {
	if !l.InRegs {
		return nil, fmt.Errorf("value is on the stack at CFA%+d, not in registers", l.StackOff)
	}
	if l.HasFloat() && fp == nil {
		return nil, ErrFloatRegister
	}
	buf := make([]byte, max(size, 8))
	for _, p := range l.Pieces {
		if p.Stack {
			if p.Off < 0 || p.Size < 0 || p.Off+p.Size > size {
				return nil, fmt.Errorf("stack piece [%d, %d) outside a %d-byte value", p.Off, p.Off+p.Size, size)
			}
			if mem == nil {
				return nil, fmt.Errorf("part of the value is on the stack at CFA%+d", p.StackOff)
			}
			addr := cfa + uint64(p.StackOff)
			n, err := mem.ReadMemory(buf[p.Off:p.Off+p.Size], addr)
			if err == nil && int64(n) != p.Size {
				err = fmt.Errorf("read %d of %d bytes", n, p.Size)
			}
			if err != nil {
				return nil, fmt.Errorf("reading the stack piece at %#x: %w", addr, err)
			}
			continue
		}
		var w [8]byte
		src := w[:]
		if p.Float {
			if p.Reg < 0 || p.Reg >= arch.NumXmm {
				return nil, fmt.Errorf("no register X%d", p.Reg)
			}
			src = fp.Xmm[p.Reg][:]
		} else {
			binary.LittleEndian.PutUint64(w[:], IntArgReg(regs, p.Reg))
		}
		if p.Off < 0 || p.Size < 0 || p.Size > int64(len(src)) || p.Off+p.Size > int64(len(buf)) {
			return nil, fmt.Errorf("register piece [%d, %d) outside a %d-byte value", p.Off, p.Off+p.Size, size)
		}
		copy(buf[p.Off:p.Off+p.Size], src[:p.Size])
	}
	return buf[:size], nil
}

// Assign places params (arguments and results in any order; Result tells
// them apart) by the rules of abi and returns their locations, parallel to
// params. Arguments are the values at the entry site, results at a RET.
//
// Under ABIInternal each value gets registers if all of its parts fit in
// the registers still free (integer-class parts in RAX, RBX, RCX, RDI, RSI,
// R8–R11; floats in X0–X14; complex numbers as two floats; arrays of more
// than one element never); otherwise the whole value goes on the stack,
// aligned to its type, and the registers stay free for later values.
// Results restart from the first registers; their stack area follows the
// arguments' one, aligned to a pointer. Under ABI0 everything is on the
// stack in that same order.
func Assign(params []Param, abi ABI) ([]Location, error) {
	locs := make([]Location, len(params))
	a := assigner{abi: abi}
	for pass, results := range []bool{false, true} {
		if pass == 1 {
			a.stack = (a.stack + 7) &^ 7
			a.ints, a.floats = 0, 0
		}
		for i, p := range params {
			if p.Result != results {
				continue
			}
			if p.Type == nil || p.Type.Size() < 0 {
				return nil, fmt.Errorf("parameter %s has no sized type", p.Name)
			}
			locs[i] = a.assign(p.Type)
		}
	}
	return locs, nil
}

// assigner holds the register and stack cursors of one assignment.
type assigner struct {
	abi          ABI
	ints, floats int
	stack        int64
	pieces       []Piece
}

func (a *assigner) assign(t godwarf.Type) Location {
	ints, floats := a.ints, a.floats
	a.pieces = nil
	if a.abi == ABIInternal && a.regs(t, 0) {
		return Location{InRegs: true, Pieces: a.pieces}
	}
	a.ints, a.floats, a.pieces = ints, floats, nil
	al := alignOf(t)
	a.stack = (a.stack + al - 1) / al * al
	loc := Location{StackOff: a.stack}
	a.stack += t.Size()
	return loc
}

func (a *assigner) reg(off, size int64, float bool) bool {
	if float {
		if a.floats >= NumFloatArgRegs {
			return false
		}
		a.pieces = append(a.pieces, Piece{Float: true, Reg: a.floats, Off: off, Size: size})
		a.floats++
		return true
	}
	if a.ints >= len(IntArgRegs) {
		return false
	}
	a.pieces = append(a.pieces, Piece{Reg: a.ints, Off: off, Size: size})
	a.ints++
	return true
}

// regs tries to give every part of t, at offset off of the value, a
// register.
func (a *assigner) regs(t godwarf.Type, off int64) bool {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch rt.Kind {
		case reflect.Float32, reflect.Float64:
			return a.reg(off, rt.Size(), true)
		case reflect.Complex64, reflect.Complex128:
			h := rt.Size() / 2
			return a.reg(off, h, true) && a.reg(off+h, h, true)
		}
		if rt.Size() == 0 {
			return true
		}
		return a.reg(off, rt.Size(), false)
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		return a.reg(off, 8, false)
	case *godwarf.StringType, *godwarf.InterfaceType:
		return a.reg(off, 8, false) && a.reg(off+8, 8, false)
	case *godwarf.SliceType:
		return a.reg(off, 8, false) && a.reg(off+8, 8, false) && a.reg(off+16, 8, false)
	case *godwarf.StructType:
		for _, f := range rt.Fields {
			if !a.regs(f.Type, off+f.ByteOffset) {
				return false
			}
		}
		return true
	case *godwarf.ArrayType:
		switch rt.Count {
		case 0:
			return true
		case 1:
			return a.regs(rt.Elem, off)
		}
		return false
	}
	return false
}

// alignOf is a type's alignment on amd64.
func alignOf(t godwarf.Type) int64 {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch {
		case rt.Kind == reflect.Complex64:
			return 4
		case rt.Size() >= 8:
			return 8
		case rt.Size() > 0:
			return rt.Size()
		}
		return 1
	case *godwarf.StructType:
		al := int64(1)
		for _, f := range rt.Fields {
			al = max(al, alignOf(f.Type))
		}
		return al
	case *godwarf.ArrayType:
		return alignOf(rt.Elem)
	}
	return 8
}

// String names the location as a test or a log shows it: "RAX",
// "RBX+RCX" (pieces in offset order), "X0", "stack+8" (CFA-relative) or
// "none" for a zero-sized value in registers.
func (l Location) String() string {
	if !l.InRegs {
		return fmt.Sprintf("stack+%d", l.StackOff)
	}
	if len(l.Pieces) == 0 {
		return "none"
	}
	s := ""
	for i, p := range l.Pieces {
		if i > 0 {
			s += "+"
		}
		switch {
		case p.Stack:
			s += fmt.Sprintf("stack+%d", p.StackOff)
		case p.Float:
			s += fmt.Sprintf("X%d", p.Reg)
		default:
			s += GeneralRegs[p.Reg]
		}
	}
	return s
}
