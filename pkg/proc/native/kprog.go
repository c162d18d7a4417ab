package native

import (
	"github.com/cilium/ebpf/asm"
	"github.com/tinydbg/tinydbg/internal/pidns"
	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// The wrapper's stack, in [R10-256, R10) (the condition has the rest):
const (
	stTid    = -4   // u32: this thread, the key of records and skip
	stSlot   = -8   // u32: the breakpoint's slot, the key of counts
	stGoid   = -16  // u64: goid read from the g in R14
	stPerG   = -32  // {u32 slot, u32 0, u64 goid}: the key of perG
	stOne    = -40  // u64 1: a new perG counter
	stRecord = -216 // 21 registers then the address: a records value
	ptRegR14 = 8    // offsetof(struct pt_regs, r14): the g under ABIInternal
)

// Labels of the wrapper; the condition's own labels must differ.
const (
	lEval  = "tdbg_eval"
	lTrue  = "tdbg_true"
	lNewG  = "tdbg_newg"
	lHitC  = "tdbg_hitcond"
	lOut   = "tdbg_out"
	lFault = "tdbg_fault"
)

// FalseCond is a condition that never holds, in the contract of
// pkg/proc/ebpf/cond: the benchmark's baseline probe.
func FalseCond(endSym string) asm.Instructions {
	return asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Ja.Label(endSym)}
}

// currentTid stores at stTid the hitting thread's id as ptrace knows it,
// in tinydbg's own pid namespace (0 if the kernel cannot say: the thread
// then matches no record, and is not stopped wrongly).
func currentTid(ns pidns.NS) asm.Instructions {
	if ns.Initial() {
		return asm.Instructions{asm.FnGetCurrentPidTgid.Call(),
			asm.StoreMem(asm.R10, stTid, asm.R0, asm.Word)}
	}
	// struct bpf_pidns_info {u32 pid; u32 tgid}, in the record's space,
	// which is written only later; the helper zeroes it when it fails.
	return asm.Instructions{
		asm.LoadImm(asm.R1, int64(ns.Dev), asm.DWord),
		asm.LoadImm(asm.R2, int64(ns.Ino), asm.DWord),
		asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, stRecord),
		asm.Mov.Imm(asm.R4, 8),
		asm.FnGetNsCurrentPidTgid.Call(),
		asm.LoadMem(asm.R1, asm.R10, stRecord, asm.Word),
		asm.StoreMem(asm.R10, stTid, asm.R1, asm.Word)}
}

// siteProgram generates the program of one site around the condition.
func siteProgram(k *kernelConds, sp siteParams) asm.Instructions {
	mapPtr := func(dst asm.Register, m interface{ FD() int }) asm.Instruction {
		ins := asm.LoadMapPtr(dst, 0)
		_ = ins.AssociateMap(m)
		return ins
	}
	stackPtr := func(dst asm.Register, off int32) asm.Instructions {
		return asm.Instructions{asm.Mov.Reg(dst, asm.R10), asm.Add.Imm(dst, off)}
	}
	endSym := sp.endSym
	cond := sp.cond
	if cond == nil {
		endSym = "tdbg_cond_end"
		cond = asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Ja.Label(endSym)}
	}
	var p asm.Instructions
	add := func(ins ...asm.Instruction) { p = append(p, ins...) }
	adds := func(ins asm.Instructions) { p = append(p, ins...) }

	add(asm.Mov.Reg(asm.R6, asm.R1))
	adds(currentTid(k.ns))
	add(asm.StoreImm(asm.R10, stSlot, int64(sp.slot), asm.Word))
	// A thread the debugger steps over this address (or resumes at it,
	// its registers changed) is not evaluated again.
	add(mapPtr(asm.R1, k.skip))
	adds(stackPtr(asm.R2, stTid))
	add(asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, lEval),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.LoadImm(asm.R2, int64(sp.addr), asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, lEval),
		mapPtr(asm.R1, k.skip))
	adds(stackPtr(asm.R2, stTid))
	add(asm.FnMapDeleteElem.Call(), asm.Ja.Label(lOut))

	add(asm.Mov.Imm(asm.R0, 0).WithSymbol(lEval))
	adds(cond)
	add(asm.JEq.Imm(asm.R0, 1, lTrue).WithSymbol(endSym),
		asm.JNE.Imm(asm.R0, 2, lOut))
	// Fault: an invalid pointer was read. False, and counted.
	add(mapPtr(asm.R1, k.counts).WithSymbol(lFault))
	adds(stackPtr(asm.R2, stSlot))
	add(asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, lOut),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 8),
		asm.Ja.Label(lOut))

	// True: count it, in total (R9) and for the goroutine (R7). The total
	// is this hit's own number from a fetching add (BPF_ADD | BPF_FETCH
	// returns the old value in the source): threads hitting at the same
	// instant each get a different total, so a hit condition on the total
	// matches exactly one hit. Per-goroutine counts are exact without it
	// (a goroutine runs on one thread at a time).
	add(mapPtr(asm.R1, k.counts).WithSymbol(lTrue))
	adds(stackPtr(asm.R2, stSlot))
	add(asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, lOut),
		asm.Mov.Imm(asm.R9, 1),
		fetchAdd(asm.R0, asm.R9),
		asm.Add.Imm(asm.R9, 1),
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.R10, stGoid, asm.R1, asm.DWord),
		asm.LoadMem(asm.R3, asm.R6, ptRegR14, asm.DWord),
		asm.Add.Imm(asm.R3, int32(sp.goidOff)))
	adds(stackPtr(asm.R1, stGoid))
	add(asm.Mov.Imm(asm.R2, 8),
		asm.FnProbeReadUser.Call(),
		asm.LoadMem(asm.R1, asm.R10, stGoid, asm.DWord),
		asm.StoreMem(asm.R10, stPerG+8, asm.R1, asm.DWord),
		asm.StoreImm(asm.R10, stPerG, int64(sp.slot), asm.Word),
		asm.StoreImm(asm.R10, stPerG+4, 0, asm.Word),
		mapPtr(asm.R1, k.perG))
	adds(stackPtr(asm.R2, stPerG))
	add(asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, lNewG),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0),
		asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord),
		asm.Ja.Label(lHitC),
		asm.Mov.Imm(asm.R1, 1).WithSymbol(lNewG),
		asm.StoreMem(asm.R10, stOne, asm.R1, asm.DWord),
		mapPtr(asm.R1, k.perG))
	adds(stackPtr(asm.R2, stPerG))
	adds(stackPtr(asm.R3, stOne))
	add(asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R7, 1))

	// The hit condition, on the count Delve would use.
	count := asm.R9
	if sp.perG {
		count = asm.R7
	}
	add(asm.Mov.Reg(asm.R1, count).WithSymbol(lHitC))
	if h := sp.hit; h != nil {
		add(asm.LoadImm(asm.R2, int64(h.N), asm.DWord))
		switch h.Op {
		case "==":
			add(asm.JNE.Reg(asm.R1, asm.R2, lOut))
		case "!=":
			add(asm.JEq.Reg(asm.R1, asm.R2, lOut))
		case "<":
			add(asm.JGE.Reg(asm.R1, asm.R2, lOut))
		case "<=":
			add(asm.JGT.Reg(asm.R1, asm.R2, lOut))
		case ">":
			add(asm.JLE.Reg(asm.R1, asm.R2, lOut))
		case ">=":
			add(asm.JLT.Reg(asm.R1, asm.R2, lOut))
		case "%":
			add(asm.Mod.Reg(asm.R1, asm.R2), asm.JNE.Imm(asm.R1, 0, lOut))
		default:
			add(asm.Ja.Label(lOut))
		}
	}
	// Stop: record what the probe saw, then signal this thread.
	for i := 0; i < nRegs; i++ {
		add(asm.LoadMem(asm.R1, asm.R6, int16(8*i), asm.DWord),
			asm.StoreMem(asm.R10, int16(stRecord+8*i), asm.R1, asm.DWord))
	}
	add(asm.LoadImm(asm.R1, int64(sp.addr), asm.DWord),
		asm.StoreMem(asm.R10, int16(stRecord+8*nRegs), asm.R1, asm.DWord),
		mapPtr(asm.R1, k.records))
	adds(stackPtr(asm.R2, stTid))
	adds(stackPtr(asm.R3, stRecord))
	add(asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R1, int32(unix.SIGTRAP)),
		asm.FnSendSignalThread.Call())
	add(asm.Mov.Imm(asm.R0, 0).WithSymbol(lOut), asm.Return())
	return p
}

// notReplayable says why the instruction at the start of text must not
// run a second time from the registers the probe saw ("" if it may): the
// kernel has run it once when the debugger reports the stop before it,
// and the program runs it again when resumed from there, unless the
// debugger can put the registers of after it back (see settleKernelHit).
func notReplayable(text []byte) string {
	inst, err := x86asm.Decode(text, 64)
	if err != nil {
		return "an instruction that does not decode"
	}
	for _, pfx := range inst.Prefix {
		switch pfx &^ x86asm.PrefixImplicit {
		case x86asm.PrefixLOCK:
			return "a locked instruction (" + inst.Op.String() + ")"
		case x86asm.PrefixREP, x86asm.PrefixREPN:
			return "a repeated string instruction (" + inst.Op.String() + ")"
		}
	}
	switch inst.Op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD,
		x86asm.STOSQ, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ, x86asm.CMPSB, x86asm.CMPSW,
		x86asm.CMPSD, x86asm.CMPSQ, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ:
		return "a string instruction (" + inst.Op.String() + ")"
	case x86asm.SYSCALL, x86asm.INT, x86asm.RDTSC, x86asm.RDTSCP, x86asm.CPUID:
		return "an instruction with effects outside memory (" + inst.Op.String() + ")"
	case x86asm.XCHG, x86asm.XADD, x86asm.CMPXCHG, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B:
		if hasMem(inst) {
			return "a read-modify-write of memory (" + inst.Op.String() + ")"
		}
	case x86asm.ADD, x86asm.ADC, x86asm.SUB, x86asm.SBB, x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.INC,
		x86asm.DEC, x86asm.NEG, x86asm.NOT, x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR,
		x86asm.RCL, x86asm.RCR, x86asm.BTS, x86asm.BTR, x86asm.BTC, x86asm.SHLD, x86asm.SHRD:
		if _, ok := inst.Args[0].(x86asm.Mem); ok {
			return "a read-modify-write of memory (" + inst.Op.String() + ")"
		}
	}
	return ""
}

// fetchAdd is `src = atomic_fetch_add(*(u64 *)dst, src)`. cilium/ebpf
// 0.22 encodes asm.FetchAdd with an immediate of 0 (it fills the immediate
// from the opcode after it has taken the immediate to write), which the
// kernel runs as a plain add that leaves src as it was; the immediate the
// kernel expects, BPF_ADD | BPF_FETCH = 1, is put here so that the encoder
// writes it, as a fixed encoder would too.
func fetchAdd(dst, src asm.Register) asm.Instruction {
	ins := asm.FetchAdd.Mem(dst, src, asm.DWord, 0)
	ins.Constant = 0x00 | 0x01 // BPF_ADD | BPF_FETCH
	return ins
}

func hasMem(inst x86asm.Inst) bool {
	for _, a := range inst.Args {
		if _, ok := a.(x86asm.Mem); ok {
			return true
		}
	}
	return false
}
