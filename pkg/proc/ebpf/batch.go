package ebpf

import (
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Batch is a run of events as the ring buffer held them.
type Batch struct {
	Events []event.Event
	// arena holds the events' value trees (Value.Var).
	arena value.Arena
	// vals is where the events' Values are carved from; used of them are
	// taken.
	vals []event.Value
	used int
	text []byte // the Converter's
}

// Batches delivers calls and returns in the order the kernel recorded them,
// as many at a time as the ring buffer held (at most maxBatch): handing
// them over one by one cost a trace of a hot function a tenth of its CPU
// in channel operations and wake-ups. It is closed once Close has
// delivered everything captured. Use either Batches or Events, not both.
func (t *Tracer) Batches() <-chan *Batch { return t.events }

// Release gives back the storage of the value trees of b's events, which
// the tracer then reuses for later batches: call it once no Value.Var of
// b is used any more (the events themselves stay the caller's). Not
// releasing a batch is allowed; its trees are then collected as garbage.
func (t *Tracer) Release(b *Batch) {
	b.Events, b.vals, b.used, b.text = nil, nil, 0, nil
	t.recycle(b)
}

// Recycle is Release for a caller that keeps nothing of b's events either
// (nor their Values): their storage is reused as well.
func (t *Tracer) Recycle(b *Batch) {
	b.Events, b.used, b.text = b.Events[:0], 0, b.text[:0]
	t.recycle(b)
}

func (t *Tracer) recycle(b *Batch) {
	b.arena.Reset()
	select {
	case t.free <- b:
	default: // enough kept
	}
}

// newBatch is a released batch, or a new one.
func (t *Tracer) newBatch() *Batch {
	var b *Batch
	select {
	case b = <-t.free:
	default:
		b = new(Batch)
	}
	if b.Events == nil {
		b.Events = make([]event.Event, 0, maxBatch)
	}
	if b.text == nil && t.convert != nil {
		b.text = make([]byte, 0, 4096)
	}
	return b
}

// values is room for n Values of an event, carved from the batch being
// decoded: one allocation per batch rather than one per event.
func (t *Tracer) values(n int) []event.Value {
	b := t.batch
	if b == nil || n > maxBatchValues/8 {
		return make([]event.Value, 0, n)
	}
	if b.used+n > len(b.vals) {
		b.vals, b.used = make([]event.Value, maxBatchValues), 0
	}
	s := b.vals[b.used : b.used : b.used+n]
	b.used += n
	return s
}

// maxBatchValues is the size of a batch's block of Values.
const maxBatchValues = 256

// Events is Batches one event at a time.
func (t *Tracer) Events() <-chan event.Event {
	t.flatOnce.Do(func() {
		t.flat = make(chan event.Event, maxBatch)
		go func() {
			defer close(t.flat)
			for b := range t.events {
				for _, ev := range b.Events {
					t.flat <- ev
				}
			}
		}()
	})
	return t.flat
}

// maxBatch bounds a batch; eventBatches is how many may wait for the
// consumer, which bounds the decoded events held in memory as the channel
// of 1024 single events did.
const (
	maxBatch     = 64
	eventBatches = 16
)
