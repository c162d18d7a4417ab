package compat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	delverpc "github.com/go-delve/delve/service/rpc2"
)

// debugSession is one headless debugger (tinydbg or dlv) serving one run
// of a program, driven through Delve's own client. Every call is bounded;
// close always kills the debugger and the program it started.
type debugSession struct {
	who     string
	cmd     *exec.Cmd
	client  *delverpc.RPCClient
	pid     int           // the debugged program's, once known
	exited  chan struct{} // closed when the debugger process is reaped
	stderr  *bytes.Buffer
	broken  error            // set when a call timed out: nothing more is asked
	bpID    int              // the stop's breakpoint
	retvals []string         // the last stepout's return values, rendered
	glocs   map[int64]string // goroutine id -> location, from goroutineIDs
}

// dlvArgv is how Delve is started: 1.27.2 refuses programs built by Go
// before 1.25 unless told not to check, and the test debugs go1.22's and
// go1.24's builds too.
func dlvArgv() []string { return []string{dlvBin, "--check-go-version=false"} }

// errTimeout marks a call that did not answer in time.
var errTimeout = errors.New("timed out")

// startSession runs `<debugger> exec --headless` on bin with args in dir,
// the program's environment extended by env, and connects Delve's client.
// debugger is the command and any flags of its own.
func startSession(who string, debugger []string, bin, dir string, args, env []string) (*debugSession, error) {
	argv := append(debugger[1:len(debugger):len(debugger)], "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", "--wd", dir, bin, "--")
	cmd := exec.Command(debugger[0], append(argv, args...)...)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so that nothing the session starts can take
	// the test's terminal signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &debugSession{who: who, cmd: cmd, exited: make(chan struct{}), stderr: &bytes.Buffer{}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &limitedWriter{buf: s.stderr, max: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", who, err)
	}
	banner := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		banner <- line
		// The program's own output (gofmt's diff) is not compared.
		_, _ = io.Copy(io.Discard, r)
		_ = cmd.Wait()
		close(s.exited)
	}()
	var line string
	select {
	case line = <-banner:
	case <-time.After(60 * time.Second):
		s.close()
		return nil, fmt.Errorf("%s printed no banner in 60s", who)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "API server listening at: ")
	if !ok {
		s.close()
		return nil, fmt.Errorf("%s: first line %q; stderr %q", who, line, s.stderr.String())
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("dialing %s at %s: %w", who, addr, err)
	}
	s.client = delverpc.NewClientFromConn(conn)
	if err := s.call(20*time.Second, func() error { s.pid = s.client.ProcessPid(); return nil }); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// call runs f, giving up after d. After a timeout the session is broken:
// the client may still be blocked in f, so only close is allowed.
func (s *debugSession) call(d time.Duration, f func() error) error {
	if s.broken != nil {
		return s.broken
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("client panicked: %v", r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		s.broken = fmt.Errorf("%s: %w after %v", s.who, errTimeout, d)
		return s.broken
	}
}

// close asks the debugger to kill the program and quit, then kills both
// anyway: a stopped tracee is never left behind.
func (s *debugSession) close() {
	if s.client != nil && s.broken == nil {
		_ = s.call(10*time.Second, func() error { return s.client.Detach(true) })
	}
	if s.pid > 0 {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
}

// limitedWriter keeps the first max bytes written to it.
type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
