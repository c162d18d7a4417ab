package ebpf

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// requireBPF stops the test unless uprobes can be attached here.
func requireBPF(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/type"); err != nil {
		testenv.SkipOrFail(t, "kernel has no uprobe PMU: %v", err)
	}
}

// stoppedTarget starts a fixture that blocks on stdin until go is called.
type stoppedTarget struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   strings.Builder
}

func startStopped(t *testing.T, path string) *stoppedTarget {
	t.Helper()
	st := &stoppedTarget{cmd: exec.Command(path)}
	st.cmd.Stdout = &st.out
	st.cmd.Stderr = &st.out
	var err error
	if st.stdin, err = st.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := st.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.cmd.Process.Kill(); st.cmd.Wait() })
	return st
}

// run releases the target and waits for it to exit.
func (st *stoppedTarget) run(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(st.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	if err := st.cmd.Wait(); err != nil {
		t.Fatalf("target failed: %v\n%s", err, st.out.String())
	}
}

func lookupFuncs(t *testing.T, bi *bininfo.BinaryInfo, names ...string) []*bininfo.Function {
	t.Helper()
	var out []*bininfo.Function
	for _, n := range names {
		fn, err := bi.LookupFunc(n)
		if err != nil {
			t.Fatalf("looking up %s: %v", n, err)
		}
		out = append(out, fn)
	}
	return out
}

// collect receives every event until the tracer closes the channel.
func collect(tr *Tracer) <-chan []event.Event {
	res := make(chan []event.Event, 1)
	go func() {
		var evs []event.Event
		for ev := range tr.Events() {
			evs = append(evs, ev)
		}
		res <- evs
	}()
	return res
}

func describe(ev event.Event) string {
	var parts []string
	for _, v := range ev.Values {
		parts = append(parts, text(v))
	}
	s := fmt.Sprintf("%s %s(%s)", ev.Kind, strings.TrimPrefix(ev.Function, "main."), strings.Join(parts, ", "))
	if ev.Err != nil {
		s += " ERR " + ev.Err.Error()
	}
	return s
}

func TestTraceInterleavedGoroutines(t *testing.T) {
	requireBPF(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) { testTrace(t, fl, Options{}) })
	}
	t.Run("per-probe-links", func(t *testing.T) { testTrace(t, fixture.Flavour{Optimized: true}, Options{NoUprobeMulti: true}) })
}

func testTrace(t *testing.T, fl fixture.Flavour, opts Options) {
	path := fixture.Build(t, "ebpftrace", fl)
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	funcs := lookupFuncs(t, bi, "main.work", "main.classify", "main.norm", "main.grow", "main.many", "main.scale")
	st := startStopped(t, path)
	tr, err := Open(bi, st.cmd.Process.Pid, funcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	res := collect(tr)
	st.run(t)
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := <-res
	stats := tr.Stats()
	if stats.Dropped != 0 || stats.Abandoned != 0 {
		t.Errorf("dropped %d events, abandoned %d calls", stats.Dropped, stats.Abandoned)
	}
	// 4 work + 3 classify + 1 norm + 41 grow + many + scale calls, each
	// with its return. grow's frames overflow the goroutine's first stack,
	// so morestack re-enters it: the entry probe must still fire once.
	const want = 2 * (4 + 3 + 1 + 41 + 1 + 1)
	if len(evs) != want || stats.Events != uint64(len(evs)) {
		t.Errorf("got %d events (stats %d), want %d", len(evs), stats.Events, want)
	}
	if opts.NoUprobeMulti == stats.Multi {
		t.Errorf("Multi = %v with NoUprobeMulti = %v", stats.Multi, opts.NoUprobeMulti)
	}

	// Pair every return with the call of the same goroutine, function and
	// depth that precedes it, and check the whole conversation per goid.
	type key struct {
		goid  int64
		fn    string
		depth int
	}
	open := map[key]event.Event{}
	var workCalls, workRets []string
	workGoids := map[int64]bool{}
	interleaved := false
	lastWorkCallGoid := int64(-1)
	var other []string
	for _, ev := range evs {
		if ev.Err != nil || ev.Unpaired || ev.Truncated {
			t.Errorf("bad event: %+v", ev)
			continue
		}
		k := key{ev.Goroutine, ev.Function, ev.Depth}
		if ev.Kind == event.Call {
			if _, dup := open[k]; dup {
				t.Errorf("second call without return: %s on goroutine %d", describe(ev), ev.Goroutine)
			}
			open[k] = ev
		} else {
			c, ok := open[k]
			if !ok {
				t.Errorf("return without call: %s goroutine %d depth %d", describe(ev), ev.Goroutine, ev.Depth)
				continue
			}
			delete(open, k)
			if ev.Duration == 0 || ev.Duration != ev.Time-c.Time {
				t.Errorf("%s: duration %d, want %d", describe(ev), ev.Duration, ev.Time-c.Time)
			}
		}
		switch ev.Function {
		case "main.work":
			if ev.Kind == event.Call {
				if lastWorkCallGoid >= 0 && len(workRets) == 0 {
					interleaved = true // a second call began before any return
				}
				lastWorkCallGoid = ev.Goroutine
				workGoids[ev.Goroutine] = true
				workCalls = append(workCalls, fmt.Sprintf("g%d:%s", ev.Goroutine, describe(ev)))
			} else {
				workRets = append(workRets, fmt.Sprintf("g%d:%s", ev.Goroutine, describe(ev)))
			}
		case "main.grow":
		default:
			other = append(other, describe(ev))
		}
	}
	if len(open) != 0 {
		t.Errorf("calls without returns: %v", open)
	}
	if !interleaved || len(workGoids) != 4 {
		t.Errorf("work calls did not interleave on 4 goroutines: %v", workCalls)
	}
	// Each goroutine's call and return carry that goroutine's own values:
	// work(i, names[i], {i, 10i, 100}) returns 12i+100+len(names[i]).
	names := []string{"alpha", "beta", "gamma", "delta"}
	var wantCalls, wantRets, gotCalls, gotRets []string
	for i, n := range names {
		wantCalls = append(wantCalls, fmt.Sprintf("call work(id=%d, name=%q, vals=[]int len: 3, cap: 3, [%d,%d,100])", i, n, i, 10*i))
		wantRets = append(wantRets, fmt.Sprintf("return work(~r0=%d)", 12*i+100+len(n)))
	}
	callByGoid := map[string]string{}
	for _, c := range workCalls {
		g, d, _ := strings.Cut(c, ":")
		gotCalls = append(gotCalls, d)
		callByGoid[g] = d
	}
	for _, r := range workRets {
		g, d, _ := strings.Cut(r, ":")
		gotRets = append(gotRets, d)
		// The result must belong to the call made on the same goroutine.
		var id int
		var name string
		fmt.Sscanf(strings.ReplaceAll(callByGoid[g], ",", " "), "call work(id=%d name=%q", &id, &name)
		if want := fmt.Sprintf("return work(~r0=%d)", 12*id+100+len(names[id])); d != want {
			t.Errorf("goroutine %s returned %q, want %q (its call: %s)", g, d, want, callByGoid[g])
		}
	}
	sort.Strings(gotCalls)
	sort.Strings(gotRets)
	sort.Strings(wantRets)
	if strings.Join(gotCalls, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("work calls:\n%s\nwant:\n%s", strings.Join(gotCalls, "\n"), strings.Join(wantCalls, "\n"))
	}
	if strings.Join(gotRets, "\n") != strings.Join(wantRets, "\n") {
		t.Errorf("work returns:\n%s\nwant:\n%s", strings.Join(gotRets, "\n"), strings.Join(wantRets, "\n"))
	}
	wantOther := []string{
		`call classify(n=-3)`, `return classify(~r0="negative")`,
		`call classify(n=0)`, `return classify(~r0="zero")`,
		`call classify(n=491)`, `return classify(~r0="positive")`,
		`call norm(p=*main.point {X: 3, Y: 4})`, `return norm(~r0=25)`,
		`call many(a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9, j=10, k=11)`, `return many(~r0=12045)`,
		`call scale(x=(unavailable: held in a floating-point register, which uprobes cannot read), n=4)`,
		`return scale(~r0=(unavailable: held in a floating-point register, which uprobes cannot read))`,
	}
	if strings.Join(other, "\n") != strings.Join(wantOther, "\n") {
		t.Errorf("classify/norm events:\n%s\nwant:\n%s", strings.Join(other, "\n"), strings.Join(wantOther, "\n"))
	}
	t.Logf("%d probes, multi=%v, attach %v, detach %v", stats.Probes, stats.Multi, stats.AttachTime, stats.DetachTime)
}
