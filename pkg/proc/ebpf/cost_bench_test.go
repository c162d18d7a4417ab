package ebpf

import (
	"bytes"
	"os/exec"
	"strconv"
	"testing"
	"time"

	cebpf "github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// BenchmarkProbeCost traces a hot function with an int argument and one
// with a 40-byte string and a *struct, and one with a wrapped error (a
// dynamic-type plan per interface), and reports what the kernel spent
// in the BPF program per probe hit (from the kernel's own run-time
// statistics, so the load of the machine does not blur it) and the size
// of the data area of the last event.
func BenchmarkProbeCost(b *testing.B) {
	testenv.RequireRoot(b)
	const calls = 100000
	path := fixture.Build(b, "hotkinds", fixture.Flavour{Optimized: true})
	for _, c := range []struct{ mode, fn string }{{"int", "main.hot"}, {"big", "main.big"}, {"err", "main.fail"}} {
		b.Run(c.mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				probeCost(b, path, c.mode, c.fn, calls)
			}
		})
	}
}

func probeCost(b *testing.B, path, mode, name string, calls int) {
	stats, err := cebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Fatalf("enabling BPF statistics: %v", err)
	}
	defer stats.Close()
	bi, err := bininfo.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	fn, err := bi.LookupFunc(name)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(path, mode, strconv.Itoa(calls))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	tr, err := Open(bi, cmd.Process.Pid, []*bininfo.Function{fn}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	res := collect(tr)
	start := time.Now()
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%v: %s", err, out.Bytes())
	}
	elapsed := time.Since(start)
	st, err := tr.coll.Programs[programName].Stats()
	if err != nil {
		b.Fatal(err)
	}
	run, n := st.Runtime, st.RunCount
	if err := tr.Close(); err != nil {
		b.Fatal(err)
	}
	evs := <-res
	if len(evs) != 2*calls {
		b.Fatalf("%d events, want %d", len(evs), 2*calls)
	}
	size := 0
	for _, s := range tr.scratch.segs {
		size += segmentHeaderSize + (len(s.data)+7)&^7
	}
	b.ReportMetric(float64(run.Nanoseconds())/float64(n), "bpf-ns/probe")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(calls), "ns/call")
	b.ReportMetric(float64(size), "bytes/return-event")
	b.ReportMetric(float64(tr.funcs[0].entry.maxBytes), "bytes/entry-plan-max")
}
