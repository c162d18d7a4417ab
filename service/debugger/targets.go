package debugger

import (
	"fmt"
	"os"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// TargetInfo is one debugged process as target list shows it.
type TargetInfo struct {
	Pid           int
	CmdLine       string
	CurrentThread *api.Thread
}

// targetInfo describes this Debugger's target.
func (d *Debugger) targetInfo() (TargetInfo, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return TargetInfo{}, err
	}
	defer unlock()
	info := TargetInfo{Pid: t.Pid(), CmdLine: d.commandLine()}
	if c := procCmdline(t.Pid()); c != "" {
		info.CmdLine = c
	}
	ths, err := t.Threads()
	if err != nil {
		return TargetInfo{}, err
	}
	for i := range ths {
		if ths[i].ID == t.SelectedThread() {
			info.CurrentThread = d.convertThread(&ths[i])
		}
	}
	return info, nil
}

// procCmdline is pid's command line, words joined by spaces; "" when it
// cannot be read (the process is gone).
func procCmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.Join(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), " ")
}
