package compat

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
)

// run runs argv with stdin, killing it after limit; it returns the
// combined output and the command's error.
func run(t *testing.T, stdin string, limit time.Duration, argv ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not finish:\n%s", argv, out)
	}
	return out, err
}

// repl runs a debugger's terminal with script on stdin and returns what
// it printed, without colours, prompts or Delve's greeting.
func repl(t *testing.T, script []string, argv ...string) []string {
	t.Helper()
	out, err := run(t, strings.Join(script, "\n")+"\nexit\n", 90*time.Second, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", argv, err, out)
	}
	s := ansiRE.ReplaceAllString(string(out), "")
	s = strings.ReplaceAll(s, "(dlv) ", "")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l != "Type 'help' for list of commands." && l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func requireDlv(t *testing.T) {
	t.Helper()
	if dlvErr != nil {
		t.Fatalf("dlv %s is needed: %v", dlvVersion, dlvErr)
	}
}

// coreTools are the two commands that open a core, in the same shape.
func coreTools(bin, core string) map[string][]string {
	return map[string][]string{
		"tinydbg": {tinydbgBin, "core", bin, core},
		"dlv":     {dlvBin, "core", "--allow-non-terminal-interactive=true", bin, core},
	}
}

var frameRE = regexp.MustCompile(`^\s*(\d+)\s+0x[0-9a-f]+ in (\S+)$`)

// frames pairs bt's lines into "function file:line".
func frames(bt []string) []string {
	var out []string
	for i := 0; i+1 < len(bt); i++ {
		if m := frameRE.FindStringSubmatch(bt[i]); m != nil {
			out = append(out, m[2]+" "+strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(bt[i+1]), "at ")))
		}
	}
	return out
}

// parkedLine masks the line of runtime.gopark in a goroutine list: for the
// saved PC of a parked goroutine, tinydbg names the line of the call that
// parked it (462), Delve the line after it (463).
var parkedLine = regexp.MustCompile(`proc\.go:\d+ runtime\.gopark`)

// TestCoreKernelBothTools opens one GOTRACEBACK=crash core with tinydbg
// and with dlv: the user goroutines, the panicking goroutine's stack from
// runtime.crash to its end, and the arguments and locals of two of its
// frames are the same text.
//
// Above runtime.crash the two differ on purpose: the fatal signal's
// handler frames are the same, but tinydbg also shows runtime.sigtramp and
// the dieFromSignal call that raised the signal (crash → dieFromSignal →
// raise), at the instruction the signal interrupted (raise's RET, line
// 154), where Delve skips both and names the SYSCALL's line (153).
func TestCoreKernelBothTools(t *testing.T) {
	requireDlv(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
		t.Run(fl.Name(), func(t *testing.T) { coreKernelBothTools(t, fl) })
	}
}

// loclistAddr masks the PC in the message of a variable without a
// location there: tinydbg names the address it looked up (the call
// instruction, PC-1), Delve the return address; both find no entry.
var loclistAddr = regexp.MustCompile(`for address 0x[0-9a-f]+\)`)

func coreKernelBothTools(t *testing.T, fl fixture.Flavour) {
	bin := fixture.Build(t, "corecrash", fl)
	core, _ := corefile.Crash(t, bin)
	tools := coreTools(bin, core)
	stacks := map[string][]string{}
	values := map[string][]string{}
	for name, argv := range tools {
		bt := frames(repl(t, []string{"bt"}, argv...))
		crash := slices.IndexFunc(bt, func(f string) bool { return strings.HasPrefix(f, "runtime.crash ") })
		explode := slices.IndexFunc(bt, func(f string) bool { return strings.HasPrefix(f, "main.explode ") })
		if crash < 0 || explode < 0 {
			t.Fatalf("%s: no runtime.crash or main.explode in %q", name, bt)
		}
		stacks[name] = bt[crash:]
		n := strconv.Itoa(explode)
		n2 := strconv.Itoa(explode + 2)
		out := repl(t, []string{"frame " + n + " args", "frame " + n + " locals", "frame " + n2 + " args", "frame " + n2 + " locals", "goroutines"}, argv...)
		for _, l := range out {
			if !strings.Contains(l, "runtime.gopark") { // see parkedLine
				values[name] = append(values[name], loclistAddr.ReplaceAllString(l, "for address PC)"))
			}
		}
	}
	if !slices.Equal(stacks["tinydbg"], stacks["dlv"]) || len(stacks["dlv"]) != 9 {
		t.Errorf("stack from runtime.crash\ntinydbg %q\n    dlv %q", stacks["tinydbg"], stacks["dlv"])
	}
	if !slices.Equal(values["tinydbg"], values["dlv"]) {
		t.Errorf("values and goroutines\ntinydbg %q\n    dlv %q", values["tinydbg"], values["dlv"])
	}
	if !slices.Contains(values["dlv"], `msg = "core:0"`) || !slices.Contains(values["dlv"], "depth = 2") {
		t.Errorf("dlv shows none of the fixture's values: %q", values["dlv"])
	}
}

// TestDumpBothTools stops the fixture at its panic, under tinydbg and
// under dlv, dumps it, and opens each dump with tinydbg and with dlv:
// goroutines, stack, threads and the values of two frames are the same
// text, so each tool reads the other's dumps.
func TestDumpBothTools(t *testing.T) {
	requireDlv(t)
	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	dumpers := map[string][]string{
		"tinydbg": {tinydbgBin, "exec", bin},
		"dlv":     {dlvBin, "exec", "--allow-non-terminal-interactive=true", bin},
	}
	for dumper, argv := range dumpers {
		t.Run(dumper, func(t *testing.T) {
			dump := filepath.Join(t.TempDir(), "dump")
			out := repl(t, []string{"break main.go:25", "continue", "dump " + dump}, argv...)
			if !slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, "Dumping memory") }) {
				t.Fatalf("dump printed no progress: %q", out)
			}
			for _, l := range out {
				if strings.Contains(l, "incomplete") || strings.Contains(l, "error dumping") {
					t.Fatalf("dump: %q", l)
				}
			}
			script := []string{"goroutines", "bt", "args", "locals", "frame 2 args", "frame 2 locals", "threads", "print items[1:]", "print p.Y * 2"}
			got := map[string][]string{}
			for name, argv := range coreTools(bin, dump) {
				for _, l := range repl(t, script, argv...) {
					got[name] = append(got[name], parkedLine.ReplaceAllString(l, "proc.go:N runtime.gopark"))
				}
			}
			if !slices.Equal(got["tinydbg"], got["dlv"]) {
				t.Errorf("dump opened\ntinydbg %q\n    dlv %q", got["tinydbg"], got["dlv"])
			}
			for _, want := range []string{`p = main.point {X: 3, Y: 8}`, `[]int len: 2, cap: 2, [3,8]`, "16", `msg = "core:2"`} {
				if !slices.Contains(got["dlv"], want) {
					t.Errorf("dlv does not show %q: %q", want, got["dlv"])
				}
			}
		})
	}
}

// TestDelveClientCore drives Delve's own client: DumpStart and DumpWait
// on a live tinydbg server, then a headless `tinydbg core` of that dump,
// where the client lists goroutines, reads the stack and a local, sees a
// recording, and is refused a continue and a second dump in Delve's words.
func TestDelveClientCore(t *testing.T) {
	addr, _ := serveFixture(t, "corecrash")
	c := delverpc.NewClient(addr)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{File: fixture.Source("corecrash"), Line: 25}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.explode", 25)
	dump := filepath.Join(t.TempDir(), "dump")
	ds, err := c.CoreDumpStart(dump)
	if err != nil {
		t.Fatal(err)
	}
	for ds.Dumping {
		ds = c.CoreDumpWait(1000)
	}
	if !ds.AllDone || ds.Err != "" || ds.MemDone != ds.MemTotal || ds.ThreadsTotal == 0 {
		t.Fatalf("dump state %+v", ds)
	}
	live, _, err := c.ListGoroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}

	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	h := startHeadless(t, tinydbgBin, "core", "--headless", "--listen=127.0.0.1:0", bin, dump)
	cc := delverpc.NewClient(h.addr)
	defer cc.Detach(true)
	if !cc.Recorded() {
		t.Error("a core is not a recording to the client")
	}
	gs, _, err := cc.ListGoroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != len(live) {
		t.Errorf("%d goroutines in the dump, %d live", len(gs), len(live))
	}
	for i := range min(len(gs), len(live)) {
		if gs[i].ID != live[i].ID || gs[i].UserCurrentLoc.PC != live[i].UserCurrentLoc.PC {
			t.Errorf("goroutine %d in the dump %+v, live %+v", i, gs[i], live[i])
		}
	}
	frames, err := cc.Stacktrace(1, 10, 0, api.StacktraceOptions(0), &loadCfg)
	if err != nil || len(frames) < 4 || frames[0].Function.Name() != "main.explode" || frames[0].Line != 25 || frames[3].Function.Name() != "main.main" {
		t.Fatalf("stack %+v, %v", frames, err)
	}
	v, err := cc.EvalVariable(api.EvalScope{GoroutineID: 1, Frame: 2}, "msg", loadCfg)
	if err != nil || v.Value != "core:2" {
		t.Errorf("msg in frame 2: %+v, %v", v, err)
	}
	if _, err := continueOnce(t, cc); err == nil || !strings.Contains(err.Error(), "can not continue execution of core process") {
		t.Errorf("continue on a core: %v", err)
	}
	if _, err := cc.CoreDumpStart(dump + "2"); err == nil || !strings.Contains(err.Error(), "core dumping not supported") {
		t.Errorf("dump of a core: %v", err)
	}
}
