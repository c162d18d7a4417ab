package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The stats step: `tinydbg trace --ebpf --stats` on every function of
// package net/http while a stdlib server (_fixtures/httpload) answers a
// bounded loopback load, against bare bpftrace counts on the same
// functions. Throughput is what the server keeps: requests over the time
// the load took, the harness being the client.

// loadMode is one way of running httpload.
type loadMode struct {
	label string
	kind  string // "none", "floor", "bpftrace-entry", "stats-ebpf", "stats-ptrace"
	why   string // why it cannot be measured; empty when it can
}

// loadRun is what one run measured.
type loadRun struct {
	rps    float64 // requests per second during the timed load
	counts uint64  // calls the tracer counted (bpftrace's @c, tinydbg's calls column)
	paired uint64  // tinydbg: returns paired with their calls
}

const (
	statsRegexp  = `^net/http\.`
	statsGlob    = "net/http.*"
	loadWorkers  = 4
	loadWarmup   = 200
	statsPtraceN = 500 // requests under the ptrace backend, which costs milliseconds each
)

var (
	statsRow = regexp.MustCompile(`(?m)^ +(\d+) +(\d+) +\S.* (net/http\.\S+)$`)
	bpfTotal = regexp.MustCompile(`(?m)^@c: (\d+)$`)
)

// argv is the command line of a mode.
func (m loadMode) argv(c *config) []string {
	switch m.kind {
	case "bpftrace-entry":
		return []string{c.bpftrace, "-e", fmt.Sprintf("uprobe:%s:%s { @c = count(); }", c.httpload, statsGlob), "-c", c.httpload}
	case "stats-ebpf":
		return []string{c.tinydbg, "trace", "--ebpf", "--stats", "--exec", c.httpload, statsRegexp}
	case "stats-ptrace":
		return []string{c.tinydbg, "trace", "--stats", "--exec", c.httpload, statsRegexp}
	}
	return []string{c.httpload}
}

// loadOnce starts httpload under mode m, waits for its "listening" line,
// sends warm-up requests and then requests timed ones from loadWorkers
// keep-alive clients, asks it to quit and parses what the tracer printed.
func loadOnce(c *config, m loadMode, requests int) (loadRun, error) {
	var lr loadRun
	argv := m.argv(c)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// bpftrace refuses more than 512 probes unless told otherwise.
	cmd.Env = append(os.Environ(), "BPFTRACE_MAX_PROBES=20000")
	pr, pw, err := os.Pipe()
	if err != nil {
		return lr, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return lr, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	pw.Close()
	var out strings.Builder
	addr := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening "); ok {
				select {
				case addr <- a:
				default:
				}
			}
			out.WriteString(line + "\n")
		}
	}()
	fail := func(err error) (loadRun, error) {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		pr.Close()
		<-read
		return lr, fmt.Errorf("%s: %w; output tail:\n%s", m.label, err, tail(out.String(), 2000))
	}
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-read:
		return fail(errors.New("exited before listening"))
	case <-ctx.Done():
		return fail(errors.New("timed out before listening"))
	}
	var floor *floorProbe
	if m.kind == "floor" {
		if floor, err = attachFloor(c.httpload, cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers}, Timeout: time.Minute}
	if err := getHello(client, base, loadWarmup); err != nil {
		if floor != nil {
			floor.close()
		}
		return fail(err)
	}
	start := time.Now()
	if err := getHello(client, base, requests); err != nil {
		if floor != nil {
			floor.close()
		}
		return fail(err)
	}
	lr.rps = float64(requests) / time.Since(start).Seconds()
	if resp, err := client.Get(base + "/quit"); err == nil {
		resp.Body.Close()
	}
	client.CloseIdleConnections()
	if floor != nil {
		if lr.counts, err = floor.close(); err != nil {
			return fail(err)
		}
	}
	err = cmd.Wait()
	<-read
	pr.Close()
	if ctx.Err() != nil {
		return lr, fmt.Errorf("%s: timed out; output tail:\n%s", m.label, tail(out.String(), 2000))
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return lr, fmt.Errorf("%s: %w", m.label, err)
	}
	text := out.String()
	switch m.kind {
	case "bpftrace-entry":
		mm := bpfTotal.FindStringSubmatch(text)
		if mm == nil {
			return lr, fmt.Errorf("%s printed no count; output tail:\n%s", m.label, tail(text, 2000))
		}
		lr.counts, _ = strconv.ParseUint(mm[1], 10, 64)
	case "stats-ebpf", "stats-ptrace":
		rows := statsRow.FindAllStringSubmatch(text, -1)
		if len(rows) == 0 {
			return lr, fmt.Errorf("%s printed no table; output tail:\n%s", m.label, tail(text, 2000))
		}
		for _, r := range rows {
			n, _ := strconv.ParseUint(r[1], 10, 64)
			p, _ := strconv.ParseUint(r[2], 10, 64)
			lr.counts, lr.paired = lr.counts+n, lr.paired+p
		}
	}
	return lr, nil
}

// getHello sends n GET /hello requests from loadWorkers goroutines.
func getHello(client *http.Client, base string, n int) error {
	_, err := getAll(client, n, loadWorkers, func(i int) string { return fmt.Sprintf("%s/hello?n=%d", base, i) })
	return err
}
