package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-delve/delve/service/api"
	"github.com/go-delve/delve/service/rpc2"
)

// pageSize is the page a DAP threads request lists (maxGoroutines in both
// DAP servers).
const pageSize = 1024

// manyRun is what one headless session on manygoroutines measured.
type manyRun struct {
	pages []float64 // seconds per ListGoroutines(0, pageSize), each at a fresh stop
	nexts []float64 // seconds per Next
}

// manySession starts a headless server on manygoroutines with n parked
// goroutines, stops in main.ready, steps out into main.main's loop and
// times k Nexts, then (when page) k ListGoroutines(0, pageSize), each
// after a Next.
func manySession(c *config, d debugger, n, k int, page bool) (manyRun, error) {
	var mr manyRun
	args := append(d.headlessArgs(c.many), "--", strconv.Itoa(n))
	s, err := startSession(d.path, args, nil)
	if err != nil {
		return mr, err
	}
	defer s.kill()
	m, _, err := s.waitFor(listening, 30*time.Second)
	if err != nil {
		return mr, fmt.Errorf("%s headless: %w", d.name, err)
	}
	s.drain()
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		return mr, fmt.Errorf("dialing %s: %w", m[1], err)
	}
	defer conn.Close()
	client := rpc2.NewClientFromConn(conn)
	if _, err := client.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.ready"}); err != nil {
		return mr, fmt.Errorf("%s: CreateBreakpoint main.ready: %w", d.name, err)
	}
	if st := <-client.Continue(); st == nil || st.Err != nil {
		return mr, fmt.Errorf("%s: continue to main.ready: %+v", d.name, st)
	}
	if _, err := client.StepOut(); err != nil {
		return mr, fmt.Errorf("%s: stepout: %w", d.name, err)
	}
	// Steps are timed apart from the pages, so that the garbage a page
	// leaves in either debugger does not land on the next step.
	for i := 0; i < k; i++ {
		t0 := time.Now()
		st, err := client.Next()
		if err != nil || st.Exited {
			return mr, fmt.Errorf("%s: next: %v", d.name, err)
		}
		mr.nexts = append(mr.nexts, time.Since(t0).Seconds())
	}
	for i := 0; page && i < k; i++ {
		if st, err := client.Next(); err != nil || st.Exited {
			return mr, fmt.Errorf("%s: next: %v", d.name, err)
		}
		t0 := time.Now()
		gs, next, err := client.ListGoroutines(0, pageSize)
		if err != nil {
			return mr, fmt.Errorf("%s: ListGoroutines: %w", d.name, err)
		}
		mr.pages = append(mr.pages, time.Since(t0).Seconds())
		if len(gs) != pageSize || next < pageSize {
			return mr, fmt.Errorf("%s: ListGoroutines(0, %d) = %d goroutines, next %d", d.name, pageSize, len(gs), next)
		}
	}
	client.Detach(true)
	return mr, nil
}

// benchGoroutines times a 1024-goroutine page out of 10,000 and a step
// with 10 and with 10,000 goroutines parked, through Delve's client.
func benchGoroutines(c *config, dbgs []debugger) (string, error) {
	ds := usable(dbgs, func(d debugger) string { return d.noHeadless })
	const k = 20
	pages := map[string][]float64{}
	threads, again, stacks := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	nexts := map[string]map[int][]float64{}
	for _, d := range ds {
		nexts[d.name] = map[int][]float64{}
	}
	if err := interleave(c.reps, ds, func(d debugger) error {
		for _, n := range []int{10, 10000} {
			mr, err := manySession(c, d, n, k, n == 10000)
			if err != nil {
				return err
			}
			pages[d.name] = append(pages[d.name], mr.pages...)
			nexts[d.name][n] = append(nexts[d.name][n], mr.nexts...)
		}
		ts, err := dapThreads(c, d, 10000, k)
		if err != nil {
			return err
		}
		threads[d.name] = append(threads[d.name], ts.first...)
		again[d.name] = append(again[d.name], ts.again...)
		stacks[d.name] = append(stacks[d.name], ts.stack...)
		return nil
	}); err != nil {
		return "", err
	}
	var rows [][]string
	for _, d := range ds {
		n10, n10k := summarize(nexts[d.name][10]).med, summarize(nexts[d.name][10000]).med
		rows = append(rows, []string{d.name, spread(summarize(threads[d.name]), secs), spread(summarize(again[d.name]), secs),
			spread(summarize(stacks[d.name]), secs), spread(summarize(pages[d.name]), secs),
			secs(n10), secs(n10k), fmt.Sprintf("%.2f", n10k/n10)})
	}
	rows = append(rows, []string{"**tinydbg / dlv**", ratio(summarize(threads["tinydbg"]).med, summarize(threads["dlv"]).med),
		ratio(summarize(again["tinydbg"]).med, summarize(again["dlv"]).med), ratio(summarize(stacks["tinydbg"]).med, summarize(stacks["dlv"]).med),
		ratio(summarize(pages["tinydbg"]).med, summarize(pages["dlv"]).med),
		ratio(summarize(nexts["tinydbg"][10]).med, summarize(nexts["dlv"][10]).med),
		ratio(summarize(nexts["tinydbg"][10000]).med, summarize(nexts["dlv"][10000]).med), ""})
	var b strings.Builder
	b.WriteString("## 5. Many goroutines: a threads page and a step\n\n")
	fmt.Fprintf(&b, "`_fixtures/manygoroutines N` parks N goroutines and stops in main.ready; each server is driven by Delve's client: "+
		"StepOut into main.main's loop, %d timed Nexts, then (N = 10,000) %d ListGoroutines(0, %d), the page a DAP "+
		"threads request lists, each after an untimed Next so that it starts from a fresh stop. %d sessions per debugger and N, alternated; median (min – max) over all calls. "+
		"DAP threads: `<debugger> dap`, launch N = 10,000, stop in main.ready, then %d rounds of next, a timed threads request, the same again and a stackTrace (20 frames) of a goroutine parked in main.park, all at that stop.\n\n", k, k, pageSize, c.reps, k)
	b.WriteString(table([]string{"server", "DAP threads, 10,000", "DAP threads again, same stop", "DAP stackTrace of a parked goroutine", "ListGoroutines(0, 1024) of 10,000", "next, 10 goroutines", "next, 10,000 goroutines", "next 10k / next 10"}, rows))
	b.WriteString("\nGoal (issue): the page in ≤ 100 ms; a step that does not slow with the number of goroutines.\n\n```\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "%s %s -- 10000\n%s dap --listen=127.0.0.1:0\n", d.name, strings.Join(d.headlessArgs("$WORK/manygoroutines"), " "), d.name)
	}
	b.WriteString("```\n")
	return b.String(), nil
}
