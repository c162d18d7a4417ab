package native

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// follow is a process's follow-exec state. While it is on, fork, vfork
// and exec are traced: a child the program forks is traced (it and its
// own children, until they exec) only so that its exec is seen. At the
// exec, a child whose command line is wanted is detached stopped, for a
// debugger to attach to it as a target of its own (on a ptrace thread of
// its own); any other is detached running. Owned by the ptrace thread.
type follow struct {
	on       bool
	want     func(cmdline string) bool // nil: every child
	onExec   func(pid int, cmdline string, stopped bool)
	children map[int]bool // traced children not yet exec'd
}

// FollowExec turns follow-exec on or off. want picks the children (by
// their command line, arguments joined by spaces; nil: all) and onExec
// is told of each child's exec, stopped set for one left stopped (a
// wanted one), so that a debugger can announce every child as Delve
// does: it runs on the ptrace thread, so it must not call into this
// Process; it may hand the pid to another goroutine, which attaches.
func (p *Process) FollowExec(on bool, want func(cmdline string) bool, onExec func(pid int, cmdline string, stopped bool)) error {
	return p.do(func() error {
		opts := unix.PTRACE_O_TRACECLONE
		if p.launched {
			opts |= unix.PTRACE_O_EXITKILL
		}
		if on {
			opts |= unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXEC
		}
		for _, t := range p.Threads() {
			if err := unix.PtraceSetOptions(t.tid, opts); err != nil && err != unix.ESRCH {
				return fmt.Errorf("follow-exec: setting ptrace options of thread %d: %w", t.tid, err)
			}
		}
		p.fol.on, p.fol.want, p.fol.onExec = on, want, onExec
		if p.fol.children == nil {
			p.fol.children = map[int]bool{}
		}
		return nil
	})
}

// noteFork records the child of a fork or vfork event of a traced thread.
func (p *Process) noteFork(t *Thread, cause int) {
	if cause != unix.PTRACE_EVENT_FORK && cause != unix.PTRACE_EVENT_VFORK {
		return
	}
	if msg, err := unix.PtraceGetEventMsg(t.tid); err == nil && p.fol.children != nil {
		p.fol.children[int(msg)] = true
	}
}

// isChild reports whether a report about a tid that is none of our
// threads comes from a followed child. The child's first stop can come
// before its parent's fork event: then only its thread group tells.
func (p *Process) isChild(tid int) bool {
	if !p.fol.on {
		return false
	}
	if p.fol.children[tid] {
		return true
	}
	tgid := tgidOf(tid)
	return tgid != 0 && tgid != p.pid
}

func tgidOf(tid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// childEvent handles one report of a followed child and resumes it: the
// program's own processes never wait on the debugger. The event is
// ignored by the caller (no thread of ours).
func (p *Process) childEvent(tid int, ws unix.WaitStatus) event {
	switch {
	case ws.Exited() || ws.Signaled():
		delete(p.fol.children, tid)
		return event{kind: evIgnored}
	case !ws.Stopped():
		return event{kind: evIgnored}
	}
	p.fol.children[tid] = true
	sig := ws.StopSignal()
	cause := ws.TrapCause()
	switch {
	case sig == unix.SIGTRAP && cause == unix.PTRACE_EVENT_EXEC:
		delete(p.fol.children, tid)
		cmdline := cmdlineOf(tid)
		stopped := p.fol.want == nil || p.fol.want(cmdline)
		if stopped {
			// A SIGSTOP queued now (a detach cannot inject one from an
			// event stop) stops it before the first instruction of the
			// new program, until a debugger attaches.
			_ = unix.Tgkill(tid, tid, unix.SIGSTOP)
		}
		if ptrace(unix.PTRACE_DETACH, tid, 0, 0) == nil && p.fol.onExec != nil {
			p.fol.onExec(tid, cmdline, stopped)
		}
		return event{kind: evIgnored}
	case sig == unix.SIGTRAP && cause != 0:
		if cause == unix.PTRACE_EVENT_FORK || cause == unix.PTRACE_EVENT_VFORK || cause == unix.PTRACE_EVENT_CLONE {
			if msg, err := unix.PtraceGetEventMsg(tid); err == nil {
				p.fol.children[int(msg)] = true
			}
		}
		_ = ptrace(unix.PTRACE_CONT, tid, 0, 0)
	case sig == unix.SIGSTOP:
		// The stop a new child starts traced with.
		_ = ptrace(unix.PTRACE_CONT, tid, 0, 0)
	default:
		deliver := uintptr(sig)
		if _, err := getSiginfo(tid); err != nil {
			deliver = 0 // a group-stop: resuming without a signal ends it
		}
		_ = ptrace(unix.PTRACE_CONT, tid, 0, deliver)
	}
	return event{kind: evIgnored}
}

// cmdlineOf is /proc/PID/cmdline with its arguments joined by spaces.
func cmdlineOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.Join(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), " ")
}
