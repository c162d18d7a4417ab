package native

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// funcCode returns the link-time address and code of an ELF function symbol.
func funcCode(t *testing.T, exe, name string) (uint64, []byte) {
	t.Helper()
	s := testproc.Symbol(t, exe, name)
	return s.Value, textBytes(t, exe, s.Value, int(s.Size))
}

// siteInst is one instruction of a fixture function.
type siteInst struct {
	addr uint64
	inst emuInst
	orig []byte
}

// decodeFunc decodes every instruction of an ELF function.
func decodeFunc(t *testing.T, exe, name string) []siteInst {
	t.Helper()
	addr, code := funcCode(t, exe, name)
	var out []siteInst
	for off := 0; off < len(code); {
		e, err := decodeProbe(code[off:])
		if err != nil {
			break
		}
		orig := textBytes(t, exe, addr+uint64(off), 16)
		out = append(out, siteInst{addr: addr + uint64(off), inst: e, orig: orig})
		off += e.inst.Len
	}
	return out
}

// recordingMem reads the stopped tracee and records writes instead of
// making them, so the CPU can then run the real instruction.
type recordingMem struct {
	p      *Process
	writes map[uint64][]byte
}

func (m *recordingMem) read(addr uint64, buf []byte) error {
	_, err := m.p.ReadMemory(buf, addr)
	return err
}

func (m *recordingMem) write(addr uint64, data []byte) error {
	m.writes[addr] = append([]byte(nil), data...)
	return nil
}

// TestEmulationMatchesCPU runs every emulated instruction form of the
// probeforms fixture twice on a real process: in the emulator, then on the
// CPU with a single step from the same state. Every register, flags
// included, and every byte written must agree.
func TestEmulationMatchesCPU(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	var sites []siteInst
	for _, fn := range []string{"main.forms.abi0", "main.leaf.abi0"} {
		for _, s := range decodeFunc(t, exe, fn) {
			if s.inst.form != formNone {
				sites = append(sites, s)
			}
		}
	}
	perForm := map[emuForm]int{}
	for _, s := range sites {
		perForm[s.inst.form]++
	}
	want := map[emuForm]int{formPush: 2, formRet: 2, formNop: 1, formLea: 3, formMov: 17}
	for f, n := range want {
		if perForm[f] != n {
			t.Fatalf("fixture has %d instructions of form %d, want %d (%v)", perForm[f], f, n, perForm)
		}
	}

	p := launch(t, LaunchConfig{Path: exe, Args: []string{"forms", "1"}, Stdout: testproc.DevNull(t)})
	byAddr := map[uint64]*siteInst{}
	for i := range sites {
		byAddr[sites[i].addr] = &sites[i]
		if _, err := p.WriteMemory(sites[i].addr, []byte{0xcc}); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for checked < len(sites) {
		ev := continueTo(t, p, proc.StopKindTrap)
		th := ev.Trapped[0]
		regs, err := th.Registers()
		if err != nil {
			t.Fatal(err)
		}
		s := byAddr[regs.Rip-1]
		if s == nil {
			t.Fatalf("trap at %#x, not at a site", regs.Rip)
		}
		delete(byAddr, s.addr)
		regs.Rip = s.addr
		raw := toPtrace(&regs)
		mem := &recordingMem{p: p, writes: map[uint64][]byte{}}
		if err := emulate(&s.inst, s.addr, &raw, mem); err != nil {
			t.Fatalf("%#x %v: %v", s.addr, s.inst.inst, err)
		}
		// Now the CPU: original byte back, same registers, one step.
		if _, err := p.WriteMemory(s.addr, s.orig[:1]); err != nil {
			t.Fatal(err)
		}
		if err := th.SetRegisters(regs); err != nil {
			t.Fatal(err)
		}
		if err := th.StepInstruction(); err != nil {
			t.Fatal(err)
		}
		cpu, err := th.Registers()
		if err != nil {
			t.Fatal(err)
		}
		if emu := fromPtrace(&raw); emu != cpu {
			t.Errorf("%#x %v:\nemulated %+v\ncpu      %+v", s.addr, s.inst.inst, emu, cpu)
		}
		wantWrites := 0
		if s.inst.form == formPush || (s.inst.form == formMov && isMem(s.inst.inst.Args[0])) {
			wantWrites = 1
		}
		if len(mem.writes) != wantWrites {
			t.Errorf("%#x %v: %d memory writes, want %d", s.addr, s.inst.inst, len(mem.writes), wantWrites)
		}
		for addr, data := range mem.writes {
			got := make([]byte, len(data))
			if _, err := p.ReadMemory(got, addr); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%#x %v: wrote % x at %#x, the CPU wrote % x", s.addr, s.inst.inst, data, addr, got)
			}
		}
		checked++
	}
	continueTo(t, p, proc.StopKindExited)
}

func isMem(a x86asm.Arg) bool {
	_, ok := a.(x86asm.Mem)
	return ok
}

// probeRecorder counts hits per probe address and per thread.
type probeRecorder struct {
	perAddr   map[uint64]int
	perThread map[int]int
	badRip    int
}

func newRecorder() *probeRecorder {
	return &probeRecorder{perAddr: map[uint64]int{}, perThread: map[int]int{}}
}

func (r *probeRecorder) handle(h *ProbeHit) error {
	r.perAddr[h.Addr]++
	r.perThread[h.Thread.ID()]++
	if h.Regs.Rip != h.Addr {
		r.badRip++
	}
	return nil
}

// untraced runs the fixture without a debugger and returns its output.
func untraced(t *testing.T, exe string, args ...string) string {
	t.Helper()
	out, err := exec.Command(exe, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", exe, args, err)
	}
	return string(out)
}

// probesAt writes an int3 at each address and returns the probes.
func probesAt(t *testing.T, p *Process, exe string, addrs ...uint64) []Probe {
	t.Helper()
	var out []Probe
	for _, a := range addrs {
		out = append(out, Probe{Addr: a, Orig: textBytes(t, exe, a, 16)})
		if _, err := p.WriteMemory(a, []byte{0xcc}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRunProbesForms puts a probe on every instruction of forms, emulated or
// not, and runs it 300 times without stopping: each probe must report
// exactly 300 hits and the program must compute what it computes untraced.
func TestRunProbesForms(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	const calls = 300
	want := untraced(t, exe, "forms", strconv.Itoa(calls))
	var addrs []uint64
	emulated, stepped := 0, 0
	for _, fn := range []string{"main.forms.abi0", "main.leaf.abi0"} {
		for _, s := range decodeFunc(t, exe, fn) {
			if s.inst.inst.Op == x86asm.CALL {
				continue // its return address is not known in advance: covered by leaf's probe
			}
			addrs = append(addrs, s.addr)
			if s.inst.form == formNone {
				stepped++
			} else {
				emulated++
			}
		}
	}
	if emulated != 25 || stepped != 15 {
		t.Fatalf("fixture has %d emulated and %d stepped sites, want 25 and 15", emulated, stepped)
	}
	p, rec := probeToExit(t, exe, addrs, want, "forms", strconv.Itoa(calls))
	for _, a := range addrs {
		if rec.perAddr[a] != calls {
			t.Errorf("probe %#x: %d hits, want %d", a, rec.perAddr[a], calls)
		}
	}
	if rec.badRip != 0 {
		t.Errorf("%d hits reported a RIP other than the probe address", rec.badRip)
	}
	c := p.lastProbeRun
	if c.hits != uint64(calls*len(addrs)) || c.emulated != uint64(calls*emulated) || c.stepped != uint64(calls*stepped) {
		t.Errorf("counts %+v, want %d hits, %d emulated, %d stepped", c, calls*len(addrs), calls*emulated, calls*stepped)
	}
}

// probeToExit runs exe with args under RunProbes at addrs until it exits
// 0, checks its output is want (its untraced output) and returns the
// process and the hits recorded.
func probeToExit(t *testing.T, exe string, addrs []uint64, want string, args ...string) (*Process, *probeRecorder) {
	t.Helper()
	r, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Args: args, Stdout: w})
	rec := newRecorder()
	ev, err := p.RunProbes(probesAt(t, p, exe, addrs...), rec.handle)
	if err != nil || ev.Kind != proc.StopKindExited || ev.ExitCode != 0 {
		t.Fatalf("RunProbes = %+v, %v; want exit 0", ev, err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	if string(out) != want {
		t.Errorf("traced output %q, untraced %q", out, want)
	}
	return p, rec
}

// hammerProbes returns the entry and RET addresses of both hammered
// functions: ADDQ (stepped), LEAQ (emulated) and two RETs (emulated).
func hammerProbes(t *testing.T, exe string) (addrs []uint64) {
	t.Helper()
	for _, fn := range []string{"main.hammered", "main.hammeredLea"} {
		insts := decodeFunc(t, exe, fn)
		addrs = append(addrs, insts[0].addr)
		for _, s := range insts {
			if s.inst.form == formRet {
				addrs = append(addrs, s.addr)
			}
		}
	}
	return addrs
}

// TestRunProbesFourThreads hammers probed functions from four goroutines,
// each locked to its own thread: no hit may be lost, each thread must
// report its own, and the program's result must not change.
func TestRunProbesFourThreads(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	const calls = 3000
	want := untraced(t, exe, "hammer", strconv.Itoa(calls))
	addrs := hammerProbes(t, exe)
	if len(addrs) != 4 {
		t.Fatalf("probes %x, want 2 entries and 2 RETs", addrs)
	}
	p, rec := probeToExit(t, exe, addrs, want, "hammer", strconv.Itoa(calls))
	for _, a := range addrs {
		if rec.perAddr[a] != 4*calls {
			t.Errorf("probe %#x: %d hits, want %d", a, rec.perAddr[a], 4*calls)
		}
	}
	if len(rec.perThread) != 4 {
		t.Errorf("hits on %d threads, want 4: %v", len(rec.perThread), rec.perThread)
	}
	for tid, n := range rec.perThread {
		if n != 4*calls {
			t.Errorf("thread %d: %d hits, want %d", tid, n, 4*calls)
		}
	}
	if c := p.lastProbeRun; c.stepped != 4*calls || c.emulated != 3*4*calls {
		t.Errorf("counts %+v, want %d stepped and %d emulated", c, 4*calls, 3*4*calls)
	}
}

// TestRunProbesHaltAndHandlerError stops a run twice: with RequestHalt from
// the handler, then with a handler error. Both leave every thread stopped
// and no thread between a probe's int3 and its instruction.
func TestRunProbesHaltAndHandlerError(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	addrs := hammerProbes(t, exe)
	p := launch(t, LaunchConfig{Path: exe, Args: []string{"hammer", "100000000"}, Stdout: testproc.DevNull(t)})
	probes := probesAt(t, p, exe, addrs...)
	settled := func() {
		t.Helper()
		for _, th := range p.Threads() {
			regs, err := th.Registers() // fails with ErrThreadRunning unless stopped
			if err != nil {
				t.Fatalf("thread %d: %v", th.ID(), err)
			}
			for _, a := range addrs {
				if regs.Rip == a+1 {
					t.Errorf("thread %d left just past the int3 at %#x", th.ID(), a)
				}
			}
		}
	}

	hits := 0
	ev, err := p.RunProbes(probes, func(h *ProbeHit) error {
		if hits++; hits == 500 {
			p.RequestHalt()
		}
		return nil
	})
	if err != nil || ev.Kind != proc.StopKindHalt {
		t.Fatalf("RunProbes = %+v, %v; want a halt", ev, err)
	}
	if c := p.lastProbeRun; c.hits != uint64(hits) || hits < 500 {
		t.Errorf("%d hits reported, %d counted", hits, c.hits)
	}
	settled()

	boom := errors.New("boom")
	hits = 0
	ev, err = p.RunProbes(probes, func(h *ProbeHit) error {
		if hits++; hits == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ev.Kind != proc.StopKindHalt || hits != 10 {
		t.Fatalf("RunProbes = %+v, %v after %d hits; want boom, a halt and 10 hits", ev, err, hits)
	}
	if !strings.Contains(err.Error(), "probe at 0x") {
		t.Errorf("error %q does not name the probe", err)
	}
	settled()
	if err := unix.Kill(p.Pid(), 0); err != nil {
		t.Errorf("process gone after the runs: %v", err)
	}
}
