package dap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// bpfLinks counts this process's open BPF links: the uprobes a kernel
// logpoint attached, which must all be gone once the session lets go.
func bpfLinks(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && l == "anon_inode:bpf_link" {
			n++
		}
	}
	return n
}

// logRun runs fixture basic to its end with logpoints on the given lines
// (condition cond on each, "" for none) and returns the logged lines, the
// console lines and how many BPF links were open while it ran.
func logRun(t *testing.T, bin, src, cond string, msgs map[int]string, lines []int) (logged, console []string, links int) {
	t.Helper()
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("launch", map[string]any{"mode": "exec", "program": bin})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	var bps []map[string]any
	for _, l := range lines {
		bps = append(bps, map[string]any{"line": l, "logMessage": msgs[l], "condition": cond})
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
	links = bpfLinks(t)
	seq = c.send("configurationDone", nil)
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
// program's exit, the other with one line saying why it stops.
func TestKernelLogpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	src := fixture.Source("basic")
	msgs := map[int]string{
		14: "add a={a} b={b}",
		19: "scale p.X={p.X} k={k}",
		24: "describe p={p} p.Name={p.Name}",
		20: "scale p={p} p.X={p.X} p.Name={p.Name} k={k}",
		25: "describe s={s} p={p} p.Name={p.Name} p.Y={p.Y}",
	}
	lines := []int{14, 20, 25}
	want := []string{
		"> [Go 1]: add a=3 b=4\n",
		`> [Go 1]: scale p=*main.Point {X: 6, Y: 4, Name: "pt"} p.X=6 p.Name="pt" k=2` + "\n",
		`> [Go 1]: describe s="pt(6,8)" p=main.Point {X: 6, Y: 8, Name: "pt"} p.Name="pt" p.Y=8` + "\n",
	}
	for _, fl := range []fixture.Flavour{{}} {
		t.Run(fl.Name(), func(t *testing.T) {
			lines := lines
			if fl.Optimized {
				lines = []int{24} // the line that has code there
			}
			bin := fixture.Build(t, "basic", fl)
			before := bpfLinks(t)
			kernel, kconsole, links := logRun(t, bin, src, "", msgs, lines)
			if links <= before {
				t.Errorf("%d BPF links while the logpoints were set, %d before", links, before)
			}
			for _, l := range kconsole {
				if strings.Contains(l, "logpoint") {
					t.Errorf("kernel run: %q", l)
				}
			}
			if after := bpfLinks(t); after != before {
				t.Errorf("%d BPF links after the exit, %d before", after, before)
			}
			stopped, sconsole, _ := logRun(t, bin, src, "1 == 1", msgs, lines)
			why := 0
			for _, l := range sconsole {
				if strings.Contains(l, "stops the program to evaluate: it has a condition") {
					why++
				}
			}
			if why != len(lines) {
				t.Errorf("stopping run said why %d times: %q", why, sconsole)
			}
			if strings.Join(kernel, "") != strings.Join(stopped, "") {
				t.Errorf("kernel logged %q\nptrace logged %q", kernel, stopped)
			}
			if !fl.Optimized && strings.Join(kernel, "") != strings.Join(want, "") {
				t.Errorf("logged %q, want %q", kernel, want)
			}
		})
	}
}
