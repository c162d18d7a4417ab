package terminal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// transcript is where the transcript command copies what the terminal
// prints: the echoed command lines and their output, but not errors,
// which go to stderr as in Delve.
type transcript struct {
	fh       io.Closer
	w        *bufio.Writer
	fileOnly bool // -x: the terminal itself shows nothing
}

// transcribe makes out copy to fh (and, with fileOnly, only to fh).
func (b *outBuffer) transcribe(fh io.WriteCloser, fileOnly bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tr = &transcript{fh: fh, w: bufio.NewWriter(fh), fileOnly: fileOnly}
}

// closeTranscript ends the transcript, if any, writing what it holds.
func (b *outBuffer) closeTranscript() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tr == nil {
		return nil
	}
	tr := b.tr
	b.tr = nil
	ferr := tr.w.Flush()
	if err := tr.fh.Close(); err != nil && ferr == nil {
		ferr = err
	}
	if ferr != nil {
		return fmt.Errorf("closing transcript: %w", ferr)
	}
	return nil
}

// echo writes s to the transcript only: the command line as typed after
// the prompt.
func (b *outBuffer) echo(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tr != nil {
		_, _ = b.tr.w.WriteString(s)
	}
}

func transcriptCmd(t *Term, ctx callCtx, args string) error {
	var truncate, fileOnly, off bool
	path := ""
	for _, arg := range strings.Split(args, " ") {
		switch arg {
		case "-x":
			fileOnly = true
		case "-t":
			truncate = true
		case "-off":
			off = true
		default:
			if path != "" || strings.HasPrefix(arg, "-") {
				return fmt.Errorf("unrecognized option %q", arg)
			}
			path = arg
		}
	}
	if off {
		if path != "" {
			return errors.New("-o option specified with an output path")
		}
		return t.outBuf.closeTranscript()
	}
	if path == "" {
		return errors.New("no output path specified")
	}
	flags := os.O_APPEND | os.O_WRONLY | os.O_CREATE
	if truncate {
		flags |= os.O_TRUNC
	}
	fh, err := os.OpenFile(path, flags, 0o660)
	if err != nil {
		return err
	}
	if err := t.outBuf.closeTranscript(); err != nil {
		fh.Close()
		return err
	}
	t.outBuf.transcribe(fh, fileOnly)
	return nil
}
