package trace

import (
	"sync/atomic"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
)

type closedSource struct{ ch chan *ebpf.Batch }

func (c closedSource) Batches() <-chan *ebpf.Batch { return c.ch }
func (closedSource) Release(*ebpf.Batch)           {}
func (closedSource) Recycle(*ebpf.Batch)           {}

// The reader ending before the trace does (a ring error; a decoding bug
// caught in the reader) must end the trace: otherwise a program held for
// the reader stays stopped, and tinydbg waits for it.
func TestReaderEndEndsTheTrace(t *testing.T) {
	src := closedSource{make(chan *ebpf.Batch)}
	close(src.ch)
	var cut atomic.Uint64
	ended := false
	if _, err := deliverEBPF(src, discardSink{}, 0, &cut, func() { ended = true }); err != nil {
		t.Fatal(err)
	}
	if !ended {
		t.Fatal("the reader ended and the trace went on")
	}
}

type discardSink struct{}

func (discardSink) Event(*Event) error { return nil }
func (discardSink) Close() error       { return nil }
