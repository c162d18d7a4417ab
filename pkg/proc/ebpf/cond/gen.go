package cond

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/frame"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
)

// Stack slots: 8 bytes each from StackLow. Slots 0 and 1 receive the
// bytes bpf_probe_read_user copies; values computed by the condition are
// kept in the others, one slot per value (a condition is small).
const (
	readSlot       = 0
	readSlot2      = 1
	firstValueSlot = 2
	numSlots       = (StackHigh - StackLow) / 8
)

// Registers: R9 holds the CFA once computed, R7 and R8 are scratch across
// helper calls (callee-saved), R1-R5 are clobbered by every call.
const (
	regCFA = asm.R9
	regCtx = asm.R6
)

// ptRegsSlot maps a DWARF register number (amd64) to its u64 slot in
// struct pt_regs.
var ptRegsSlot = [...]int{10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16}

const ptRegsSP = 19

const faultLabel = "cond_fault"

type compiler struct {
	bi     *bininfo.BinaryInfo
	prog   *eval.Program
	scope  *eval.LocatedScope
	opts   Options
	linkPC uint64

	insns   asm.Instructions
	pending string // label for the next instruction
	nlabels int
	nslots  int
	derefs  int
	faulted bool

	cfaDone bool
	cfaOff  int64
	cfaErr  error
	cfaUsed bool

	reads []Read
}

func (c *compiler) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		if c.pending != "" {
			in = in.WithSymbol(c.pending)
			c.pending = ""
		}
		c.insns = append(c.insns, in)
	}
}

// label returns a fresh label name.
func (c *compiler) label() string {
	c.nlabels++
	return fmt.Sprintf("cond_l%d", c.nlabels)
}

// mark attaches l to the next instruction emitted.
func (c *compiler) mark(l string) {
	if c.pending != "" {
		// Two labels at one place: a jump to the next instruction carries
		// the first.
		c.emit(asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)})
	}
	c.pending = l
}

// fault jumps to the fault exit when cond holds (jump is built on label).
func (c *compiler) faultIf(j func(label string) asm.Instruction) {
	c.faulted = true
	c.emit(j(faultLabel))
}

// slot allocates a value slot.
func (c *compiler) slot() (int, error) {
	if c.nslots >= numSlots {
		return 0, notCompilable("condition too large for the BPF stack")
	}
	c.nslots++
	return c.nslots - 1, nil
}

func slotOff(i int) int16 { return int16(StackLow + 8*i) }

// compile emits the whole program for e.
func (c *compiler) compile(e any) (asm.Instructions, error) {
	res, err := c.expr(e)
	if err != nil {
		return nil, err
	}
	if err := c.boolToR0(res); err != nil {
		return nil, err
	}
	c.emit(asm.Ja.Label(EndSymbol))
	if c.faulted {
		c.mark(faultLabel)
		c.emit(asm.Mov.Imm(asm.R0, ResultFault), asm.Ja.Label(EndSymbol))
	}
	body := c.insns
	if c.cfaUsed {
		pro := asm.Instructions{
			asm.LoadMem(regCFA, regCtx, int16(ptRegsSP*8), asm.DWord),
			asm.Add.Imm(regCFA, int32(c.cfaOff)),
		}
		body = append(pro, body...)
	}
	return body, nil
}

// cfa returns the CFA's offset from SP at the PC, from the CFI.
func (c *compiler) cfa() (int64, error) {
	if !c.cfaDone {
		c.cfaDone = true
		c.cfaOff, c.cfaErr = c.loadCFA()
	}
	if c.cfaErr != nil {
		return 0, c.cfaErr
	}
	c.cfaUsed = true
	return c.cfaOff, nil
}

func (c *compiler) loadCFA() (int64, error) {
	data, err := c.bi.Section(".debug_frame")
	if err != nil {
		return 0, notCompilable("no call frame information: %v", err)
	}
	t, err := frame.Parse(data, binary.LittleEndian, c.bi.PtrSize(), 0, false)
	if err != nil {
		return 0, notCompilable("call frame information: %v", err)
	}
	fde, err := t.FDEForPC(c.linkPC)
	if err != nil {
		return 0, notCompilable("no call frame information at the PC")
	}
	r, err := fde.RulesAt(c.linkPC)
	if err != nil {
		return 0, notCompilable("call frame information at the PC: %v", err)
	}
	if r.CFA.Expr != nil || r.CFA.Reg != regnum.Rsp {
		return 0, notCompilable("CFA at the PC is not SP-relative")
	}
	return r.CFA.Offset, nil
}

// probeRead emits bpf_probe_read_user(R10+slotOff(slot), size, R3) with a
// jump to the fault exit when it fails. size is an immediate, or when
// sizeReg is not R0 that register (bounded by the caller).
func (c *compiler) probeRead(slot int, size int32, sizeReg asm.Register) {
	c.emit(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, int32(slotOff(slot))))
	if sizeReg != asm.R0 {
		c.emit(asm.Mov.Reg(asm.R2, sizeReg))
	} else {
		c.emit(asm.Mov.Imm(asm.R2, size))
	}
	c.emit(asm.FnProbeReadUser.Call())
	c.faultIf(func(l string) asm.Instruction { return asm.JNE.Imm(asm.R0, 0, l) })
}

func sizeOf(n int) (asm.Size, bool) {
	switch n {
	case 1:
		return asm.Byte, true
	case 2:
		return asm.Half, true
	case 4:
		return asm.Word, true
	case 8:
		return asm.DWord, true
	}
	return 0, false
}

// normalize brings the low n bytes of r to the 64-bit form values are
// computed in: sign-extended for signed types, zero-extended otherwise.
func (c *compiler) normalize(r asm.Register, n int, signed bool) {
	if n >= 8 {
		return
	}
	if signed {
		switch n {
		case 1:
			c.emit(asm.MovSX8.Reg(r, r))
		case 2:
			c.emit(asm.MovSX16.Reg(r, r))
		case 4:
			c.emit(asm.MovSX32.Reg(r, r))
		}
		return
	}
	switch n {
	case 1:
		c.emit(asm.And.Imm(r, 0xff))
	case 2:
		c.emit(asm.And.Imm(r, 0xffff))
	case 4:
		c.emit(asm.Mov.Reg32(r, r))
	}
}

// boolify makes r 1 when it is not 0, as the evaluator reads a bool byte.
func (c *compiler) boolify(r asm.Register) {
	l := c.label()
	c.emit(asm.JEq.Imm(r, 0, l), asm.Mov.Imm(r, 1))
	c.mark(l)
}

// loadAddr puts the run-time address of pl+off in R3. It returns false for
// a place in registers.
func (c *compiler) loadAddr(pl *place, off int64) error {
	switch pl.kind {
	case inCFA:
		if _, err := c.cfa(); err != nil {
			return err
		}
		c.emit(asm.Mov.Reg(asm.R3, regCFA), asm.Add.Imm(asm.R3, int32(pl.off+off)))
	case inAbs:
		c.emit(asm.LoadImm(asm.R3, int64(pl.addr+uint64(pl.off+off)), asm.DWord))
	case inPtr:
		c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(pl.slot), asm.DWord))
		if pl.off+off != 0 {
			c.emit(asm.Add.Imm(asm.R3, int32(pl.off+off)))
		}
	default:
		return notCompilable("internal: address of a register value")
	}
	return nil
}

// loadWord puts the n bytes (1, 2, 4 or 8) at offset off of pl into dst,
// normalized; dst is R0 or a callee-saved register, R1-R5 are clobbered.
func (c *compiler) loadWord(pl *place, off int64, n int, signed bool, dst asm.Register) error {
	sz, ok := sizeOf(n)
	if !ok {
		return notCompilable("value of %d bytes", n)
	}
	if pl.kind == inRegs {
		return c.loadPieces(pl, pl.off+off, n, signed, dst)
	}
	if err := c.loadAddr(pl, off); err != nil {
		return err
	}
	c.probeRead(readSlot, int32(n), asm.R0)
	if signed && n < 8 {
		c.emit(asm.LoadMemSX(dst, asm.R10, slotOff(readSlot), sz))
	} else {
		c.emit(asm.LoadMem(dst, asm.R10, slotOff(readSlot), sz))
	}
	return nil
}

// loadPieces reads bytes [off, off+n) of a value assembled from pieces;
// they must all come from one piece.
func (c *compiler) loadPieces(pl *place, off int64, n int, signed bool, dst asm.Register) error {
	for _, p := range pl.pieces {
		if off < p.start || off+int64(n) > p.start+p.size {
			continue
		}
		in := off - p.start
		switch {
		case p.mem != nil:
			return c.loadWord(p.mem, in, n, signed, dst)
		case p.isReg:
			shift := 8 * (in + int64(p.regOff))
			if shift+int64(8*n) > 64 {
				return notCompilable("value beyond its register")
			}
			c.emit(asm.LoadMem(dst, regCtx, int16(8*p.ptSlot), asm.DWord))
			if shift > 0 {
				c.emit(asm.RSh.Imm(dst, int32(shift)))
			}
			c.normalize(dst, n, signed)
			return nil
		default:
			var v uint64
			for i := 0; i < n; i++ {
				if k := int(in) + i; k < len(p.bytes) {
					v |= uint64(p.bytes[k]) << (8 * i)
				}
			}
			c.emit(asm.LoadImm(dst, int64(extend(v, n, signed)), asm.DWord))
			return nil
		}
	}
	return notCompilable("value split across register pieces")
}

// extend sign- or zero-extends the low n bytes of v.
func extend(v uint64, n int, signed bool) uint64 {
	if n >= 8 {
		return v
	}
	shift := 64 - 8*uint(n)
	if signed {
		return uint64(int64(v<<shift) >> shift)
	}
	return v << shift >> shift
}
