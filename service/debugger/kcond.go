package debugger

import (
	"errors"
	"os"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/service/api"
)

// compileCond turns a condition into BPF instructions for the breakpoint
// address pc (run-time), or says why it cannot, in a few words.
func (d *Debugger) compileCond(expr string, pc uint64) (asm.Instructions, error) {
	opts := cond.Options{Bias: d.bi.Bias()}
	if p, err := d.program(); err == nil {
		opts.Eval = p // its type cache is the debugger's
	}
	prog, err := cond.Compile(d.bi, pc, expr, opts)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), cond.ErrNotCompilable.Error()+": "))
	}
	return prog.Insns, nil
}

// checkBPF says whether this process may load BPF programs and attach
// uprobes; a variable so that a test can play a machine without them.
var checkBPF = ebpf.CheckPermissions

// envNoKernelCond turns evaluation in the kernel off, to compare the two
// ways (the benchmarks do) or to rule the kernel out.
const envNoKernelCond = "TINYDBG_KERNEL_COND"

// applyCondMode puts ub's condition in the kernel when it compiles and the
// machine allows it, else leaves it to stop-and-evaluate with the reason
// on the breakpoint. It is called whenever the condition, the hit
// condition or the proc breakpoint changes.
func (d *Debugger) applyCondMode(t *proc.Target, ub *userBreakpoint) {
	pbp := ub.pbp
	if pbp == nil || pbp.Watch != nil || pbp.Cond != nil {
		return
	}
	if pbp.CondExpr == "" && pbp.HitCond == nil {
		_ = t.DropKernelCond(pbp)
		return
	}
	fallback := func(why string) {
		_ = t.DropKernelCond(pbp)
		pbp.CondFallback = why
	}
	if os.Getenv(envNoKernelCond) == "0" {
		fallback(envNoKernelCond + "=0")
		return
	}
	if err := checkBPF(); err != nil {
		fallback(noEBPF + err.Error())
		return
	}
	var compile func(uint64) (asm.Instructions, error)
	if expr := pbp.CondExpr; expr != "" {
		compile = func(pc uint64) (asm.Instructions, error) { return d.compileCond(expr, pc) }
	}
	// t.BinInfo() is read at each call: a restart may bring another binary.
	offset := func(addr uint64) (uint64, error) { return probe.FileOffset(t.BinInfo(), addr) }
	kc, err := t.NewKernelCond(compile, cond.EndSymbol, offset)
	if err != nil {
		fallback(err.Error())
		return
	}
	// A failure is kept on pbp as its reason; the machine's are marked,
	// and the terminal says them in a line of their own when set.
	if err := t.SetKernelCond(pbp, kc); errors.Is(err, proc.ErrKernelUnavailable) {
		pbp.CondFallback = noEBPF + strings.TrimPrefix(err.Error(), proc.ErrKernelUnavailable.Error()+": ")
	}
}

// noEBPF starts the reason of a fallback that the whole machine causes.
const noEBPF = "no eBPF: "

// condEval says on the wire how a breakpoint's condition is evaluated.
func condEval(ub *userBreakpoint) string {
	if ub.pbp == nil || (ub.spec.Cond == "" && ub.spec.HitCond == "") {
		return ""
	}
	return ub.pbp.CondModeText()
}

// describeCond fills the fields of b that say how the condition runs.
func describeCond(ub *userBreakpoint, b *api.Breakpoint) {
	b.CondEval = condEval(ub)
	if ub.pbp != nil {
		b.CondFaults = ub.pbp.CondFaults
	}
}

func sameHitCond(a, b *proc.HitCondition) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
