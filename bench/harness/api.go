package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-delve/delve/service/api"
	"github.com/go-delve/delve/service/rpc2"
)

// session is a debugger process the harness talks to while it runs: its
// combined stdout and stderr arrive on lines, and kill ends its process group.
type session struct {
	cmd   *exec.Cmd
	start time.Time
	stdin io.WriteCloser
	lines chan string
	out   bytes.Buffer // everything read so far, for error messages
}

func startSession(path string, args, env []string) (*session, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &session{cmd: cmd, lines: make(chan string, 1024)}
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	s.start = time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	w.Close()
	go func() {
		defer close(s.lines)
		br := bufio.NewReader(r)
		for {
			// Prompts end without a newline, so deliver whatever arrived.
			buf := make([]byte, 32<<10)
			n, err := br.Read(buf)
			if n > 0 {
				s.lines <- string(buf[:n])
			}
			if err != nil {
				r.Close()
				return
			}
		}
	}()
	return s, nil
}

// waitFor reads output until re matches the accumulated text, returning the
// submatches and the time since start.
func (s *session) waitFor(re *regexp.Regexp, timeout time.Duration) ([]string, time.Duration, error) {
	deadline := time.After(timeout)
	for {
		select {
		case chunk, ok := <-s.lines:
			if !ok {
				return nil, 0, fmt.Errorf("output ended before %q; output:\n%s", re, tail(s.out.String(), 2000))
			}
			s.out.WriteString(chunk)
			if m := re.FindStringSubmatch(s.out.String()); m != nil {
				return m, time.Since(s.start), nil
			}
		case <-deadline:
			return nil, 0, fmt.Errorf("no %q within %v; output:\n%s", re, timeout, tail(s.out.String(), 2000))
		}
	}
}

// drain discards further output so the process never blocks writing.
func (s *session) drain() {
	go func() {
		for range s.lines {
		}
	}()
}

// wait reaps the process (killing its group after timeout) and returns its
// peak RSS in KiB.
func (s *session) wait(timeout time.Duration) (int64, error) {
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = fmt.Errorf("%s did not exit within %v", s.cmd.Path, timeout)
	}
	if ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss, err
	}
	return 0, err
}

func (s *session) kill() {
	s.stdin.Close()
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.drain()
	s.wait(10 * time.Second)
}

var listening = regexp.MustCompile(`API server listening at: (\S+:\d+)`)

// apiRun is what one headless session measured.
type apiRun struct {
	listen, firstStop time.Duration
	trips             []float64 // seconds per continue → stop round trip
	threadsAtBP       int       // threads reported at the breakpoint, summed over the timed stops
}

// apiSession starts a headless server on hotloop, connects Delve's own Go
// client, sets a breakpoint on main.hot and times each continue → stop.
func apiSession(c *config, d debugger) (apiRun, error) {
	var ar apiRun
	env := []string{"HOTLOOP_N=" + strconv.Itoa(max(100000, c.apiContinues))}
	s, err := startSession(d.path, d.headlessArgs(c.hotloop), env)
	if err != nil {
		return ar, err
	}
	m, listen, err := s.waitFor(listening, 30*time.Second)
	if err != nil {
		s.kill()
		return ar, fmt.Errorf("%s headless: %w", d.name, err)
	}
	s.drain()
	ar.listen = listen
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		s.kill()
		return ar, fmt.Errorf("dialing %s: %w", m[1], err)
	}
	client := rpc2.NewClientFromConn(conn)
	fail := func(err error) (apiRun, error) {
		conn.Close()
		s.kill()
		return ar, fmt.Errorf("%s: %w", d.name, err)
	}
	if _, err := client.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.hot"}); err != nil {
		return fail(fmt.Errorf("CreateBreakpoint main.hot: %w", err))
	}
	stop := func() error {
		st := <-client.Continue()
		if st == nil {
			return fmt.Errorf("continue returned no state")
		}
		if st.Err != nil {
			return fmt.Errorf("continue: %w", st.Err)
		}
		th := st.CurrentThread
		if th == nil || th.Breakpoint == nil {
			return fmt.Errorf("continue stopped without a breakpoint: %+v", st)
		}
		if th.Function != nil && th.Function.Name() != "main.hot" {
			return fmt.Errorf("stopped in %s, want main.hot", th.Function.Name())
		}
		// Several goroutines can be at the breakpoint in one stop; a server
		// that reports them together needs fewer stops for the same hits.
		for _, t := range st.Threads {
			if t.Breakpoint != nil {
				ar.threadsAtBP++
			}
		}
		return nil
	}
	if err := stop(); err != nil {
		return fail(err)
	}
	ar.firstStop = time.Since(s.start)
	ar.threadsAtBP = 0
	for i := 0; i < c.apiContinues; i++ {
		t0 := time.Now()
		if err := stop(); err != nil {
			return fail(err)
		}
		ar.trips = append(ar.trips, time.Since(t0).Seconds())
	}
	if err := client.Detach(true); err != nil && err != io.ErrUnexpectedEOF {
		// A server may close the connection as it quits; only report others.
		if !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "shut down") {
			return fail(fmt.Errorf("Detach: %w", err))
		}
	}
	conn.Close()
	s.stdin.Close()
	if _, err := s.wait(15 * time.Second); err != nil {
		if !isExit(err) {
			return ar, fmt.Errorf("%s after detach: %w", d.name, err)
		}
	}
	return ar, nil
}

// prompt matches the REPL prompt of either debugger.
var prompt = regexp.MustCompile(`\((dlv|tinydbg)\) `)

// firstPrompt times a REPL on a terminal from exec to its first prompt on
// the large binary, then types exit.
func firstPrompt(c *config, d debugger) (time.Duration, int64, error) {
	s, err := startSessionPTY(d.path, []string{"exec", c.goBin})
	if err != nil {
		return 0, 0, err
	}
	_, t, err := s.waitFor(prompt, 60*time.Second)
	if err != nil {
		s.kill()
		return 0, 0, fmt.Errorf("%s: %w", d.name, err)
	}
	s.drain()
	// A terminal in raw mode sends carriage return for Enter.
	io.WriteString(s.stdin, "exit\r")
	rss, err := s.wait(30 * time.Second)
	s.stdin.Close()
	if err != nil && !isExit(err) {
		return 0, 0, fmt.Errorf("%s exit: %w", d.name, err)
	}
	return t, rss, nil
}

// isExit reports whether err only says the process exited non-zero, which
// debuggers do when they kill their target on the way out.
func isExit(err error) bool {
	var exitErr *exec.ExitError
	return errors.As(err, &exitErr)
}

// benchAPI drives both headless servers with Delve's Go client, and times
// each REPL to its first prompt on cmd/go.
func benchAPI(c *config, dbgs []debugger) (string, error) {
	ds := usable(dbgs, func(d debugger) string { return d.noHeadless })
	runs := map[string][]apiRun{}
	if err := interleave(c.reps, ds, func(d debugger) error {
		ar, err := apiSession(c, d)
		if err != nil {
			return err
		}
		runs[d.name] = append(runs[d.name], ar)
		return nil
	}); err != nil {
		return "", err
	}
	trips := map[string][]float64{}
	var rows [][]string
	for _, d := range dbgs {
		if d.noHeadless != "" {
			rows = append(rows, []string{d.name, "not measured: " + d.noHeadless, "", "", "", ""})
			continue
		}
		var listen, first, sessMed []float64
		atBP := 0
		for _, ar := range runs[d.name] {
			atBP += ar.threadsAtBP
			listen = append(listen, seconds(ar.listen))
			first = append(first, seconds(ar.firstStop))
			trips[d.name] = append(trips[d.name], ar.trips...)
			sessMed = append(sessMed, summarize(ar.trips).med)
		}
		all := trips[d.name]
		rows = append(rows, []string{d.name, spread(summarize(listen), secs), spread(summarize(first), secs),
			fmt.Sprintf("%s (p10 %s, p90 %s)", secs(summarize(all).med), secs(percentile(all, 10)), secs(percentile(all, 90))),
			spread(summarize(sessMed), secs), fmt.Sprintf("%.2f", float64(atBP)/float64(max(1, len(all))))})
	}
	t, dl := summarize(trips["tinydbg"]).med, summarize(trips["dlv"]).med
	rows = append(rows, []string{"**tinydbg / dlv**", "", "", ratio(t, dl), "", ""})

	pds := usable(dbgs, func(d debugger) string { return d.noREPL })
	ptime := map[string][]float64{}
	prss := map[string][]float64{}
	if err := interleave(c.reps, pds, func(d debugger) error {
		t, rss, err := firstPrompt(c, d)
		if err != nil {
			return err
		}
		ptime[d.name] = append(ptime[d.name], seconds(t))
		prss[d.name] = append(prss[d.name], float64(rss))
		return nil
	}); err != nil {
		return "", err
	}
	var prows [][]string
	for _, d := range dbgs {
		if d.noREPL != "" {
			prows = append(prows, []string{d.name, "not measured: " + d.noREPL, ""})
			continue
		}
		prows = append(prows, []string{d.name, spread(summarize(ptime[d.name]), secs), spread(summarize(prss[d.name]), mib)})
	}
	prows = append(prows, []string{"**tinydbg / dlv**",
		ratio(summarize(ptime["tinydbg"]).med, summarize(ptime["dlv"]).med),
		ratio(summarize(prss["tinydbg"]).med, summarize(prss["dlv"]).med)})

	var b strings.Builder
	b.WriteString("## 3. API continue → stop round trip, and REPL start-up\n\n")
	fmt.Fprintf(&b, "Both servers are driven by Delve's own Go client (`service/rpc2.NewClientFromConn`, Delve v1.27.2) over TCP: "+
		"CreateBreakpoint main.hot on hotloop, one Continue to reach it, then %d timed Continue calls (each returns at the next stop), "+
		"then Detach(kill). %d sessions per debugger, alternated. Round trip: median over all continues (p10, p90); "+
		"per-session medians (min – max) show the spread between sessions; "+
		"\"threads at bp per stop\" counts the threads a stop reports at the breakpoint (more per stop means fewer stops for the same hits).\n\n", c.apiContinues, c.reps)
	b.WriteString(table([]string{"server", "spawn → listening", "spawn → first stop", "continue round trip", "session medians", "threads at bp per stop"}, rows))
	b.WriteString("\n```\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "HOTLOOP_N=100000 %s %s\n", d.name, strings.Join(d.headlessArgs("$WORK/hotloop"), " "))
	}
	b.WriteString("```\n\n")
	fmt.Fprintf(&b, "REPL start-up: `<debugger> exec $WORK/go` on a pseudo-terminal (a piped REPL prints no prompt in tinydbg), "+
		"from exec until the prompt appears, then `exit` is typed; peak RSS of the whole session. %d repetitions, median (min – max).\n\n", c.reps)
	b.WriteString(table([]string{"debugger", "exec → first prompt", "peak RSS"}, prows))
	return b.String(), nil
}
