package terminal

import (
	"io"
	"sync"
)

// outBuffer gathers what one command prints and writes it at once when the
// command ends: the banner and listing of a stop are a dozen lines, and a
// write system call each (plus a wake-up of whoever reads the pipe) is a
// measurable part of a stop's cost. It is safe for concurrent use, since
// the SIGINT handler prints while a continue runs.
type outBuffer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	tr  *transcript // set by the transcript command
	// held, while set, keeps output from the terminal (not from the
	// transcript) until hold(false) returns it: for the pager.
	held    []byte
	holding bool
}

// hold starts holding output (on) or stops and returns what was held.
func (b *outBuffer) hold(on bool) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.held
	b.holding, b.held = on, nil
	return out
}

// release passes held output on to the terminal (the transcript has it).
func (b *outBuffer) release(out []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, out...)
}

// flushAt is the size past which output is written without waiting for
// the command's end, so a huge listing streams.
const flushAt = 64 << 10

func (b *outBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tr != nil {
		_, _ = b.tr.w.Write(p)
		if b.tr.fileOnly {
			return len(p), nil
		}
	}
	if b.holding {
		b.held = append(b.held, p...)
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= flushAt {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is pending.
func (b *outBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *outBuffer) flushLocked() error {
	if b.tr != nil {
		_ = b.tr.w.Flush()
	}
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// afterFlush writes to w once out's pending output is written, so that
// errors and output keep their order on a shared terminal.
type afterFlush struct {
	out *outBuffer
	w   io.Writer
}

func (a afterFlush) Write(p []byte) (int, error) {
	if err := a.out.Flush(); err != nil {
		return 0, err
	}
	return a.w.Write(p)
}
