package native

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ReapIfGone reports whether the process died while stopped under the
// debugger (a SIGKILL from outside needs no resume to take effect) and,
// if so, reaps it and returns how it ended, as Continue would have. A
// live process is not touched: /proc decides, so no stop is consumed.
func (p *Process) ReapIfGone() (StopEvent, bool) {
	if p.Exited() || !leaderDead(p.pid) {
		return StopEvent{}, false
	}
	var ev StopEvent
	gone := false
	err := p.do(func() error {
		// Every thread is dead or dying; each is a traced zombie to reap,
		// the leader last. Polling bounds the wait should one linger.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			var ws unix.WaitStatus
			tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOTHREAD|unix.WNOHANG, nil)
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				return err
			case tid == 0:
				time.Sleep(time.Millisecond)
				continue
			}
			if e := p.handle(tid, ws); e.kind == evProcessGone {
				ev, gone = exitEvent(e), true
				return nil
			}
		}
		return fmt.Errorf("process %d: leader dead but not reaped", p.pid)
	})
	if err != nil {
		return StopEvent{}, false
	}
	return ev, gone
}

// leaderDead reads the state of the thread-group leader: a zombie (Z, or
// X while it goes) has ended; so has a pid /proc no longer knows.
func leaderDead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold spaces or parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X', 'x':
		return true
	}
	return false
}
