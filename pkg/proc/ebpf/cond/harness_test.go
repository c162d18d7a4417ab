package cond_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Verdicts of one condition at one hit.
const (
	vFalse   = cond.ResultFalse
	vTrue    = cond.ResultTrue
	vFault   = cond.ResultFault
	vNotBool = 3  // the evaluator returned a value that is not a bool
	vMissing = -1 // no hit recorded
)

const calls = 64 // condhot's default number of calls

// site is condhot built in one flavour, with a PC conditions are
// evaluated at: main.hot's entry (after the prologue, arguments in their
// ABI registers when optimized) or its "cond here" line.
type site struct {
	name string
	path string
	bi   *bininfo.BinaryInfo
	prog *eval.Program
	pc   uint64
}

func openSites(t *testing.T, fl fixture.Flavour) []*site {
	t.Helper()
	path := fixture.Build(t, "condhot", fl)
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bi.Close() })
	if bi.IsPIE() {
		t.Fatalf("%s is PIE; the test reads link-time addresses", path)
	}
	src, err := os.ReadFile(fixture.Source("condhot"))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "// cond here") {
			line = i + 1
		}
	}
	pcs, err := bi.LineToPCs(fixture.Source("condhot"), line)
	if err != nil || len(pcs) == 0 {
		t.Fatalf("PCs of condhot line %d: %v %v", line, pcs, err)
	}
	fn, err := bi.LookupFunc("main.hot")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := eval.NewProgram(bi)
	if err != nil {
		t.Fatal(err)
	}
	return []*site{
		{name: "entry", path: path, bi: bi, prog: prog, pc: bi.FirstPCAfterPrologue(fn)},
		{name: "line", path: path, bi: bi, prog: prog, pc: pcs[0]},
	}
}

// batch is how many conditions one test program evaluates: removing a
// uprobe waits for a grace period, so the test keeps their number small.
const batch = 16

// rename prefixes the labels of one condition's code so that several fit
// in one program; its jumps to cond.EndSymbol go to prefix+EndSymbol.
func rename(insns asm.Instructions, prefix string) asm.Instructions {
	out := make(asm.Instructions, len(insns))
	for i, in := range insns {
		if sym := in.Symbol(); sym != "" {
			in = in.WithSymbol(prefix + sym)
		}
		if ref := in.Reference(); ref != "" {
			in = in.WithReference(prefix + ref)
		}
		out[i] = in
	}
	return out
}

// wrap is the test's wrapper program for conditions first..first+len(ps):
// it counts the hits of its batch at results[b] (condhot calls hot from
// one goroutine, one call at a time) and records condition k's result + 1
// for hit n at results[nb + k*calls + n].
func wrap(ps []*cond.Program, m *cebpf.Map, b, nb, first int) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.R10, -4, int64(b), asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R8, asm.R0, 0, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R8), asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
		asm.JGE.Imm(asm.R8, calls, "out"),
		asm.StoreMem(asm.R10, -16, asm.R8, asm.DWord),
	}
	for j, p := range ps {
		prefix := fmt.Sprintf("c%d_", j)
		insns = append(insns, rename(p.Insns, prefix)...)
		insns = append(insns,
			asm.Mov.Reg(asm.R7, asm.R0).WithSymbol(prefix+cond.EndSymbol),
			asm.LoadMem(asm.R8, asm.R10, -16, asm.DWord),
			asm.Add.Imm(asm.R8, int32(nb+(first+j)*calls)),
			asm.StoreMem(asm.R10, -8, asm.R8, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Add.Imm(asm.R7, 1),
			asm.StoreMem(asm.R0, 0, asm.R7, asm.Word),
		)
	}
	return append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())
}

// loadBatch loads compiled conditions in the test wrapper, which must pass
// the verifier.
func loadBatch(t *testing.T, ps []*cond.Program, m *cebpf.Map, b, nb, first int) *cebpf.Program {
	t.Helper()
	prog, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.Kprobe, License: "GPL", Instructions: wrap(ps, m, b, nb, first)})
	if err != nil {
		var ve *cebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("conditions %d..%d fail to load: %v\n%+v", first, first+len(ps)-1, err, ve)
		}
		t.Fatalf("conditions %d..%d fail to load: %v", first, first+len(ps)-1, err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// kernelVerdicts runs condhot once with every condition on uprobes at the
// site and returns, per condition, the verdict of each call.
func kernelVerdicts(t *testing.T, s *site, progs []*cond.Program) [][]int {
	t.Helper()
	testenv.RequireRoot(t)
	nb := (len(progs) + batch - 1) / batch
	m, err := cebpf.NewMap(&cebpf.MapSpec{Type: cebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: uint32(nb + len(progs)*calls)})
	if err != nil {
		testenv.SkipOrFail(t, "creating a BPF map: %v", err)
		return nil
	}
	defer m.Close()
	off, err := probe.FileOffset(s.bi, s.pc)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := link.OpenExecutable(s.path)
	if err != nil {
		t.Fatal(err)
	}
	cmd, wr := testproc.StartWaiting(t, s.path, "CONDHOT_WAIT=1")
	var links []link.Link
	defer func() {
		for _, l := range links {
			l.Close()
		}
	}()
	for b := 0; b < nb; b++ {
		first := b * batch
		bp := loadBatch(t, progs[first:min(first+batch, len(progs))], m, b, nb, first)
		l, err := ex.Uprobe("", bp, &link.UprobeOptions{Address: off, PID: cmd.Process.Pid})
		if err != nil {
			t.Fatalf("uprobe: %v", err)
		}
		links = append(links, l)
	}
	if _, err := wr.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("condhot: %v", err)
	}
	for b := 0; b < nb; b++ {
		var hits uint32
		if err := m.Lookup(uint32(b), &hits); err != nil {
			t.Fatal(err)
		}
		if hits != calls {
			t.Fatalf("batch %d: %d hits, want %d", b, hits, calls)
		}
	}
	out := make([][]int, len(progs))
	for i := range progs {
		out[i] = make([]int, calls)
		for n := 0; n < calls; n++ {
			var v uint32
			if err := m.Lookup(uint32(nb+i*calls+n), &v); err != nil {
				t.Fatal(err)
			}
			out[i][n] = int(v) - 1
		}
	}
	return out
}

// ptraceVerdicts runs condhot under the debugger with a breakpoint at the
// site and evaluates every condition at each stop, as a breakpoint
// condition is evaluated when it does not compile.
func ptraceVerdicts(t *testing.T, s *site, exprs []string) [][]int {
	t.Helper()
	testenv.RequirePtrace(t)
	devnull := testproc.DevNull(t)
	tg, err := proc.Launch(native.Backend{}, s.path, nil, proc.LaunchConfig{Stdout: devnull, Stderr: devnull})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	defer tg.Kill()
	if _, err := tg.SetBreakpointAddr(s.pc); err != nil {
		t.Fatal(err)
	}
	un := stack.New(s.bi)
	out := make([][]int, len(exprs))
	for i := range out {
		out[i] = make([]int, calls)
	}
	for n := 0; ; n++ {
		st, err := tg.Continue()
		if err != nil {
			t.Fatalf("continue: %v", err)
		}
		if st.Reason == proc.StopExited {
			if n != calls {
				t.Fatalf("%d stops, want %d", n, calls)
			}
			return out
		}
		if st.Reason != proc.StopBreakpoint || n >= calls {
			t.Fatalf("stop %d: %v", n, st)
		}
		sc := frameScope(t, tg, s, un)
		for i, e := range exprs {
			out[i][n] = verdict(sc, e)
		}
	}
}

func verdict(sc *eval.Scope, e string) int {
	v, err := sc.Eval(e, value.LoadConfig{})
	switch {
	case err != nil || v.Unreadable != nil:
		return vFault
	case v.Kind != reflect.Bool:
		return vNotBool
	case v.Value == "true":
		return vTrue
	}
	return vFalse
}

func frameScope(t *testing.T, tg *proc.Target, s *site, un *stack.Unwinder) *eval.Scope {
	t.Helper()
	tid := tg.LastStop().ThreadID
	for _, th := range tg.Process().Threads() {
		if th.ID() != tid {
			continue
		}
		regs, err := th.Registers()
		if err != nil {
			t.Fatal(err)
		}
		frames, err := un.Unwind(tg.Process(), stack.FromRegisters(&regs), stack.Options{MaxDepth: 4})
		if len(frames) == 0 {
			t.Fatalf("unwind: %v", err)
		}
		sc, err := s.prog.FrameScope(tg.Process(), frames, 0)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	t.Fatalf("no thread %d", tid)
	return nil
}

func verdictText(vs []int) string {
	var b strings.Builder
	for _, v := range vs {
		switch v {
		case vFalse:
			b.WriteByte('.')
		case vTrue:
			b.WriteByte('T')
		case vFault:
			b.WriteByte('!')
		default:
			fmt.Fprintf(&b, "(%d)", v)
		}
	}
	return b.String()
}
