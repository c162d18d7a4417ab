package trace

import "time"

// batcher is a sink that can stop flushing after every event and flush
// when told instead. The eBPF backend uses it: the program never stops at
// a probe, so a flush per event orders nothing and would cost a write
// system call (and a wake-up of whoever reads the output) per call.
type batcher interface {
	holdFlushes()
	flush() error
}

// flushInterval bounds how long a held event waits before it is written,
// so a quiet trace still shows up promptly.
const flushInterval = 10 * time.Millisecond

// holdFlushes makes sink, or every sink of a Multi, flush only when the
// returned function is called. It returns nil when no sink can hold.
func holdFlushes(sink Sink) func() error {
	var held []batcher
	var collect func(s Sink)
	collect = func(s Sink) {
		switch s := s.(type) {
		case Multi:
			for _, m := range s {
				collect(m)
			}
		case batcher:
			s.holdFlushes()
			held = append(held, s)
		}
	}
	collect(sink)
	if len(held) == 0 {
		return nil
	}
	return func() error {
		for _, b := range held {
			if err := b.flush(); err != nil {
				return err
			}
		}
		return nil
	}
}
