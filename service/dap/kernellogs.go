package dap

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// Logpoints whose every expression a probe can capture at the breakpoint's
// addresses run in the kernel: the breakpoint's int3 is disabled, a uprobe
// captures the values and a pump goroutine formats each hit into the same
// output line the stopping path prints, so the program never stops for
// them. The rest stop and evaluate as before (logHits), after one line
// saying why.

// kernelLogs is a session's kernel logpoints: one probe set for all, so
// that their lines come in the order the program ran them.
type kernelLogs struct {
	mu   sync.Mutex
	cur  *kernelLog
	done chan struct{} // closed when cur's pump has ended
	// held: released for a step (holdKernelLogs), whose int3s a uprobe
	// at the same address would swallow; they stay int3s until it ends.
	held bool
	// told: the lines saying why a logpoint stops were sent once; a
	// step's end moving them back does not repeat them.
	told bool
}

// kernelLog is one attached probe set and the logpoints it serves, in
// the order of the specs it was opened with.
type kernelLog struct {
	kl     *debugger.KernelLog
	ids    []int
	msgs   []*logMessage
	bps    []*api.Breakpoint
	lost   uint64 // lost hits already reported
	faults uint64 // condition faults already reported
}

// kernelLogRing is the size of the logpoints' ring buffer; 0 is the
// tracer's default. Tests make it small to see hits lost.
var kernelLogRing = 0

// lostCheck is how often running kernel logpoints report the hits the
// kernel could not record.
const lostCheck = time.Second

// syncKernelLogs moves the session's logpoints to the kernel after the
// client changed its breakpoints; those that cannot go there stop to
// evaluate, after one line saying why.
func (s *session) syncKernelLogs() {
	if s.dbg == nil {
		return
	}
	s.klogs.mu.Lock()
	held, quiet := s.klogs.held, s.klogs.told
	s.klogs.told = false
	s.klogs.mu.Unlock()
	if held {
		return
	}
	say := s.console
	if quiet {
		say = func(string) {}
	}
	s.bps.mu.Lock()
	want := make(map[int]*logMessage, len(s.bps.logs))
	for id, m := range s.bps.logs {
		want[id] = m
	}
	s.bps.mu.Unlock()
	s.klogs.mu.Lock()
	cur := s.klogs.cur
	s.klogs.mu.Unlock()
	if cur != nil {
		same := len(cur.ids) == len(want)
		for i, id := range cur.ids {
			same = same && want[id] == cur.msgs[i]
		}
		if same {
			// Amending a breakpoint (a new condition) enables it again.
			for _, id := range cur.ids {
				s.setDisabled(id, true)
			}
			return
		}
		s.closeKernelLogs()
		for _, id := range cur.ids {
			if _, ok := want[id]; !ok {
				s.setDisabled(id, false) // an ordinary breakpoint again, if it still exists
			}
		}
	}
	k := &kernelLog{}
	var specs []debugger.LogSpec
	for id, m := range want {
		bp, err := s.dbg.GetBreakpoint(id, "")
		if err != nil {
			continue
		}
		where := fmt.Sprintf("%s:%d", s.opts.toClient(bp.File), bp.Line)
		switch {
		case bp.HitCond != "":
			err = fmt.Errorf("it has a hit condition")
		case len(m.exprs) == 0:
			err = fmt.Errorf("it has no expression to capture")
		default:
			// The int3 goes first: a uprobe installed over it would take
			// it for its own and vanish when the debugger restores the byte.
			err = s.setDisabled(id, true)
		}
		if err != nil {
			say(fmt.Sprintf("logpoint at %s stops the program to evaluate: %v", where, err))
			continue
		}
		k.ids, k.msgs, k.bps = append(k.ids, id), append(k.msgs, m), append(k.bps, bp)
		specs = append(specs, debugger.LogSpec{Addrs: bp.Addrs, Exprs: m.exprs, Cond: bp.Cond})
	}
	if len(specs) == 0 {
		return
	}
	kl, why, err := s.dbg.OpenKernelLogs(specs, loadConfig, kernelLogRing)
	for i, id := range k.ids {
		if err == nil && why[i] == nil {
			continue
		}
		if err == nil {
			err := why[i]
			defer say(fmt.Sprintf("logpoint at %s:%d stops the program to evaluate: %v", s.opts.toClient(k.bps[i].File), k.bps[i].Line, err))
		}
		s.setDisabled(id, false)
	}
	if err != nil {
		say(fmt.Sprintf("logpoints stop the program to evaluate: %v", err))
		return
	}
	if kl == nil {
		return
	}
	k.kl = kl
	done := make(chan struct{})
	s.klogs.mu.Lock()
	s.klogs.cur, s.klogs.done = k, done
	s.klogs.mu.Unlock()
	go s.pumpKernelLog(k, done)
}

// setDisabled disables or enables breakpoint id, if it exists.
func (s *session) setDisabled(id int, off bool) error {
	bp, err := s.dbg.GetBreakpoint(id, "")
	if err != nil || bp.Disabled == off {
		return nil
	}
	bp.Disabled = off
	return s.dbg.AmendBreakpoint(*bp)
}

// pumpKernelLog prints each hit until the probes are closed, and what the
// kernel lost meanwhile.
func (s *session) pumpKernelLog(k *kernelLog, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(lostCheck)
	defer tick.Stop()
	for {
		select {
		case h, ok := <-k.kl.Hits():
			if !ok {
				s.reportLost(k)
				return
			}
			if h.Sync != nil {
				close(h.Sync)
				continue
			}
			var text string
			if h.Err != nil {
				text = fmt.Sprintf("{capture err: %v}", h.Err)
			} else {
				vals := make([]any, len(h.Values))
				for i, v := range h.Values {
					if h.Errs[i] != nil {
						vals[i] = fmt.Sprintf("{eval err: %v}", h.Errs[i])
					} else {
						vals[i] = logText(v)
					}
				}
				text = fmt.Sprintf(k.msgs[h.Log].format, vals...)
			}
			bp := k.bps[h.Log]
			s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
				Category: "stdout",
				Output:   fmt.Sprintf("> [Go %d]: %s\n", h.Goroutine, text),
				Source:   &dap.Source{Path: s.opts.toClient(bp.File)},
				Line:     bp.Line,
			}})
		case <-tick.C:
			s.reportLost(k)
		}
	}
}

// reportLost prints the hits lost since the last report, and those
// whose condition faulted.
func (s *session) reportLost(k *kernelLog) {
	if n := k.kl.Lost(); n > k.lost {
		s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
			Category: "console", Output: fmt.Sprintf("%d logpoint messages lost\n", n-k.lost)}})
		k.lost = n
	}
	// A condition that read an invalid pointer (or divided by zero) is
	// false: those hits are not logged, and said so.
	if _, n := k.kl.CondCounts(); n > k.faults {
		s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
			Category: "console", Output: fmt.Sprintf("%d logpoint conditions faulted (false, not logged)\n", n-k.faults)}})
		k.faults = n
	}
}

// flushKernelLogs prints the kernel logpoints' lines of every hit before
// the program stopped, so that they come before what the stop prints.
func (s *session) flushKernelLogs() {
	s.klogs.mu.Lock()
	k, done := s.klogs.cur, s.klogs.done
	s.klogs.mu.Unlock()
	if k == nil {
		return
	}
	select {
	case <-k.kl.Sync():
	case <-done:
	case <-time.After(flushWait):
		s.logf("kernel logpoints did not catch up within %v", flushWait)
	}
}

// flushWait bounds how long a stop waits for the kernel logpoints' lines.
const flushWait = 2 * time.Second

// releaseKernelLogs removes the kernel logpoints' probes and enables their
// int3s again, before the client's breakpoints change: the debugger may
// then amend, enable or clear them freely (an int3 set over a uprobe, or a
// uprobe removed under an int3, would leave the wrong byte behind). The
// target is halted meanwhile, so no hit is missed; syncKernelLogs moves
// them back.
func (s *session) releaseKernelLogs() {
	s.klogs.mu.Lock()
	k := s.klogs.cur
	s.klogs.mu.Unlock()
	if k == nil {
		return
	}
	s.closeKernelLogs()
	for _, id := range k.ids {
		s.setDisabled(id, false)
	}
}

// holdKernelLogs releases the kernel logpoints for a step about to run:
// the step's own int3 at a logpoint's address would be taken by the
// uprobe there and never stop. They stop as ordinary logpoints until
// endKernelHold moves them back.
func (s *session) holdKernelLogs() {
	s.releaseKernelLogs()
	s.klogs.mu.Lock()
	s.klogs.held = true
	s.klogs.mu.Unlock()
}

// endKernelHold moves held logpoints back to the kernel once the run
// stopped with no step pending (a step interrupted by another goroutine
// still needs its int3s for the continue that finishes it).
func (s *session) endKernelHold(st *api.DebuggerState, err error) {
	alive := err == nil && st != nil && !st.Exited && !s.closing.Load()
	keep := alive && st.NextInProgress && !s.run.pauseRequested.Load()
	if alive {
		for _, th := range st.Threads {
			// A uprobe at the pc a thread resumes from would log that
			// hit again: the int3 it already stopped at is stepped over.
			keep = keep || th.Breakpoint != nil && s.bps.logMessage(th.Breakpoint.ID) != nil
		}
	}
	s.klogs.mu.Lock()
	if !s.klogs.held || keep {
		s.klogs.mu.Unlock()
		return
	}
	s.klogs.held, s.klogs.told = false, alive
	s.klogs.mu.Unlock()
	if alive {
		s.syncKernelLogs()
	}
}

// closeKernelLogs removes every kernel logpoint probe and waits for the
// last lines, before the target is released, exits or restarts.
func (s *session) closeKernelLogs() {
	s.klogs.mu.Lock()
	k, done := s.klogs.cur, s.klogs.done
	s.klogs.cur, s.klogs.done = nil, nil
	s.klogs.mu.Unlock()
	if k == nil {
		return
	}
	if err := k.kl.Close(); err != nil {
		s.logf("removing logpoint probes: %v", err)
	}
	<-done
}

// logText is a value as a logpoint message shows it, whichever path
// evaluated it: the variables view's one-line value, in full.
func logText(v *api.Variable) string {
	text := v.SinglelineStringWithShortTypes()
	if v.Unreadable != "" {
		return text
	}
	switch v.Kind {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(api.ExtractIntValue(v.Value), 10, 64); err == nil {
			text = fmt.Sprintf("%s = %#x", text, n)
		}
	}
	return text
}
