package ebpf

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// failingRing times out once, as an idle ring does, then fails for good.
type failingRing struct {
	reads atomic.Int32
	err   error
}

func (r *failingRing) ReadInto(*ringbuf.Record) error {
	if r.reads.Add(1) == 1 {
		return os.ErrDeadlineExceeded
	}
	return r.err
}
func (r *failingRing) SetDeadline(time.Time) {}
func (r *failingRing) Flush() error          { return nil }
func (r *failingRing) Close() error          { return nil }
func (r *failingRing) AvailableBytes() int   { return 0 }

// An unexpected ring-buffer error ends the trace, and Close returns it
// wrapped, instead of the reader retrying it forever.
func TestRingReadErrorEndsTrace(t *testing.T) {
	cause := errors.New("injected ring fault")
	ring := &failingRing{err: cause}
	tr := &Tracer{reader: ring, events: make(chan *Batch, 1), done: make(chan struct{})}
	go tr.readLoop()
	select {
	case ev, ok := <-tr.Events():
		if ok {
			t.Fatalf("event from a failing ring: %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the trace goes on after the ring failed (%d reads)", ring.reads.Load())
	}
	err := tr.Close()
	if !errors.Is(err, cause) || err.Error() != "reading the ring buffer: injected ring fault" {
		t.Fatalf("Close: %v, want the wrapped ring error", err)
	}
	if n := ring.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want the timeout and the failure", n)
	}
}

// Every drop counter of the BPF program is reported by reason and in the
// total. A probe whose cookie names a function past the plans makes the
// program count a no-plan drop at each of the 4 calls of main.work.
func TestDropsByReason(t *testing.T) {
	path, bi, funcs, st, tr := openWork(t)
	ex, err := link.OpenExecutable(path)
	if err != nil {
		t.Fatal(err)
	}
	off, err := probe.FileOffset(bi, tr.funcs[0].sites.Entry)
	if err != nil {
		t.Fatal(err)
	}
	bogus := uint64(len(funcs))<<2 | probeCall
	l, err := ex.Uprobe("", tr.coll.Programs[programName], &link.UprobeOptions{Address: off, Cookie: bogus, PID: st.cmd.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	tr.links = append(tr.links, l) // detached by Close
	res := collect(tr)
	st.run(t)
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := <-res
	s := tr.Stats()
	if s.Drops != (Drops{NoPlan: 4}) || s.Dropped != 4 || len(evs) != 8 {
		t.Fatalf("drops %+v, dropped %d, %d events; want 4 without a plan, 4 in all, 8 events", s.Drops, s.Dropped, len(evs))
	}
}

// A kernel counter that cannot be read is never reported as no loss:
// with the drops and condition-count maps closed under the tracer, Close
// says which counters it could not read, and Stats has the same error.
func TestUnreadableCountersReported(t *testing.T) {
	_, _, _, st, tr := openWork(t)
	res := collect(tr)
	st.run(t)
	for _, m := range []string{"drops", "cond_counts"} {
		if err := tr.coll.Maps[m].Close(); err != nil {
			t.Fatal(err)
		}
	}
	err := tr.Close()
	<-res
	const want = "reading the kernel's counter drops[0]: lookup: bad file descriptor\n" +
		"reading the kernel's counter drops[2]: lookup: bad file descriptor\n" +
		"reading the kernel's counter cond_counts[0]: lookup: bad file descriptor\n" +
		"reading the kernel's counter cond_counts[1]: lookup: bad file descriptor"
	if err == nil || err.Error() != want {
		t.Fatalf("Close: %v\nwant %s", err, want)
	}
	if s := tr.Stats(); s.CountsErr == nil || s.CountsErr.Error() != want || s.Dropped != 0 {
		t.Fatalf("Stats(): CountsErr %v, dropped %d; want the error Close returned, 0", s.CountsErr, s.Dropped)
	}
}

// openWork opens a tracer of ebpftrace's main.work on a started, stopped
// ebpftrace, without uprobe_multi.
func openWork(t *testing.T) (string, *bininfo.BinaryInfo, []*bininfo.Function, *stoppedTarget, *Tracer) {
	t.Helper()
	requireBPF(t)
	path := fixture.Build(t, "ebpftrace", fixture.Flavour{})
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bi.Close() })
	funcs := lookupFuncs(t, bi, "main.work")
	st := startStopped(t, path)
	tr, err := Open(bi, st.cmd.Process.Pid, funcs, Options{NoUprobeMulti: true})
	if err != nil {
		t.Fatal(err)
	}
	return path, bi, funcs, st, tr
}
