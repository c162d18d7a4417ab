package dap

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// launchExec starts a session and launches with args, not yet configured.
func launchExec(t *testing.T, args map[string]any) *testClient {
	t.Helper()
	c := dial(t, startServer(t))
	c.initialize()
	seq := c.send("launch", args)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	return c
}

// logRun runs fixture basic to its end with logpoints on the given lines
// (condition conds[line] on each, none when missing) and returns the
// logged lines, the console lines and how many BPF links were open while
// it ran.
func logRun(t *testing.T, bin, src string, conds, msgs map[int]string, lines []int) (logged, console []string, links int) {
	t.Helper()
	c := launchExec(t, map[string]any{"mode": "exec", "program": bin})
	var bps []map[string]any
	for _, l := range lines {
		bps = append(bps, map[string]any{"line": l, "logMessage": msgs[l], "condition": conds[l]})
	}
	c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": bps})
	for set := false; !set; {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			console = append(console, m.Body.Output)
		case *dap.SetBreakpointsResponse:
			for _, b := range m.Body.Breakpoints {
				if !b.Verified {
					t.Fatalf("breakpoint %+v", b)
				}
			}
			set = true
		}
	}
	links = testenv.BPFLinks(t)
	seq := c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	for {
		m, ok := <-c.msgs
		if !ok {
			t.Fatalf("connection closed: %v", <-c.errs)
		}
		switch m := m.(type) {
		case *dap.OutputEvent:
			if strings.HasPrefix(m.Body.Output, "> ") {
				logged = append(logged, m.Body.Output)
			} else if m.Body.Category == "console" {
				console = append(console, m.Body.Output)
			}
		case *dap.StoppedEvent:
			t.Fatalf("stopped at a logpoint: %+v", m)
		case *dap.TerminatedEvent:
			return logged, console, links
		}
	}
}

// TestKernelLogpoints runs the same logpoints in the kernel and, made
// conditional so that they stop, through ptrace: both print the same
// lines, the kernel run with its uprobes attached and then removed at the
// program's exit, the other with one line saying why it stops. A float
// argument, which uprobes cannot read, and an expression beyond a field
// selection stop in both runs, with the reason.
func TestKernelLogpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		fixture string
		fl      fixture.Flavour
		msgs    map[int]string
		stops   map[int]string // line → why it stops even without a condition
		want    []string       // nil: only the agreement of both runs is checked
	}{
		{fixture: "basic", msgs: map[int]string{
			14: "add a={a} b={b}",
			20: "scale p={p} p.X={p.X} p.Name={p.Name} k={k}",
			25: "describe s={s} p={p} p.Name={p.Name} p.Y={p.Y}",
			15: "sum={sum} twice={a+b}",
		}, stops: map[int]string{15: "a+b: only variables and field selections are captured in the kernel"},
			want: []string{
				"> [Go 1]: add a=3 b=4\n",
				"> [Go 1]: sum=7 twice=7\n",
				`> [Go 1]: scale p=*main.Point {X: 6, Y: 4, Name: "pt"} p.X=6 p.Name="pt" k=2` + "\n",
				`> [Go 1]: describe s="pt(6,8)" p=main.Point {X: 6, Y: 8, Name: "pt"} p.Name="pt" p.Y=8` + "\n",
			}},
		{fixture: "optargs", fl: fixture.Flavour{Optimized: true}, msgs: map[int]string{
			20: "addInts a={a} b={b}",
			27: "sumFloats x={x}",
			32: "strLen s={s} extra={extra}",
			39: "swapPair p={p} p.B={p.B}",
		}, stops: map[int]string{27: "x: held in a floating-point register, which uprobes cannot read"},
			want: []string{
				"> [Go 1]: addInts a=1 b=5\n",
				"> [Go 1]: sumFloats x=7\n",
				`> [Go 1]: strLen s="hello" extra=7` + "\n",
				"> [Go 1]: swapPair p=main.pair {A: 7, B: 12} p.B=12\n",
			}},
		{fixture: "optargs", msgs: map[int]string{
			21: "addInts s={s} a={a}",
			33: "strLen n={n} s={s}",
			38: "swapPair p={p}",
		}},
	} {
		t.Run(tc.fixture+"/"+tc.fl.Name(), func(t *testing.T) {
			bin := fixture.Build(t, tc.fixture, tc.fl)
			src := fixture.Source(tc.fixture)
			var lines []int
			for l := range tc.msgs {
				lines = append(lines, l)
			}
			before := testenv.BPFLinks(t)
			kernel, kconsole, links := logRun(t, bin, src, nil, tc.msgs, lines)
			if links <= before {
				t.Errorf("%d BPF links while the logpoints were set, %d before", links, before)
			}
			var whys []string
			for _, l := range kconsole {
				if strings.Contains(l, "logpoint") {
					whys = append(whys, l)
				}
			}
			var wantWhys []string
			for l, why := range tc.stops {
				wantWhys = append(wantWhys, fmt.Sprintf("logpoint at %s:%d stops the program to evaluate: %s\n", src, l, why))
			}
			sort.Strings(whys)
			sort.Strings(wantWhys)
			if strings.Join(whys, "") != strings.Join(wantWhys, "") {
				t.Errorf("kernel run said %q, want %q", whys, wantWhys)
			}
			if after := testenv.BPFLinks(t); after != before {
				t.Errorf("%d BPF links after the exit, %d before", after, before)
			}
			// A condition that holds, evaluated by stopping.
			t.Setenv("TINYDBG_KERNEL_COND", "0")
			always := map[int]string{}
			for _, l := range lines {
				always[l] = "1 == 1"
			}
			stopped, sconsole, _ := logRun(t, bin, src, always, tc.msgs, lines)
			why, env := 0, 0
			for _, l := range sconsole {
				if strings.HasPrefix(l, "logpoint at ") && strings.Contains(l, " stops the program to evaluate: ") {
					why++
				}
				if strings.HasSuffix(l, " stops the program to evaluate: its condition: TINYDBG_KERNEL_COND=0\n") {
					env++
				}
			}
			if why != len(lines) || env < len(lines)-len(tc.stops) {
				t.Errorf("stopping run said why %d times: %q", why, sconsole)
			}
			if len(kernel) == 0 || strings.Join(kernel, "") != strings.Join(stopped, "") {
				t.Errorf("kernel logged %q\nptrace logged %q", kernel, stopped)
			}
			if tc.want != nil && strings.Join(kernel, "") != strings.Join(tc.want, "") {
				t.Errorf("logged %q, want %q", kernel, tc.want)
			}
		})
	}
}

// waitStop reads messages until the target stops, returning the logpoint
// lines that came before the stop.
func waitStop(t *testing.T, c *testClient) (logged []string, stop *dap.StoppedEvent) {
	t.Helper()
	for {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			if strings.HasPrefix(m.Body.Output, "> ") {
				logged = append(logged, m.Body.Output)
			}
		case *dap.StoppedEvent:
			return logged, m
		case *dap.TerminatedEvent:
			t.Fatal("terminated before stopping")
		}
	}
}

// TestKernelLogpointsRemoved: a kernel logpoint's line comes before the
// stop at a later breakpoint; restart removes its probes (the client sets
// it again on the new process), and so does disconnect.
func TestKernelLogpointsRemoved(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	before := testenv.BPFLinks(t)
	c := launchExec(t, map[string]any{"mode": "exec", "program": bin})
	var seq int
	set := func() {
		seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{
			{"line": 14, "logMessage": "a={a}"}, {"line": 36}}})
		expectResponse[*dap.SetBreakpointsResponse](c, seq)
		if n := testenv.BPFLinks(t); n <= before {
			t.Fatalf("%d BPF links with a logpoint set, %d before", n, before)
		}
		seq = c.send("configurationDone", nil)
		expectResponse[*dap.ConfigurationDoneResponse](c, seq)
		logged, stop := waitStop(t, c)
		if strings.Join(logged, "") != "> [Go 1]: a=3\n" || stop.Body.Reason != "breakpoint" {
			t.Fatalf("before the stop %+v: %q", stop.Body, logged)
		}
	}
	set()
	seq = c.send("restart", nil)
	expectResponse[*dap.RestartResponse](c, seq)
	expect[*dap.InitializedEvent](c)
	if n := testenv.BPFLinks(t); n != before {
		t.Errorf("%d BPF links after restart, %d before", n, before)
	}
	set()
	seq = c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
	if n := testenv.BPFLinks(t); n != before {
		t.Errorf("%d BPF links after disconnect, %d before", n, before)
	}
}

// TestKernelLogpointsLost: with a ring buffer far too small for hotloop's
// 4 × 20000 calls, every hit is either a line or counted in a "messages
// lost" line.
func TestKernelLogpointsLost(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	defer func(n int) { kernelLogRing = n }(kernelLogRing)
	kernelLogRing = 4096
	const n = 20000
	bin := fixture.Build(t, "hotloop", fixture.Flavour{Optimized: true})
	c := launchExec(t, map[string]any{"mode": "exec", "program": bin, "env": map[string]any{"HOTLOOP_N": fmt.Sprint(n)}})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("hotloop")},
		"breakpoints": []map[string]any{{"line": 28, "logMessage": "i={i}"}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	lines, lost := 0, 0
	for done := false; !done; {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			var k int
			if strings.HasPrefix(m.Body.Output, "> [Go ") {
				lines++
			} else if _, err := fmt.Sscanf(m.Body.Output, "%d logpoint messages lost\n", &k); err == nil {
				lost += k
			}
		case *dap.StoppedEvent:
			t.Fatalf("stopped: %+v", m.Body)
		case *dap.TerminatedEvent:
			done = true
		}
	}
	if lost == 0 || lines+lost != 4*n {
		t.Errorf("%d lines + %d lost, want %d in all and some lost", lines, lost, 4*n)
	}
}

// TestKernelLogpointWhileRunning sets a logpoint while the program runs:
// the target is halted for the edit and resumed, and the logpoint's lines
// come from the kernel while it runs on.
func TestKernelLogpointWhileRunning(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	before := testenv.BPFLinks(t)
	c := launchExec(t, map[string]any{"mode": "exec", "program": fixture.Build(t, "sleeper", fixture.Flavour{})})
	seq := c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("sleeper")},
		"breakpoints": []map[string]any{{"line": 12, "logMessage": "tick {i}"}}})
	var logged []string
	for len(logged) < 3 {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			if strings.HasPrefix(m.Body.Output, "> ") {
				logged = append(logged, m.Body.Output)
			} else if strings.Contains(m.Body.Output, "logpoint") {
				t.Fatalf("%q", m.Body.Output)
			}
		case *dap.StoppedEvent, *dap.TerminatedEvent:
			t.Fatalf("%+v", m)
		}
	}
	if n := testenv.BPFLinks(t); n <= before {
		t.Errorf("%d BPF links with the logpoint set, %d before", n, before)
	}
	// Consecutive ticks: none missed.
	var i0 int
	for k, l := range logged {
		var i int
		if _, err := fmt.Sscanf(l, "> [Go 1]: tick %d\n", &i); err != nil || k > 0 && i != i0+k {
			t.Fatalf("logged %q", logged)
		}
		if k == 0 {
			i0 = i
		}
	}
	seq = c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
	if n := testenv.BPFLinks(t); n != before {
		t.Errorf("%d BPF links after disconnect, %d before", n, before)
	}
}

// TestKernelLogpointConditions: logpoints with conditions that compile
// run in the kernel, which evaluates each condition in front of the
// capture: the program never stops (logRun fails on a stop), only the
// lines whose condition holds are logged, and they are the lines the
// stopping evaluator logs for the same conditions.
func TestKernelLogpointConditions(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	msgs := map[int]string{
		14: "add a={a} b={b}",
		15: "sum={sum}",
		20: "scale k={k}",
		25: "describe p.Name={p.Name} p.X={p.X}",
	}
	conds := map[int]string{14: "a == 3", 15: "sum == 8", 20: "k == 3", 25: `p.Name == "pt" && p.X > 5`}
	lines := []int{14, 15, 20, 25}
	want := "> [Go 1]: add a=3 b=4\n" + `> [Go 1]: describe p.Name="pt" p.X=6` + "\n"
	before := testenv.BPFLinks(t)
	kernel, kconsole, links := logRun(t, bin, src, conds, msgs, lines)
	if links <= before {
		t.Errorf("%d BPF links while the logpoints were set, %d before", links, before)
	}
	for _, l := range kconsole {
		if strings.Contains(l, "stops the program") {
			t.Errorf("kernel run: %q", l)
		}
	}
	if got := strings.Join(kernel, ""); got != want {
		t.Errorf("kernel logged %q, want %q", got, want)
	}
	t.Setenv("TINYDBG_KERNEL_COND", "0")
	stopped, _, _ := logRun(t, bin, src, conds, msgs, lines)
	if got := strings.Join(stopped, ""); got != want {
		t.Errorf("stopping run logged %q, want %q", got, want)
	}
}

// TestKernelLogpointConditionFaults: condhot's p is nil or invalid in
// half of its 64 calls; a kernel logpoint whose condition reads p.V logs
// the calls where it holds (i < 8 and p valid: 2, 3, 6, 7), never stops,
// and says that the 32 others faulted.
func TestKernelLogpointConditionFaults(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "condhot", fixture.Flavour{})
	src := fixture.Source("condhot")
	logged, console, _ := logRun(t, bin, src, map[int]string{69: "p.V == p.V && i < 8"}, map[int]string{69: "i={i}"}, []int{69})
	want := "> [Go 1]: i=2\n> [Go 1]: i=3\n> [Go 1]: i=6\n> [Go 1]: i=7\n"
	if got := strings.Join(logged, ""); got != want {
		t.Errorf("logged %q, want %q", got, want)
	}
	faults := 0
	for _, l := range console {
		if strings.Contains(l, "stops the program") {
			t.Errorf("console: %q", l)
		}
		var n int
		if _, err := fmt.Sscanf(l, "%d logpoint conditions faulted (false, not logged)\n", &n); err == nil {
			faults += n
		}
	}
	if faults != 32 {
		t.Errorf("%d faults reported, want 32; console %q", faults, console)
	}
}
