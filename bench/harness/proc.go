package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// spec describes one measured process run.
type spec struct {
	path    string
	args    []string
	stdin   string   // written whole to the process's standard input
	env     []string // added to the harness's environment
	timeout time.Duration
	// match, when set, counts the output lines that contain it; the output is
	// then not kept whole, because tracers print hundreds of thousands of lines.
	match string
}

// result is what one run measured.
type result struct {
	wall     time.Duration
	maxRSS   int64         // KiB, from wait4's rusage: the process and its reaped children
	cpu      time.Duration // user + system time from wait4's rusage, reaped children included
	output   string        // stdout and stderr interleaved (only the tail when spec.match is set)
	matches  int           // lines containing spec.match
	exitCode int
}

// run starts the process in its own process group (so a timeout also ends
// the debuggee it spawned), feeds it stdin, and waits for it.
func run(s spec) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.path, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdin = strings.NewReader(s.stdin)
	out := &capture{match: s.match, keepAll: s.match == ""}
	cmd.Stdout = out
	cmd.Stderr = out
	var progOut *capture
	if s.match != "" {
		// Tracers write their events to stderr; the traced program's own
		// stdout, on the same pipe, could split a line mid-write and
		// hide an event from the count.
		progOut = &capture{}
		cmd.Stdout = progOut
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Start()
	if err != nil {
		return result{}, fmt.Errorf("starting %s: %w", s.path, err)
	}
	err = cmd.Wait()
	r := result{wall: time.Since(start), output: out.String(), matches: out.count}
	if progOut != nil {
		r.output += progOut.String()
	}
	if cmd.ProcessState != nil {
		r.exitCode = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s %s: timed out after %v; output tail:\n%s", s.path, strings.Join(s.args, " "), s.timeout, tail(r.output, 1500))
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return r, fmt.Errorf("waiting for %s: %w", s.path, err)
	}
	return r, nil
}

// capture is an io.Writer that keeps the output (all of it, or a bounded
// tail) and counts complete lines containing match. It is safe for the two
// writers exec uses for stdout and stderr.
type capture struct {
	mu      sync.Mutex
	match   string
	keepAll bool
	buf     bytes.Buffer
	partial []byte
	count   int
}

const captureTail = 64 << 10

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if !c.keepAll && c.buf.Len() > 2*captureTail {
		kept := append([]byte(nil), c.buf.Bytes()[c.buf.Len()-captureTail:]...)
		c.buf.Reset()
		c.buf.Write(kept)
	}
	if c.match != "" {
		data := append(c.partial, p...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if bytes.Contains(data[:i], []byte(c.match)) {
				c.count++
			}
			data = data[i+1:]
		}
		c.partial = append(c.partial[:0], data...)
	}
	return len(p), nil
}

// String returns the kept output.
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
