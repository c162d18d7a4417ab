package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/dwarf/frame"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// CFI holds the parsed call frame tables of one executable. Either table may
// be nil: a pure-Go binary has no .eh_frame, and a binary linked with -w has
// no .debug_frame (unwinding then relies on frame pointers).
type CFI struct {
	DebugFrame *frame.Table // Go code, written by the Go linker
	EHFrame    *frame.Table // C code of cgo binaries
}

// Unwinder unwinds stacks of one executable. It loads the CFI tables the
// first time it needs them and is safe for concurrent use.
type Unwinder struct {
	syms    Symbols
	bias    func() uint64 // run-time minus link-time address; read per unwind because a PIE's bias is known only once it runs
	loadCFI func() (CFI, error)

	once   sync.Once
	cfi    CFI
	cfiErr error
}

// NewUnwinder returns an unwinder resolving names through syms. bias
// returns the current load bias; loadCFI parses the frame tables and is
// called at most once, on the first unwind.
func NewUnwinder(syms Symbols, bias func() uint64, loadCFI func() (CFI, error)) *Unwinder {
	return &Unwinder{syms: syms, bias: bias, loadCFI: loadCFI}
}

func (u *Unwinder) tables() (CFI, error) {
	u.once.Do(func() { u.cfi, u.cfiErr = u.loadCFI() })
	return u.cfi, u.cfiErr
}

// UnwindSched walks the stack of a goroutine that is not running, from its
// saved context. The saved PC is a return address (of the call into the
// scheduler), so the innermost frame is positioned at that call.
func (u *Unwinder) UnwindSched(mem MemoryReader, s Sched, opts Options) ([]Frame, error) {
	opts.fromSched = true
	return u.Unwind(mem, FromSched(s), opts)
}

// Unwind walks the stack whose innermost frame is described by regs (a
// thread's registers, see FromRegisters, or a saved goroutine context, see
// FromSched). It returns the logical frames innermost first. The error is
// nil when the stack ended at an outermost function (runtime.goexit,
// runtime.mstart, runtime.rt0_go, runtime.clone), at a return address of 0,
// at a switch to another stack it was not told how to follow, or at a
// signal handler's entry (the interrupted context is not decoded). Otherwise the frames found
// so far are returned with an error wrapping ErrMaxDepth or ErrTruncated.
func (u *Unwinder) Unwind(mem MemoryReader, regs *op.DwarfRegisters, opts Options) ([]Frame, error) {
	if _, err := u.tables(); err != nil {
		return nil, fmt.Errorf("loading call frame information: %w", err)
	}
	maxDepth := opts.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	cur := copyRegs(regs)
	top, fromSched := true, opts.fromSched
	// exact is set when the current PC is an interrupted instruction rather
	// than a return address: the caller of runtime.asyncPreempt (injected by
	// the preemption signal) or of runtime.sigpanic (a faulting instruction).
	exact := false
	curg := opts.Curg
	var frames []Frame
	for depth := 0; ; depth++ {
		if len(frames) >= maxDepth {
			return frames[:maxDepth], fmt.Errorf("%w: cut at %d frames", ErrMaxDepth, maxDepth)
		}
		pc, sp := cur.PC(), cur.SP()
		if pc == 0 {
			if top {
				return nil, fmt.Errorf("%w: PC is 0", ErrTruncated)
			}
			return frames, nil
		}
		lookup := pc
		if (!top || fromSched) && !exact {
			// A return address follows the call; the call belongs to the
			// line and the CFI row of the instruction before it.
			lookup = pc - 1
		}
		fn, ok := u.syms.FuncAt(lookup)
		if fromSched && (!ok || fn.End <= lookup || lookup < fn.Entry) {
			// A goroutine that never ran resumes at its start function's
			// entry: that PC is not a return address.
			if f, found := u.syms.FuncAt(pc); found && f.Entry == pc {
				lookup, fn, ok = pc, f, true
			}
		}
		if !ok && !top {
			// A return address outside all code means the stack was
			// misread; do not dress garbage up as frames.
			return frames, fmt.Errorf("%w: return address %#x is not in any function", ErrTruncated, pc)
		}
		name := baseName(fn.Name)

		// A signal handler: the kernel pushed the interrupted registers in
		// a ucontext right above sigtramp's return address, so the code the
		// signal interrupted continues the stack, at its exact PC.
		if name == "runtime.sigtramp" {
			_, cfa, err := u.callerRegs(mem, cur, lookup)
			u.appendFrames(&frames, fn, pc, lookup, depth == 0, cur, cfa)
			if err != nil {
				return frames, nil
			}
			interrupted, err := sigcontextRegs(mem, cfa)
			if err != nil {
				return frames, fmt.Errorf("%w: reading the signal context at %#x: %v", ErrTruncated, cfa, err)
			}
			cur, top, fromSched, exact, curg = interrupted, false, false, true, nil
			continue
		}

		// Leaving the system stack: continue on the goroutine's stack from
		// its saved context instead of following g0's CFI.
		var jump *Sched
		if (switchers[name] && !top) || signalEntry[name] {
			if curg == nil || curg.SP == 0 || !canJump[name] {
				// Nothing truthful lies above; end here rather than
				// decode g0's scheduler frames as callers.
				u.appendFrames(&frames, fn, pc, lookup, depth == 0, cur, 0)
				return frames, nil
			}
			jump, curg = curg, nil
		}

		caller, cfa, err := u.callerRegs(mem, cur, lookup)
		u.appendFrames(&frames, fn, pc, lookup, depth == 0, cur, cfa)
		if len(frames) > maxDepth {
			return frames[:maxDepth], fmt.Errorf("%w: cut at %d frames", ErrMaxDepth, maxDepth)
		}
		if outermost[name] {
			return frames, nil
		}
		if jump != nil {
			cur = FromSched(*jump)
			// gosave_systemstack_switch stores a made-up PC inside
			// runtime.systemstack_switch, not a return address; mcall
			// and morestack store their caller's return address, or,
			// for a goroutine the scheduler is about to run for the
			// first time, its start function's entry.
			top = name == "runtime.systemstack"
			fromSched = !top
			continue
		}
		if err != nil {
			return frames, fmt.Errorf("%w: at %s (pc %#x): %v", ErrTruncated, fn.Name, pc, err)
		}
		ret := caller.PC()
		if ret == 0 {
			return frames, nil
		}
		if cfa <= sp {
			return frames, fmt.Errorf("%w: at %s (pc %#x): caller's stack pointer %#x does not grow from %#x", ErrTruncated, fn.Name, pc, cfa, sp)
		}
		if opts.StackHi != 0 && (cfa > opts.StackHi || sp < opts.StackLo) {
			return frames, fmt.Errorf("%w: at %s (pc %#x): stack pointer %#x outside the goroutine stack [%#x, %#x)", ErrTruncated, fn.Name, pc, cfa, opts.StackLo, opts.StackHi)
		}
		cur = caller
		top, fromSched = false, false
		exact = name == "runtime.asyncPreempt" || name == "runtime.sigpanic"
	}
}

// appendFrames adds the logical frames of one physical frame: the inlined
// callees active at lookup (innermost first, each at the position of the
// code or of the call it makes), then the function that owns the code, at
// the call site of its outermost inlined callee.
func (u *Unwinder) appendFrames(frames *[]Frame, fn Func, pc, lookup uint64, innermost bool, regs *op.DwarfRegisters, cfa uint64) {
	regs.CFA = int64(cfa)
	regs.FrameBase = int64(cfa)
	regs.StaticBase = u.bias()
	base := Frame{PC: pc, CFA: cfa, SP: regs.SP(), BP: regs.BP(), Top: innermost, Regs: regs, lookup: lookup}
	file, line, _ := u.syms.LineAt(lookup)
	for _, c := range u.syms.InlinedCallsAt(lookup) {
		f := base
		f.Func = Func{Name: c.Func}
		f.File, f.Line, f.Inlined = file, line, true
		*frames = append(*frames, f)
		file, line = c.CallFile, c.CallLine
	}
	f := base
	f.Func, f.File, f.Line = fn, file, line
	*frames = append(*frames, f)
}

// callerRegs computes the CFA of the frame described by cur and the
// registers of its caller.
func (u *Unwinder) callerRegs(mem MemoryReader, cur *op.DwarfRegisters, lookup uint64) (*op.DwarfRegisters, uint64, error) {
	cfi, _ := u.tables()
	static := lookup - u.bias()
	var rules *frame.Rules
	isC := false
	for _, t := range []*frame.Table{cfi.DebugFrame, cfi.EHFrame} {
		if t == nil {
			continue
		}
		fde, err := t.FDEForPC(static)
		if errors.Is(err, frame.ErrNoFDE) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		rules, err = fde.RulesAt(static)
		if err != nil {
			return nil, 0, fmt.Errorf("call frame information at %#x: %w", lookup, err)
		}
		isC = t == cfi.EHFrame
		break
	}
	if rules == nil {
		return framePointerCaller(mem, cur)
	}
	return applyRules(mem, cur, rules, isC)
}

// cSaved are the registers the System V ABI makes callee-saved besides RSP
// and RBP: in C frames they keep their value unless the CFI says otherwise.
var cSaved = []uint64{regnum.Rbx, 12, 13, 14, 15}

// applyRules evaluates one CFI row against the frame's registers.
func applyRules(mem MemoryReader, cur *op.DwarfRegisters, rules *frame.Rules, isC bool) (*op.DwarfRegisters, uint64, error) {
	cfa, err := cfaOf(mem, cur, rules.CFA)
	if err != nil {
		return nil, 0, err
	}
	caller := &op.DwarfRegisters{ByteOrder: cur.ByteOrder}
	// Neither Go nor GCC describe RSP: the caller's SP is the CFA by
	// definition of the CFA.
	caller.AddReg(regnum.Rsp, cfa)
	if isC {
		for _, r := range cSaved {
			if v, ok := cur.Reg(r); ok {
				caller.AddReg(r, v)
			}
		}
	}
	for reg, rule := range rules.Regs {
		v, ok, err := evalRule(mem, cur, reg, rule, cfa)
		if err != nil {
			return nil, cfa, fmt.Errorf("recovering %s: %w", regnum.Name(int(reg)), err)
		}
		if ok {
			caller.AddReg(reg, v)
		}
	}
	retRule, ok := rules.Regs[rules.RetAddrReg]
	if !ok {
		return nil, cfa, errors.New("no rule for the return address")
	}
	ret, ok, err := evalRule(mem, cur, rules.RetAddrReg, retRule, cfa)
	if err != nil || !ok {
		return nil, cfa, fmt.Errorf("return address unrecoverable: %v", err)
	}
	caller.AddReg(regnum.Rip, ret)
	if _, described := rules.Regs[regnum.Rbp]; !described {
		bp, err := goCallerBP(mem, cur, cfa)
		if err != nil {
			return nil, cfa, err
		}
		caller.AddReg(regnum.Rbp, bp)
	}
	return caller, cfa, nil
}

// cfaOf computes the canonical frame address a CFI row defines: a register
// plus an offset, or a DWARF expression whose result is the CFA (the
// linker's PLT stubs use one, since the CFA moves with the stub's push).
func cfaOf(mem MemoryReader, cur *op.DwarfRegisters, rule frame.CFARule) (uint64, error) {
	if rule.Expr == nil {
		base, ok := cur.Reg(rule.Reg)
		if !ok {
			return 0, fmt.Errorf("CFA register %s is unknown", regnum.Name(int(rule.Reg)))
		}
		return uint64(int64(base) + rule.Offset), nil
	}
	loc, err := op.Execute(rule.Expr, cur, mem, 8)
	if err != nil {
		return 0, fmt.Errorf("CFA expression %s: %w", op.Disassemble(rule.Expr), err)
	}
	if !loc.IsAddr {
		return 0, fmt.Errorf("CFA expression %s yields %v, not an address", op.Disassemble(rule.Expr), loc)
	}
	return loc.Addr, nil
}

// goCallerBP recovers the caller's RBP, which Go's CFI does not describe.
// Go functions with a frame push RBP right below the return address and
// point RBP at it; until that happens (and again after the epilogue pops
// it) RBP still holds the caller's value, which lies above the CFA.
func goCallerBP(mem MemoryReader, cur *op.DwarfRegisters, cfa uint64) (uint64, error) {
	bp, ok := cur.Reg(regnum.Rbp)
	if !ok {
		return 0, nil
	}
	if bp >= cur.SP() && bp < cfa {
		saved, err := readUint64(mem, bp)
		if err != nil {
			return 0, fmt.Errorf("reading saved frame pointer: %w", err)
		}
		return saved, nil
	}
	return bp, nil
}

// evalRule computes one register of the caller; ok is false when the rule
// leaves it unknown.
func evalRule(mem MemoryReader, cur *op.DwarfRegisters, reg uint64, rule frame.Rule, cfa uint64) (uint64, bool, error) {
	switch rule.Kind {
	case frame.RuleUndefined:
		return 0, false, nil
	case frame.RuleSameValue:
		v, ok := cur.Reg(reg)
		return v, ok, nil
	case frame.RuleOffset:
		v, err := readUint64(mem, uint64(int64(cfa)+rule.Offset))
		return v, err == nil, err
	case frame.RuleValOffset:
		return uint64(int64(cfa) + rule.Offset), true, nil
	case frame.RuleRegister:
		v, ok := cur.Reg(rule.Reg)
		return v, ok, nil
	}
	// DWARF expressions in register rules appear only in hand-written C
	// (signal trampolines); leaving the register unknown is truthful.
	return 0, false, nil
}

// framePointerCaller unwinds one frame through the RBP chain, for code no
// FDE covers: [RBP] is the caller's RBP and [RBP+8] the return address.
func framePointerCaller(mem MemoryReader, cur *op.DwarfRegisters) (*op.DwarfRegisters, uint64, error) {
	bp, ok := cur.Reg(regnum.Rbp)
	if !ok || bp == 0 || bp%8 != 0 || bp < cur.SP() {
		return nil, 0, fmt.Errorf("no call frame information and no usable frame pointer (rbp %#x)", bp)
	}
	var buf [16]byte
	if n, err := mem.ReadMemory(buf[:], bp); err != nil || n != len(buf) {
		return nil, 0, fmt.Errorf("reading frame record at %#x: %w", bp, errShort(err))
	}
	cfa := bp + 16
	caller := &op.DwarfRegisters{ByteOrder: cur.ByteOrder}
	caller.AddReg(regnum.Rsp, cfa)
	caller.AddReg(regnum.Rbp, le64(buf[0:8]))
	caller.AddReg(regnum.Rip, le64(buf[8:16]))
	return caller, cfa, nil
}

// copyRegs returns an independent copy of r, so that frames never share
// state with the caller's register set.
func copyRegs(r *op.DwarfRegisters) *op.DwarfRegisters {
	c := &op.DwarfRegisters{ByteOrder: r.ByteOrder, StaticBase: r.StaticBase, AddrIndex: r.AddrIndex}
	c.ShareFPRegisters(r) // same frame, same XMM registers (loaded at most once)
	for n := uint64(0); n < regnum.Count; n++ {
		if v, ok := r.Reg(n); ok {
			c.AddReg(n, v)
		}
	}
	return c
}

func readUint64(mem MemoryReader, addr uint64) (uint64, error) {
	var buf [8]byte
	n, err := mem.ReadMemory(buf[:], addr)
	if err != nil || n != len(buf) {
		return 0, fmt.Errorf("reading 8 bytes at %#x: %w", addr, errShort(err))
	}
	return le64(buf[:]), nil
}

func errShort(err error) error {
	if err != nil {
		return err
	}
	return errors.New("short read")
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// sigcontextRegs reads the registers a signal interrupted from the
// ucontext at uc (Linux amd64: uc_flags, uc_link and a 24-byte stack_t,
// then struct sigcontext: r8–r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
// rip, eflags).
func sigcontextRegs(mem MemoryReader, uc uint64) (*op.DwarfRegisters, error) {
	const sigcontextOff, nregs = 40, 18
	buf := make([]byte, nregs*8)
	if n, err := mem.ReadMemory(buf, uc+sigcontextOff); err != nil || n != len(buf) {
		if err == nil {
			err = fmt.Errorf("short read of %d bytes", n)
		}
		return nil, err
	}
	r := func(i int) uint64 { return binary.LittleEndian.Uint64(buf[i*8:]) }
	regs := arch.Registers{
		R8: r(0), R9: r(1), R10: r(2), R11: r(3), R12: r(4), R13: r(5), R14: r(6), R15: r(7),
		Rdi: r(8), Rsi: r(9), Rbp: r(10), Rbx: r(11), Rdx: r(12), Rax: r(13), Rcx: r(14),
		Rsp: r(15), Rip: r(16), Eflags: r(17),
	}
	return op.NewDwarfRegistersFrom(&regs), nil
}
