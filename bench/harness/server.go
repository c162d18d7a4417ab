package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveHTTP is what the server part traces: every request passes through
// it once.
const serveHTTP = `^net/http\.\(\*ServeMux\)\.ServeHTTP$`

// server is one running jsonserve.
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startServer(path string) (*server, error) {
	cmd := exec.Command(path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s printed %q, want its address (%v)", path, line, err)
	}
	return &server{cmd: cmd, stdin: stdin, addr: addr}, nil
}

// stop closes the server's stdin, which ends it.
func (s *server) stop() error {
	s.stdin.Close()
	return s.cmd.Wait()
}

// load sends n GETs over conns keep-alive connections, each reading its
// whole JSON answer, and returns how long they took.
func load(addr string, n, conns int) (time.Duration, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return getAll(client, n, conns, func(i int) string { return fmt.Sprintf("http://%s/item?id=%d", addr, i) })
}

// getAll sends the n GETs url(0..n-1) from workers goroutines sharing
// client, reading each whole answer, and returns how long they took; the
// first failure ends its worker and is returned.
func getAll(client *http.Client, n, workers int, url func(int) string) (time.Duration, error) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				resp, err := client.Get(url(i))
				if err != nil {
					errs <- err
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET %d: status %d, %v", i, resp.StatusCode, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	d := time.Since(start)
	close(errs)
	return d, <-errs
}

// serverRun is one measured load on the server.
type serverRun struct {
	rps    float64 // requests per second
	seen   int     // ServeHTTP calls the trace reported during the load
	lost   int     // tinydbg's dropped count
	cpuPer float64 // seconds of tinydbg CPU per event
	bpf    float64 // seconds of BPF run time per event, from tinydbg's cost line
}

// untracedServer measures the server alone.
func untracedServer(c *config) (serverRun, error) {
	s, err := startServer(c.jsonserve)
	if err != nil {
		return serverRun{}, err
	}
	defer s.stop()
	if _, err := load(s.addr, 200, c.serverConns); err != nil { // warm-up
		return serverRun{}, err
	}
	d, err := load(s.addr, c.serverN, c.serverConns)
	return serverRun{rps: float64(c.serverN) / d.Seconds()}, err
}

// floorServer measures the server with empty BPF programs on ServeHTTP's
// entry and RETs: what the uprobes alone cost it.
func floorServer(c *config) (serverRun, error) {
	fl, _, err := floorProbes(c.jsonserve, "net/http.(*ServeMux).ServeHTTP")
	if err != nil {
		return serverRun{}, err
	}
	defer fl.Close()
	return untracedServer(c)
}

// tracedServer attaches `tinydbg trace --ebpf --pid` to a running server,
// waits until a request shows in the trace, then measures the same load.
// The trace is ended with SIGINT; the server must run on.
func tracedServer(c *config, d debugger, extra ...string) (serverRun, error) {
	s, err := startServer(c.jsonserve)
	if err != nil {
		return serverRun{}, err
	}
	defer s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	args := append(append([]string{"trace", "--ebpf"}, extra...), "--pid", fmt.Sprint(s.cmd.Process.Pid), serveHTTP)
	cmd := exec.CommandContext(ctx, d.path, args...)
	out := &capture{match: "ServeHTTP("}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return serverRun{}, err
	}
	ended := false
	defer func() {
		if !ended {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	count := func() int {
		out.mu.Lock()
		defer out.mu.Unlock()
		return out.count
	}
	for deadline := time.Now().Add(30 * time.Second); count() == 0; {
		if time.Now().After(deadline) {
			return serverRun{}, fmt.Errorf("no ServeHTTP event 30s after attaching; output:\n%s", tail(out.String(), 2000))
		}
		if _, err := load(s.addr, 1, 1); err != nil {
			return serverRun{}, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the warm-up's events, flushed
	before := count()
	dur, err := load(s.addr, c.serverN, c.serverConns)
	if err != nil {
		return serverRun{}, err
	}
	// Events still in flight once the load ends are delivered before
	// the trace ends on SIGINT: tinydbg drains its ring first.
	cmd.Process.Signal(syscall.SIGINT)
	werr := cmd.Wait()
	ended = true
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return serverRun{}, werr
	}
	r := serverRun{rps: float64(c.serverN) / dur.Seconds(), seen: count() - before, lost: -1}
	if sm := sumLine.FindStringSubmatch(out.String()); sm != nil {
		fmt.Sscan(sm[2], &r.lost)
	} else {
		return r, fmt.Errorf("tinydbg printed no summary; output tail:\n%s", tail(out.String(), 2000))
	}
	if cm := costLine.FindStringSubmatch(out.String()); cm != nil {
		if d, err := time.ParseDuration(cm[1]); err == nil {
			r.bpf = d.Seconds()
		}
	}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && r.seen > 0 {
			// With --pid tinydbg reaps nothing: its rusage is its own.
			r.cpuPer = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9 / float64(2*r.seen)
		}
	}
	return r, nil
}

// benchServer measures the real server: throughput kept under the trace,
// and every call seen.
func benchServer(c *config, dbgs []debugger) (string, error) {
	var d debugger
	for _, x := range dbgs {
		if x.name == "tinydbg" {
			d = x
		}
	}
	if _, err := os.Stat(c.jsonserve); err != nil || d.noEBPF != "" {
		return "\n### The real server\n\nnot measured: no jsonserve binary or no `tinydbg trace --ebpf`\n", nil
	}
	var plain, floor, traced, shallow []serverRun
	for r := 0; r < c.reps; r++ {
		fmt.Fprintf(os.Stderr, "   rep %d: jsonserve untraced, floor, traced, traced --depth 0\n", r+1)
		u, err := untracedServer(c)
		if err != nil {
			return "", fmt.Errorf("untraced server: %w", err)
		}
		f, err := floorServer(c)
		if err != nil {
			return "", fmt.Errorf("server under the floor probes: %w", err)
		}
		t, err := tracedServer(c, d)
		if err != nil {
			return "", fmt.Errorf("traced server: %w", err)
		}
		z, err := tracedServer(c, d, "--depth", "0")
		if err != nil {
			return "", fmt.Errorf("traced server, depth 0: %w", err)
		}
		plain, floor, traced, shallow = append(plain, u), append(floor, f), append(traced, t), append(shallow, z)
	}
	of := func(rs []serverRun, f func(serverRun) float64) stat {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return summarize(xs)
	}
	rps := func(r serverRun) float64 { return r.rps }
	perSec := func(v float64) string { return fmt.Sprintf("%.0f/s", v) }
	base := orNaN(of(plain, rps))
	keptOf := func(rs []serverRun) string { return fmt.Sprintf("%.0f%%", 100*ratioValue(orNaN(of(rs, rps)), base)) }
	lostOf := func(rs []serverRun) (int, int) {
		minSeen, maxLost := c.serverN, 0
		for _, t := range rs {
			minSeen, maxLost = min(minSeen, t.seen), max(maxLost, t.lost, c.serverN-t.seen)
		}
		return minSeen, maxLost
	}
	cpuOf := func(rs []serverRun) string {
		return spread(of(rs, func(r serverRun) float64 { return r.cpuPer }), secs)
	}
	bpfOf := func(rs []serverRun) string {
		return spread(of(rs, func(r serverRun) float64 { return r.bpf }), secs)
	}
	minSeen, maxLost := lostOf(traced)
	zSeen, zLost := lostOf(shallow)
	kept := ratioValue(orNaN(of(traced, rps)), base)
	var b strings.Builder
	b.WriteString("\n### The real server\n\n")
	fmt.Fprintf(&b, "`_fixtures/jsonserve` (optimized): a net/http ServeMux answering GET /item?id=N with an "+
		"encoding/json body. The harness sends %d requests over %d keep-alive loopback connections as fast as the "+
		"server answers (client, server and tracer share the 2 cores): untraced; under the floor (empty BPF programs "+
		"on ServeHTTP's entry and RETs); and under `tinydbg trace --ebpf --pid` on `(*ServeMux).ServeHTTP`, attached "+
		"to the running server before the load, at the default depth (every *http.Request field and the "+
		"ResponseWriter's, about 4 KB of text per call) and at `--depth 0`. \"tinydbg CPU / event\" is its rusage "+
		"(with --pid it reaps nothing) over calls and returns, start-up included. %d repetitions, median (min – max).\n\n",
		c.serverN, c.serverConns, c.reps)
	b.WriteString(table([]string{"server", "throughput", "kept", "ServeHTTP calls seen", "lost", "tinydbg CPU / event", "BPF run time / event"}, [][]string{
		{"untraced", spread(of(plain, rps), perSec), "100%", "—", "—", "—", "—"},
		{"floor: empty BPF programs", spread(of(floor, rps), perSec), keptOf(floor), "—", "—", "—", "—"},
		{"tinydbg trace --ebpf --pid", spread(of(traced, rps), perSec), keptOf(traced), fmt.Sprintf("min %d of %d", minSeen, c.serverN),
			fmt.Sprint(maxLost), cpuOf(traced), bpfOf(traced)},
		{"tinydbg trace --ebpf --depth 0 --pid", spread(of(shallow, rps), perSec), keptOf(shallow), fmt.Sprintf("min %d of %d", zSeen, c.serverN),
			fmt.Sprint(zLost), cpuOf(shallow), bpfOf(shallow)},
	}))
	fmt.Fprintf(&b, "\n| goal | measured | verdict |\n| --- | --- | --- |\n| throughput kept ≥ 70%% (default depth) | %.0f%% | %s |\n| every call seen | %d lost | %s |\n",
		100*kept, verdict(-kept, -0.7), maxLost, verdict(float64(maxLost), 0))
	b.WriteString("\n```\n$WORK/jsonserve &   # prints its address\n" +
		"tinydbg trace --ebpf [--depth 0] --pid $PID '" + serveHTTP + "'\n```\n")
	return b.String(), nil
}
