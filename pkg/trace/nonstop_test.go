package trace

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// countingSink tallies events by function and kind, checks that every
// return of a goroutine pairs with its own call, and records each
// goroutine's thread.
type countingSink struct {
	counts   map[string]int // "main.f call", "main.f return"
	values   map[string]int // "main.f call (3)" for the first few i only
	perG     map[int64]int  // events per goroutine
	threads  map[int64]int  // goroutine → its (locked) thread
	moved    int            // events of a goroutine on another thread
	unpaired int            // returns without their call
	depth    map[int64]int  // open calls per goroutine
}

func newCountingSink() *countingSink {
	return &countingSink{counts: map[string]int{}, values: map[string]int{}, perG: map[int64]int{},
		threads: map[int64]int{}, depth: map[int64]int{}}
}

func (s *countingSink) Event(ev *Event) error {
	s.counts[ev.Function+" "+ev.Kind.String()]++
	if ev.Kind == Call && len(ev.Values) == 1 {
		if i, err := strconv.Atoi(ev.Values[0].Value); err == nil && i < 3 {
			s.values[fmt.Sprintf("%s(%d)", ev.Function, i)]++
		}
	}
	s.perG[ev.Goroutine]++
	if th, ok := s.threads[ev.Goroutine]; !ok {
		s.threads[ev.Goroutine] = ev.Thread
	} else if th != ev.Thread {
		s.moved++
	}
	if ev.Kind == Call {
		s.depth[ev.Goroutine]++
	} else if ev.Unpaired {
		s.unpaired++
	} else {
		s.depth[ev.Goroutine]--
	}
	return nil
}

func (s *countingSink) Close() error { return nil }

// TestFourThreadsNoEventLost traces two functions hammered by four
// goroutines, each locked to its own thread, so that probes fire on four
// threads at once: one function's entry probe is emulated (LEAQ), the
// other's is single-stepped with every thread stopped (ADDQ). Every call
// and every return must be reported exactly once, paired, on its own
// goroutine's thread, with its argument.
func TestFourThreadsNoEventLost(t *testing.T) {
	testenv.RequirePtrace(t)
	const calls = 2500
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	sink := newCountingSink()
	sum, err := Run(context.Background(), Options{Regexp: `^main\.hammered`, Exec: exe,
		Args: []string{"hammer", strconv.Itoa(calls)}, Stdout: devnull, Depth: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Exited || sum.ExitCode != 0 || sum.Events != 4*4*calls || sum.Probes != 4 || sum.Funcs != 2 {
		t.Errorf("summary %+v, want exit 0, %d events, 4 probes on 2 functions", sum, 4*4*calls)
	}
	for _, fn := range []string{"main.hammered", "main.hammeredLea"} {
		for _, k := range []string{"call", "return"} {
			if n := sink.counts[fn+" "+k]; n != 4*calls {
				t.Errorf("%s %s: %d events, want %d", fn, k, n, 4*calls)
			}
		}
		for i := 0; i < 3; i++ {
			if n := sink.values[fmt.Sprintf("%s(%d)", fn, i)]; n != 4 {
				t.Errorf("%s(%d): %d calls, want 4 (one per goroutine)", fn, i, n)
			}
		}
	}
	if len(sink.perG) != 4 {
		t.Errorf("events on goroutines %v, want 4 goroutines", sink.perG)
	}
	for g, n := range sink.perG {
		if n != 4*calls {
			t.Errorf("goroutine %d: %d events, want %d", g, n, 4*calls)
		}
		if sink.depth[g] != 0 {
			t.Errorf("goroutine %d: %d calls never returned", g, sink.depth[g])
		}
	}
	threads := map[int]bool{}
	for _, th := range sink.threads {
		threads[th] = true
	}
	if len(threads) != 4 || sink.moved != 0 || sink.unpaired != 0 {
		t.Errorf("%d threads, %d events off their goroutine's thread, %d unpaired returns; want 4, 0, 0",
			len(threads), sink.moved, sink.unpaired)
	}
}
