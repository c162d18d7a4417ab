package terminal

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// pagedCommands are those whose output Delve may send to a pager: the
// long listings.
var pagedCommands = map[string]bool{"threads": true, "goroutines": true, "examinemem": true, "print": true,
	"locals": true, "args": true, "vars": true, "funcs": true, "sources": true, "types": true,
	"stack": true, "disassemble": true}

// pager is how output that does not fit the window is shown: the program
// ($DELVE_PAGER, else $PAGER, else more) and the window size.
type pager struct {
	prog       string
	rows, cols int
}

// pagerNow returns the pager for this command's output, or nil: paging
// needs a window size (so a terminal on stdout) and, unless DELVE_PAGER
// names a pager, a TERM that is not dumb.
func (t *Term) pagerNow() *pager {
	prog := os.Getenv("DELVE_PAGER")
	if prog == "" && strings.EqualFold(os.Getenv("TERM"), "dumb") {
		return nil
	}
	rows, cols, ok := t.winSize()
	if !ok {
		return nil
	}
	if prog == "" {
		if prog = os.Getenv("PAGER"); prog == "" {
			prog = "more"
		}
	}
	return &pager{prog: prog, rows: rows, cols: cols}
}

// stdoutWinSize is the window size of the terminal on stdout.
func (t *Term) stdoutWinSize() (int, int, bool) {
	f, ok := t.conf.Stdout.(*os.File)
	if !ok {
		return 0, 0, false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 {
		return 0, 0, false
	}
	return int(ws.Row), int(ws.Col), true
}

// tooLong says whether out takes more rows than the window, long lines
// counting once per wrap, as Delve counts them.
func (p *pager) tooLong(out []byte) bool {
	lines, start := 0, 0
	for i, c := range out {
		if i-start > p.cols || c == '\n' {
			start = i
			lines++
			if lines > p.rows {
				return true
			}
		}
	}
	return false
}

// page shows out through the pager when it is too long for the window;
// it reports false (the caller prints out itself) when it is not, or the
// pager cannot be started.
func (p *pager) page(t *Term, out []byte) bool {
	if !p.tooLong(out) {
		return false
	}
	words := strings.Fields(p.prog)
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Stdin = bytes.NewReader(out)
	cmd.Stdout, cmd.Stderr = t.conf.Stdout, t.conf.Stderr
	fmt.Fprint(t.conf.Stdout, "Sending output to pager...\n")
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(t.conf.Stderr, "pager %s: %v\n", p.prog, err)
	}
	return true
}
