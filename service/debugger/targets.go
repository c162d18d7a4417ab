package debugger

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// TargetInfo is one debugged process as target list shows it.
type TargetInfo struct {
	Pid           int
	CmdLine       string
	CurrentThread *api.Thread
}

// ErrFollowExec is the answer to enabling follow-exec: the native backend
// traces one process, and its children run undebugged.
var ErrFollowExec = errors.New("follow-exec is not supported by tinydbg: child processes are not debugged")

// ListTargets lists the debugged processes: tinydbg debugs one, so this
// is it, with its command line as the kernel has it (as Delve reads it).
func (d *Debugger) ListTargets() ([]TargetInfo, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	info := TargetInfo{Pid: t.Pid(), CmdLine: d.commandLine()}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", t.Pid())); err == nil && len(b) > 0 {
		info.CmdLine = strings.Join(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), " ")
	}
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	for i := range ths {
		if ths[i].ID == t.SelectedThread() {
			info.CurrentThread = d.convertThread(&ths[i])
		}
	}
	return []TargetInfo{info}, nil
}

// FollowExec turns follow-exec mode on or off. Off is what tinydbg always
// does; on is refused, with the regular expression checked first so that
// a bad one gets its own message.
func (d *Debugger) FollowExec(enable bool, regex string) error {
	if !enable {
		if regex != "" {
			return errors.New("a regular expression only goes with follow-exec on")
		}
		return nil
	}
	if _, err := regexp.Compile(regex); err != nil {
		return fmt.Errorf("follow-exec regex: %w", err)
	}
	return ErrFollowExec
}

// FollowExecEnabled reports whether children are followed: never.
func (d *Debugger) FollowExecEnabled() bool { return false }
