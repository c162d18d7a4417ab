package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tinydbg/tinydbg/service/debugger"
)

// delveFlags are Delve's global flags that IDEs and scripts pass (GoLand:
// --check-go-version=false --only-same-user=false; VS Code: --log,
// --log-output, --log-dest). Like Delve, they are accepted on every command.
type delveFlags struct {
	checkGoVersion   bool
	onlySameUser     bool
	log              bool
	logOutput        string
	logDest          string
	backend          string
	allowNonTerminal bool
	disableASLR      bool
	redirects        []string

	logs *logSink // set up by setup
}

func addDelveFlags(f *pflag.FlagSet, d *delveFlags) {
	f.BoolVar(&d.checkGoVersion, "check-go-version", true, "Refuse programs built by a Go version tinydbg does not support.")
	f.BoolVar(&d.onlySameUser, "only-same-user", true, "Refuse local connections from other users.")
	f.BoolVar(&d.log, "log", false, "Log what the servers do (see --log-output).")
	f.StringVar(&d.logOutput, "log-output", "", "Comma-separated components to log: debugger (default), rpc, dap; Delve's others are accepted.")
	f.StringVar(&d.logDest, "log-dest", "", "File or file descriptor number for the log and the \"server listening at\" line.")
	f.StringVar(&d.backend, "backend", "default", "Backend: default or native (ptrace), the only one tinydbg has.")
	f.BoolVar(&d.allowNonTerminal, "allow-non-terminal-interactive", false, "Accepted for Delve compatibility: tinydbg never refuses a terminal session on redirected standard files.")
	f.BoolVar(&d.disableASLR, "disable-aslr", false, "Start the program without address space randomization.")
	f.StringArrayVarP(&d.redirects, "redirect", "r", nil, "Redirect the program's stdin, stdout or stderr: [stdin|stdout|stderr:]path (stdin if omitted).")
}

// Go versions of target programs that tinydbg is tested with; outside
// them --check-go-version refuses the program, as Delve does.
const minGoMinor, maxGoMinor = 22, 26

// setup checks the flags and opens the log, once, before any command runs.
func (d *delveFlags) setup(stderr io.Writer) error {
	switch d.backend {
	case "", "default", "native":
	case "lldb", "rr":
		return fmt.Errorf("--backend=%s is not supported: tinydbg has only the native (ptrace) backend", d.backend)
	default:
		return fmt.Errorf("unknown backend %q: tinydbg has only the native (ptrace) backend", d.backend)
	}
	if d.logOutput != "" && !d.log {
		return errors.New("--log-output specified without --log")
	}
	sink := &logSink{layers: map[string]bool{}}
	if d.logDest != "" {
		if fd, err := strconv.Atoi(d.logDest); err == nil {
			sink.w = os.NewFile(uintptr(fd), "tinydbg-log")
		} else {
			f, err := os.Create(d.logDest)
			if err != nil {
				return fmt.Errorf("could not create log file: %w", err)
			}
			sink.w = f
		}
		sink.dest = sink.w
	} else if d.log {
		sink.w = stderr
	}
	if d.log {
		out := d.logOutput
		if out == "" {
			out = "debugger"
		}
		for _, layer := range strings.Split(out, ",") {
			switch layer {
			case "debugger", "rpc", "dap":
				sink.layers[layer] = true
			case "gdbwire", "lldbout", "debuglineerr", "fncall", "minidump", "stack":
				// Delve's, for parts tinydbg does not have or log.
			default:
				fmt.Fprintf(stderr, "Warning: unknown log output value %q, run 'dlv help log' for usage.\n", layer)
			}
		}
	}
	d.logs = sink
	return nil
}

// checkGo refuses (or, with --check-go-version=false, only warns about)
// a program built by a Go version outside the supported range.
func (d *delveFlags) checkGo(goVersion string, stderr io.Writer) error {
	minor, ok := goMinor(goVersion)
	if !ok {
		return nil // a development toolchain: nothing to compare
	}
	var msg string
	switch {
	case minor < minGoMinor:
		msg = fmt.Sprintf("Go version %s is too old for this version of tinydbg (minimum supported version 1.%d", goVersion, minGoMinor)
	case minor > maxGoMinor:
		msg = fmt.Sprintf("Version of tinydbg is too old for Go version %s (maximum supported version 1.%d", goVersion, maxGoMinor)
	default:
		return nil
	}
	if !d.checkGoVersion {
		fmt.Fprintf(stderr, "WARNING: undefined behavior - %s)\n", msg)
		return nil
	}
	return fmt.Errorf("%s, suppress this error with --check-go-version=false)", msg)
}

// goMinor is 26 for "go1.26.8".
func goMinor(v string) (int, bool) {
	rest, ok := strings.CutPrefix(v, "go1.")
	if !ok {
		return 0, false
	}
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		rest = rest[:i] // go1.27rc1, go1.26.8
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// applyRedirects opens the -r files into cfg; the returned function closes
// the debugger's copies once the program has them.
func (d *delveFlags) applyRedirects(cfg *debugger.Config) (func(), error) {
	if len(d.redirects) == 0 {
		return func() {}, nil
	}
	var paths [3]string
	names := [3]string{"stdin", "stdout", "stderr"}
	for _, r := range d.redirects {
		i := 0
		for j, n := range names {
			if p, ok := strings.CutPrefix(r, n+":"); ok {
				i, r = j, p
				break
			}
		}
		if paths[i] != "" {
			return nil, fmt.Errorf("redirect error: %s redirected twice", names[i])
		}
		paths[i] = r
	}
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	for i, p := range paths {
		if p == "" {
			continue
		}
		var f *os.File
		var err error
		if i == 0 {
			f, err = os.Open(p)
		} else {
			f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("redirect error: %w", err)
		}
		opened = append(opened, f)
		switch i {
		case 0:
			cfg.Stdin = f
		case 1:
			cfg.Stdout = f
		case 2:
			cfg.Stderr = f
		}
	}
	return closeAll, nil
}

// logSink writes the log of the enabled layers, one line per event.
type logSink struct {
	mu     sync.Mutex
	w      io.Writer // nil: no log
	dest   io.Writer // --log-dest, which also takes the "listening at" line
	layers map[string]bool
}

// layer returns the logging function of a layer, nil when it is off.
func (l *logSink) layer(name string) func(format string, args ...any) {
	if l == nil || l.w == nil || !l.layers[name] {
		return nil
	}
	return func(format string, args ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		fmt.Fprintf(l.w, "%s info layer=%s %s\n", time.Now().UTC().Format(time.RFC3339), name,
			strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	}
}

// banner is where the "server listening at" line goes: --log-dest when
// given, as with Delve, else stdout.
func (l *logSink) banner(stdout io.Writer) io.Writer {
	if l != nil && l.dest != nil {
		return l.dest
	}
	return stdout
}
