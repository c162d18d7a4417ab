package trace

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// TestStatsPairPerGoroutine runs blocklatency, whose block sleeps (its
// goroutine parks and resumes on whatever thread the scheduler picks) and
// whose recurse nests four calls of itself, under `trace --stats` with
// each backend. The fixture measures every call itself and tells which
// thread it started and ended on: calls that moved threads are what a
// per-thread tool (bpftrace, funclatency) pairs with another goroutine's
// return, so the test first proves some did move. Then the counts must be
// exact, and every call's own latency must fall in a histogram bucket the
// tracer filled: the tracer's clock starts at the entry probe, before the
// fixture's, and stops at the RET, after it, so the tracer's latency lies
// in [own, own+slack]; each bucket's count must be met by calls whose
// window reaches it, one call per count.
func TestStatsPairPerGoroutine(t *testing.T) {
	testenv.RequireRoot(t)
	cases := []struct {
		name string
		ebpf bool
		// slack is what may pass between the two clocks: the probes' own
		// cost, and the thread waiting for a CPU after the fixture's clock
		// stopped, which on 2 cores running the whole test suite reached
		// 1.3 ms. A wrong pairing is far off (3 µs and 83 ms when paired
		// by thread), and the lower bound is exact.
		slack time.Duration
	}{
		{"ebpf", true, 4 * time.Millisecond},
		{"ptrace", false, 8 * time.Millisecond},
	}
	for _, c := range cases {
		if c.ebpf {
			requireBPF(t)
		}
		for _, fl := range []fixture.Flavour{{Optimized: true, PIE: true}, {}} {
			t.Run(c.name+"/"+fl.Name(), func(t *testing.T) {
				// Whether a sleeping goroutine resumes on another thread is
				// the scheduler's choice: on an idle machine one thread may
				// run all four. The run is repeated until one call moved.
				var (
					res          StatsResult
					stdout       string
					blocks, recs []time.Duration
					moved        int
				)
				for attempt := 1; attempt <= 5 && moved == 0; attempt++ {
					res, stdout = runStatsFixture(t, fl, c.ebpf)
					blocks, recs, moved = parseBlockLatency(t, stdout)
					if moved == 0 {
						t.Logf("run %d: no call of block changed threads", attempt)
					}
				}
				if len(blocks) != 40 || len(recs) != 12 {
					t.Fatalf("fixture printed %d block and %d recurse calls:\n%s", len(blocks), len(recs), stdout)
				}
				if moved == 0 {
					t.Fatalf("no call of block changed threads: the fixture proves nothing\n%s", stdout)
				}
				t.Logf("%d of 40 calls of block returned on another thread than they started on", moved)
				byName := map[string]FuncStats{}
				for _, f := range res.Funcs {
					byName[f.Function] = f
				}
				// A level of recurse holds the probe hits of the levels
				// below it (innermost first in the fixture's output), and
				// each costs the probes' time again.
				recSlack := make([]time.Duration, len(recs))
				for i := range recs {
					recSlack[i] = c.slack * time.Duration(1+2*(i%4))
				}
				slacks := map[string][]time.Duration{"main.block": repeat(c.slack, len(blocks)), "main.recurse": recSlack}
				for fn, own := range map[string][]time.Duration{"main.block": blocks, "main.recurse": recs} {
					f, slack := byName[fn], slacks[fn]
					n := uint64(len(own))
					if f.Calls != n || f.Hist.Count() != n || f.Unpaired != 0 || f.Open != 0 || f.Lost != 0 {
						t.Errorf("%s: calls %d paired %d unpaired %d open %d lost %d, want %d calls all paired",
							fn, f.Calls, f.Hist.Count(), f.Unpaired, f.Open, f.Lost, n)
					}
					if err := matchBuckets(own, slack, &f.Hist); err != nil {
						t.Errorf("%s: %v", fn, err)
					}
					var top, topSlack time.Duration
					for i, d := range own {
						top, topSlack = max(top, d), max(topSlack, d+slack[i])
					}
					if f.Hist.Max < top || f.Hist.Max > topSlack {
						t.Errorf("%s: max %v, the fixture's own max %v", fn, f.Hist.Max, top)
					}
				}
				// What counting cost is measured over every probe hit: a
				// call and a return per call.
				if hits := 2 * uint64(len(blocks)+len(recs)); res.Summary.Cost.Source == "" || res.Summary.Cost.Hits != hits {
					t.Errorf("cost %+v, want %d probe hits measured", res.Summary.Cost, hits)
				}
				if res.Missed != 0 || res.Summary.ExitCode != 0 || !res.Summary.Exited {
					t.Errorf("result %+v", res.Summary)
				}
			})
		}
	}
}

// runStatsFixture traces blocklatency's block and recurse with --stats
// and returns the result and the fixture's output.
func runStatsFixture(t *testing.T, fl fixture.Flavour, ebpf bool) (StatsResult, string) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	opts := Options{Regexp: `^main\.(block|recurse)$`, Exec: fixture.Build(t, "blocklatency", fl), EBPF: ebpf, Stdout: out}
	var table bytes.Buffer
	res, err := RunStats(context.Background(), opts, 0, &table)
	if err != nil {
		t.Fatalf("RunStats: %v\n%s", err, table.String())
	}
	if !strings.Contains(table.String(), "percentiles are bucket bounds") {
		t.Errorf("table lacks its header:\n%s", table.String())
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("table:\n%s", table.String())
	return res, string(b)
}

// parseBlockLatency reads the fixture's lines "block NS TID0 TID1" and
// "recurse NS".
func parseBlockLatency(t *testing.T, stdout string) (blocks, recs []time.Duration, moved int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("fixture line %q", line)
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("fixture line %q: %v", line, err)
		}
		switch {
		case f[0] == "block" && len(f) == 4:
			blocks = append(blocks, time.Duration(ns))
			if f[2] != f[3] {
				moved++
			}
		case f[0] == "recurse":
			recs = append(recs, time.Duration(ns))
		default:
			t.Fatalf("fixture line %q", line)
		}
	}
	return blocks, recs, moved
}

// matchBuckets checks that the histogram's counts are exactly those of
// calls whose tracer-side latency lies in [own, own+slack] (per call): each call
// covers the buckets of that window, and every count of every bucket must
// be taken by a different call (greedily, by the window's top bucket,
// each call taking the lowest bucket it reaches that still has a count).
// A call whose window lies in one bucket is thus checked exactly.
func matchBuckets(own, slack []time.Duration, h *event.Histogram) error {
	type window struct{ lo, hi int }
	ws := make([]window, len(own))
	for i, d := range own {
		ws[i] = window{event.BucketOf(uint64(d)), event.BucketOf(uint64(d + slack[i]))}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].hi < ws[j].hi })
	left := h.Counts
	for _, w := range ws {
		b := w.lo
		for b <= w.hi && left[b] == 0 {
			b++
		}
		if b > w.hi {
			lo, _ := event.BucketBounds(w.lo)
			_, hi := event.BucketBounds(w.hi)
			return fmt.Errorf("a call measured in [%v, %v] by the fixture has no bucket left there; histogram %v", time.Duration(lo), time.Duration(hi), nonEmpty(h))
		}
		left[b]--
	}
	for b, n := range left {
		if n != 0 {
			return fmt.Errorf("bucket %d holds %d calls no fixture call explains; histogram %v", b, n, nonEmpty(h))
		}
	}
	return nil
}

// nonEmpty lists a histogram's filled buckets as "[lo, hi]: count".
func nonEmpty(h *event.Histogram) string {
	var parts []string
	for b, n := range h.Counts {
		if n > 0 {
			lo, hi := event.BucketBounds(b)
			parts = append(parts, fmt.Sprintf("[%v, %v]: %d", time.Duration(lo), time.Duration(hi), n))
		}
	}
	return strings.Join(parts, ", ")
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestStatsAttached attaches --stats to a running sleeper, whose main
// goroutine spends its life in time.Sleep(100ms): the return of the sleep
// in progress at attach time is unpaired, every call seen is paired or
// still open, and once three interval tables are out the trace is
// cancelled and the program runs on, traced by no one.
func TestStatsAttached(t *testing.T) {
	testenv.RequireRoot(t)
	for _, ebpf := range []bool{true, false} {
		name := "ptrace"
		if ebpf {
			requireBPF(t)
			name = "ebpf"
		}
		t.Run(name, func(t *testing.T) {
			cmd := testproc.StartPid(t, fixture.Build(t, "sleeper", fixture.Flavour{}))
			// It prints its pid before its first sleep: let it get there,
			// so that a sleep is in progress when the trace attaches.
			time.Sleep(300 * time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &tableCounter{after: 3, done: cancel}
			res, err := RunStats(ctx, Options{Regexp: `^time\.Sleep$`, Pid: cmd.Process.Pid, EBPF: ebpf}, 150*time.Millisecond, out)
			if err != nil {
				t.Fatalf("RunStats: %v", err)
			}
			if !res.Summary.Interrupted || len(res.Funcs) != 1 {
				t.Fatalf("result %+v", res)
			}
			f := res.Funcs[0]
			if f.Function != "time.Sleep" || f.Unpaired != 1 || f.Calls == 0 || f.Calls != f.Hist.Count()+f.Open || f.Open > 1 || f.Lost != 0 {
				t.Errorf("figures %+v (paired %d)", f, f.Hist.Count())
			}
			if err := syscall.Kill(cmd.Process.Pid, 0); err != nil || testproc.TracerPid(cmd.Process.Pid) != 0 {
				t.Errorf("sleeper after the trace: %v, tracer %d", err, testproc.TracerPid(cmd.Process.Pid))
			}
		})
	}
}

// tableCounter counts interval tables and calls done once it has seen
// after of them.
type tableCounter struct {
	mu    sync.Mutex
	n     int
	after int
	done  func()
}

func (w *tableCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += bytes.Count(p, []byte("stats (interval"))
	if w.n >= w.after && w.done != nil {
		w.done()
		w.done = nil
	}
	return len(p), nil
}
