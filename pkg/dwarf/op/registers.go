package op

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// DwarfRegisters is the machine state an expression is evaluated in: the
// register values of one frame indexed by DWARF register number (amd64
// numbering, see package regnum), plus the frame's CFA and frame base.
//
// The unwinder fills one per frame; registers it could not recover are
// simply absent, so that an expression needing them fails with
// ErrRegisterUnavailable instead of silently reading zero.
type DwarfRegisters struct {
	// CFA is the canonical frame address (DW_OP_call_frame_cfa); 0 means
	// unknown.
	CFA int64
	// FrameBase is the value of the function's DW_AT_frame_base, the base of
	// DW_OP_fbreg; 0 means unknown. For Go code it equals CFA.
	FrameBase int64
	// StaticBase is the load bias added to DW_OP_addr and DW_OP_addrx
	// operands, which hold link-time addresses (non-zero for PIE).
	StaticBase uint64
	// ByteOrder decodes operands and memory; nil means little endian.
	ByteOrder binary.ByteOrder
	// AddrIndex resolves an index into the compile unit's .debug_addr slice
	// (DW_OP_addrx, DW_OP_constx); it should apply DW_AT_addr_base. Nil
	// makes those operations fail with ErrUnsupported.
	AddrIndex func(index uint64) (uint64, error)

	vals    []uint64
	present []bool
	// fp supplies XMM0–XMM15 (DWARF 17–32), 16 bytes each; copies of the
	// struct share it so that the thread is asked at most once.
	fp *fpSource
}

// VectorRegisters is what an expression needs of a thread's SSE state: the
// 16 bytes of an XMM register, by DWARF number, low lane first. The
// debugger's FPRegisters implements it.
type VectorRegisters interface {
	DwarfXmm(n uint64) ([]byte, bool)
}

// RegisterFile is a thread's general registers indexed by DWARF number,
// with a mask of the ones it holds. The debugger's Registers implements it.
type RegisterFile interface {
	DwarfRegs() (vals [regnum.Count]uint64, present [regnum.Count]bool)
}

// fpSource holds a thread's SSE registers, read on first use: most
// variables never live in an XMM register, and reading them is a ptrace
// request of its own.
type fpSource struct {
	once sync.Once
	load func() (VectorRegisters, error)
	regs VectorRegisters
	err  error
}

func (s *fpSource) get() (VectorRegisters, error) {
	s.once.Do(func() {
		if s.load != nil {
			s.regs, s.err = s.load()
			s.load = nil
		}
	})
	if s.err == nil && s.regs == nil {
		return nil, errors.New("no SSE registers")
	}
	return s.regs, s.err
}

// SetFPRegisters makes XMM0–XMM15 available with the values fp holds.
func (r *DwarfRegisters) SetFPRegisters(fp VectorRegisters) {
	r.fp = &fpSource{regs: fp}
}

// SetFPLoader makes XMM0–XMM15 available through load, which is called at
// most once, the first time a location needs one of them. Only the
// innermost frame should get one: XMM registers are not preserved across
// Go calls, so callers' values cannot be recovered.
func (r *DwarfRegisters) SetFPLoader(load func() (VectorRegisters, error)) {
	r.fp = &fpSource{load: load}
}

// ShareFPRegisters gives r the XMM registers of src (loaded or not), for a
// copy of the same frame's registers.
func (r *DwarfRegisters) ShareFPRegisters(src *DwarfRegisters) {
	if src != nil {
		r.fp = src.fp
	}
}

// HasFPRegisters reports whether XMM registers can be asked for (they may
// still fail to load).
func (r *DwarfRegisters) HasFPRegisters() bool { return r != nil && r.fp != nil }

// RegBytes returns the little-endian contents of register n: 8 bytes for a
// general register, 16 for XMM0–XMM15. The error wraps
// ErrRegisterUnavailable when the frame does not know the register.
func (r *DwarfRegisters) RegBytes(n uint64) ([]byte, error) {
	if v, ok := r.Reg(n); ok {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, v)
		return b, nil
	}
	if !regnum.IsXmm(n) || r == nil || r.fp == nil {
		return nil, fmt.Errorf("register %s: %w", regnum.Name(int(n)), ErrRegisterUnavailable)
	}
	fp, err := r.fp.get()
	if err != nil {
		return nil, fmt.Errorf("register %s: %w: %w", regnum.Name(int(n)), ErrRegisterUnavailable, err)
	}
	x, ok := fp.DwarfXmm(n)
	if !ok || len(x) != 16 {
		return nil, fmt.Errorf("register %s: %w", regnum.Name(int(n)), ErrRegisterUnavailable)
	}
	return append([]byte(nil), x...), nil
}

// NewDwarfRegisters returns registers holding vals[i] for every i with
// present[i] set; the slices are copied. Shorter present marks the rest
// absent.
func NewDwarfRegisters(vals []uint64, present []bool) *DwarfRegisters {
	r := &DwarfRegisters{}
	for i, v := range vals {
		if i < len(present) && present[i] {
			r.AddReg(uint64(i), v)
		}
	}
	return r
}

// NewDwarfRegistersFrom returns the registers of a thread's register file,
// with CFA and FrameBase left unknown.
func NewDwarfRegistersFrom(regs RegisterFile) *DwarfRegisters {
	vals, present := regs.DwarfRegs()
	return NewDwarfRegisters(vals[:], present[:])
}

// maxRegNum bounds register numbers so that a malformed DW_OP_regx cannot
// make AddReg allocate huge tables.
const maxRegNum = 4096

// AddReg sets register n to v (numbers above 4095 are ignored).
func (r *DwarfRegisters) AddReg(n uint64, v uint64) {
	if n >= maxRegNum {
		return
	}
	for uint64(len(r.vals)) <= n {
		r.vals = append(r.vals, 0)
		r.present = append(r.present, false)
	}
	r.vals[n] = v
	r.present[n] = true
}

// Reg returns the value of register n and whether it is known.
func (r *DwarfRegisters) Reg(n uint64) (uint64, bool) {
	if r == nil || n >= uint64(len(r.vals)) || !r.present[n] {
		return 0, false
	}
	return r.vals[n], true
}

// PC returns the instruction pointer (DWARF register 16), 0 if absent.
func (r *DwarfRegisters) PC() uint64 { v, _ := r.Reg(regnum.Rip); return v }

// SP returns the stack pointer (DWARF register 7), 0 if absent.
func (r *DwarfRegisters) SP() uint64 { v, _ := r.Reg(regnum.Rsp); return v }

// BP returns the frame pointer (DWARF register 6), 0 if absent.
func (r *DwarfRegisters) BP() uint64 { v, _ := r.Reg(regnum.Rbp); return v }

// byteOrder returns the configured byte order, little endian by default.
func (r *DwarfRegisters) byteOrder() binary.ByteOrder {
	if r == nil || r.ByteOrder == nil {
		return binary.LittleEndian
	}
	return r.ByteOrder
}
