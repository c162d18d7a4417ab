package trace

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// hotCalls is what `hotargs` makes by default: 4 goroutines × 50,000.
const hotCalls = 4 * 50000

// slowSink is a consumer slower than the traced program: it sleeps pause
// every `every` events. It checks every paired return against the last
// call delivered on its goroutine: hot returns 3*i+len(s)+it.ID, so a
// return paired with another call than its own shows.
type slowSink struct {
	every int
	pause time.Duration
	// stall is a longer pause at the first event: long enough for the
	// program to fill the ring whatever the machine's speed.
	stall time.Duration
	// heldPid, if set, names the traced program: the first pause then
	// lasts until the program is held (up to a minute), not for stall,
	// since a loaded machine can run the program too slowly to fill the
	// ring in any fixed time.
	heldPid func() int
	// onPause runs at each pause (tests watch the program from it).
	onPause func()

	n                                int
	calls, returns, unpaired, wrong  int
	last                             map[int64]int // expected result of the open call
	firstCall, firstReturn, badValue string
}

var hotArgs = regexp.MustCompile(`^hot\((\d+), "x{40}", \*main\.item \{ID: (\d), Name: "worker"\}\)$`)

func (s *slowSink) Event(ev *Event) error {
	if s.n++; s.n == 1 {
		s.stallFirst()
	}
	if s.every > 0 && s.n%s.every == 0 {
		if s.onPause != nil {
			s.onPause()
		}
		time.Sleep(s.pause)
	}
	if s.last == nil {
		s.last = map[int64]int{}
	}
	var vals []string
	for _, v := range ev.Values {
		vals = append(vals, v.Value)
	}
	if ev.Kind == Call {
		s.calls++
		text := "hot(" + strings.Join(vals, ", ") + ")"
		m := hotArgs.FindStringSubmatch(text)
		if m == nil {
			s.badValue = text
			return nil
		}
		i, _ := strconv.Atoi(m[1])
		id, _ := strconv.Atoi(m[2])
		s.last[ev.Goroutine] = 3*i + 40 + id
		return nil
	}
	s.returns++
	if ev.Unpaired {
		s.unpaired++
		return nil
	}
	if want, ok := s.last[ev.Goroutine]; !ok || len(vals) != 1 || vals[0] != strconv.Itoa(want) {
		s.wrong++
	}
	delete(s.last, ev.Goroutine)
	return nil
}

func (s *slowSink) Close() error { return nil }

func (s *slowSink) stallFirst() {
	if s.heldPid == nil {
		time.Sleep(s.stall)
		return
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if pid := s.heldPid(); pid > 0 && testproc.State(pid) == "T" {
			return
		}
	}
}

// pidOfExe finds the process running the binary at path (a fixture only
// this test runs), or 0.
func pidOfExe(path string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && exe == path {
			return pid
		}
	}
	return 0
}

// TestEBPFLosslessSlowConsumer traces the hot fixture through a consumer
// that cannot keep up: every call and every return is delivered, paired
// with its own, the program is held (and the summary says for how long),
// and its output and exit status are its own.
func TestEBPFLosslessSlowConsumer(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{})
	var out bytes.Buffer
	sink := &slowSink{every: 200, pause: 2 * time.Millisecond, heldPid: func() int { return pidOfExe(path) }}
	opts := Options{Regexp: `^main\.hot$`, Exec: path, Args: []string{"3"}, Depth: 1, EBPF: true, ringBytes: 256 << 10}
	sum, stdout := runCaptured(t, opts, sink, &out)
	if sum.Events != 2*hotCalls || sum.Dropped != 0 || sum.Lost != nil || !sum.Exited || sum.ExitCode != 3 {
		t.Fatalf("summary %+v, want %d events, none dropped, exit status 3", sum, 2*hotCalls)
	}
	if sink.calls != hotCalls || sink.returns != hotCalls || sink.unpaired != 0 || sink.wrong != 0 || sink.badValue != "" {
		t.Fatalf("%d calls, %d returns, %d unpaired, %d paired wrongly, bad call %q; want %d of each, all paired",
			sink.calls, sink.returns, sink.unpaired, sink.wrong, sink.badValue, hotCalls)
	}
	if sum.Holds == 0 || sum.Held <= 0 {
		t.Fatalf("the program was never held (%d holds, %v): the consumer did not fall behind", sum.Holds, sum.Held)
	}
	if want := "sum 15008000000\n"; stdout != want {
		t.Fatalf("program output %q, want %q", stdout, want)
	}
	line := sum.String()
	if !strings.Contains(line, fmt.Sprintf("; program held %s for ", plural(int(sum.Holds), "time"))) {
		t.Fatalf("summary line %q names no hold", line)
	}
	t.Logf("%s", line)
}

// TestEBPFLossyReportsDrops is the same load with --lossy: the program is
// never held, what is lost is counted per function and accounts for every
// call not delivered, and no return is paired with another's call.
func TestEBPFLossyReportsDrops(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{})
	var out bytes.Buffer
	sink := &slowSink{every: 200, pause: 2 * time.Millisecond, stall: time.Second}
	opts := Options{Regexp: `^main\.hot$`, Exec: path, Depth: 1, EBPF: true, Lossy: true, ringBytes: 4096}
	sum, stdout := runCaptured(t, opts, sink, &out)
	if sum.Holds != 0 || sum.Dropped == 0 || sum.Events+sum.Dropped != 2*hotCalls || !sum.Exited || sum.ExitCode != 0 {
		t.Fatalf("summary %+v: want drops, events + drops = %d, no hold", sum, 2*hotCalls)
	}
	if sum.Lost == nil || len(*sum.Lost) != 1 {
		t.Fatalf("lost by function: %+v", sum.Lost)
	}
	l := (*sum.Lost)[0]
	if l.Function != "main.hot" || l.Calls+l.Returns != sum.Dropped ||
		uint64(sink.calls) != hotCalls-l.Calls || uint64(sink.returns) != hotCalls-l.Returns {
		t.Fatalf("lost %+v, dropped %d; delivered %d calls and %d returns", l, sum.Dropped, sink.calls, sink.returns)
	}
	if sink.wrong != 0 || sink.unpaired == 0 {
		t.Fatalf("%d returns paired with another call, %d unpaired", sink.wrong, sink.unpaired)
	}
	if want := "sum 15008000000\n"; stdout != want {
		t.Fatalf("program output %q, want %q", stdout, want)
	}
	want := fmt.Sprintf("trace: main.hot lost %d calls and %d returns", l.Calls, l.Returns)
	if lines := strings.Split(sum.String(), "\n"); len(lines) != 2 || lines[1] != want {
		t.Fatalf("summary %q, want a second line %q", sum.String(), want)
	}
	t.Logf("%s", sum.String())
}

// runCaptured runs a trace with the program's stdout in a file and returns
// the summary and what the program printed.
func runCaptured(t *testing.T, opts Options, sink Sink, _ *bytes.Buffer) (Summary, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.Stdout = f
	sum, err := Run(context.Background(), opts, sink)
	if err != nil {
		t.Fatalf("trace: %v (summary %+v)", err, sum)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return sum, string(b)
}

// TestEBPFPidInterruptedWhileHeld interrupts a --pid trace while the
// program is held for a slow consumer: the program runs on, not stopped,
// with no probe left in its code.
func TestEBPFPidInterruptedWhileHeld(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	cmd, start := testproc.StartWaiting(t, path, "HOTARGS_N=0", "HOTARGS_WAIT=1")
	pid := cmd.Process.Pid
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sawHeld := false
	var linksSeen []int
	sink := &slowSink{every: 100, pause: 5 * time.Millisecond, stall: 500 * time.Millisecond, onPause: func() {
		if !sawHeld && testproc.State(pid) == "T" {
			sawHeld = true
			linksSeen = ourBPFLinks()
			cancel()
		}
	}}
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(ctx, Options{Regexp: `^main\.hot$`, Pid: pid, Depth: 1, EBPF: true, ringBytes: 1 << 20}, sink)
		done <- result{sum, err}
	}()
	waitForLinks(t)
	t0 := time.Now()
	start.WriteString("go\n")
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the trace did not end within 60s of the interruption")
	}
	t.Logf("trace ended after %v: %s", time.Since(t0), res.sum)
	if res.err != nil || !sawHeld || !res.sum.Interrupted || res.sum.Holds == 0 || res.sum.Dropped != 0 {
		t.Fatalf("trace: %v, held seen %v, summary %+v", res.err, sawHeld, res.sum)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(20 * time.Millisecond)
		if st := testproc.State(pid); st == "T" || st == "" {
			t.Fatalf("after the trace the program's state is %q, want running", st)
		}
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("program gone after the trace: %v", err)
	}
	if b := codeAt(path, pid, "main.hot", 1); len(b) != 1 || b[0] == 0xcc {
		t.Fatalf("main.hot's entry after the trace: % x, want the original code", b)
	}
	checkLinksGone(t, linksSeen)
}

// waitForLinks returns once this test process holds a BPF link: the
// probes of the trace started meanwhile are attached.
func waitForLinks(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); len(ourBPFLinks()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no probe attached after 20s")
		}
	}
}

// TestEBPFPidLosslessSlowConsumer is the lossless test on a running
// process: attached before its first call, the trace delivers every call
// and return of its life through a slow consumer, holding it as needed.
func TestEBPFPidLosslessSlowConsumer(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	cmd, start := testproc.StartWaiting(t, path, "HOTARGS_WAIT=1")
	sink := &slowSink{every: 100, pause: 2 * time.Millisecond, heldPid: func() int { return cmd.Process.Pid }}
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(context.Background(), Options{Regexp: `^main\.hot$`, Pid: cmd.Process.Pid, Depth: 1, EBPF: true, ringBytes: 256 << 10}, sink)
		done <- result{sum, err}
	}()
	waitForLinks(t)
	start.WriteString("go\n")
	res := <-done
	sum := res.sum
	if res.err != nil || sum.Events != 2*hotCalls || sum.Dropped != 0 || !sum.Exited || !sum.ExitUnknown || sum.Holds == 0 {
		t.Fatalf("trace: %v; summary %+v, want %d events, none dropped, held, the exit seen", res.err, sum, 2*hotCalls)
	}
	if sink.calls != hotCalls || sink.returns != hotCalls || sink.unpaired != 0 || sink.wrong != 0 || sink.badValue != "" {
		t.Fatalf("%d calls, %d returns, %d unpaired, %d paired wrongly, bad call %q", sink.calls, sink.returns, sink.unpaired, sink.wrong, sink.badValue)
	}
	t.Logf("%s", sum.String())
}
