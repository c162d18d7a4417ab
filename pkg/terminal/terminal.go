// Package terminal is tinydbg's interactive command line. It speaks Delve's
// command language and prints Delve's output shapes, and it reaches the
// debugger only through a service Client, so a local session (in-process
// server over a pipe) and a remote one (connect) share one code path.
package terminal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/go-delve/liner"
	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/service/api"
)

// Config tunes a Term; the zero value reads os.Stdin and writes os.Stdout.
type Config struct {
	// Stdin, Stdout and Stderr default to the process's own.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// InitFile names a file of commands to run before the first prompt.
	InitFile string
	// HistoryFile overrides the history location; "-" disables history.
	HistoryFile string
	// ConfigFile is read at start and written by config -save; empty:
	// nothing is read and config -save writes ConfigPath().
	ConfigFile string
	// Color says when listed source and stacks are coloured: "" (auto:
	// when stdout is a terminal, TERM is not dumb and NO_COLOR is unset),
	// "always" or "never".
	Color string
	// Attached says the target was attached to rather than started, so
	// quitting asks before killing it.
	Attached bool
	// Remote says the server lives in another process (connect), so
	// quitting asks whether to stop it.
	Remote bool
}

// Term is one REPL session on top of a Client.
type Term struct {
	client  Client
	conf    Config
	out     io.Writer
	outBuf  *outBuffer // out itself, flushed at the end of every command and before reading input
	errOut  io.Writer
	cmds    []*command
	frame   int // frame selected with frame/up/down, reset by every stop
	set     settings
	display []string
	// waitReasons caches the target runtime's names for wait reasons.
	waitReasons map[int64]string
	// funcCache and sourceCache feed tab completion; the binary never changes under us.
	funcCache, sourceCache []string
	// sources keeps the text of files listed at stops.
	sources sourceCache

	in      *bufio.Reader // non-tty input: one command per line
	line    *liner.State  // tty input with editing, history and completion
	histFn  string
	lastCmd string

	mu      sync.Mutex
	running bool // a continue/step is in flight; SIGINT halts it

	// oldPid is the process of the last stop shown (at first the
	// target's), so that a stop in another one says so, as in Delve.
	oldPid int

	// winSize is the terminal window's size, for the pager; a field so
	// that tests can give one.
	winSize func() (rows, cols int, ok bool)
}

// ErrExit is returned by a command that ends the session.
var ErrExit = errors.New("exit requested")

// New builds a terminal for client.
func New(client Client, conf Config) *Term {
	if conf.Stdin == nil {
		conf.Stdin = os.Stdin
	}
	if conf.Stdout == nil {
		conf.Stdout = os.Stdout
	}
	if conf.Stderr == nil {
		conf.Stderr = os.Stderr
	}
	// Like Delve's terminal: next, step and stepout print what a function returned.
	ret := api.DefaultLoadConfig
	client.SetReturnValuesLoadConfig(&ret)
	ob := &outBuffer{w: conf.Stdout}
	t := &Term{client: client, conf: conf, out: ob, outBuf: ob, errOut: afterFlush{ob, conf.Stderr}, set: defaultSettings()}
	t.cmds = t.commandTable()
	t.winSize = t.stdoutWinSize
	t.applyAliases()
	if pid, err := client.ProcessPid(); err == nil {
		t.oldPid = pid
	}
	if ec, ok := client.(eventsClient); ok {
		ec.SetEventsFn(t.event)
	}
	if conf.ConfigFile != "" && conf.ConfigFile != "-" {
		if err := t.loadConfigFile(conf.ConfigFile); err != nil {
			fmt.Fprintln(conf.Stderr, err)
		}
	}
	return t
}

// eventsClient is a client that hands over what happens while the target
// runs, as Delve's client does for its terminal.
type eventsClient interface {
	SetEventsFn(fn func(*api.Event))
}

// event prints what the user is told of while the target runs: a child
// process it spawned, in Delve's words (whether followed or not), at
// once, in order with what the program prints meanwhile.
func (t *Term) event(ev *api.Event) {
	if ev.Kind == api.EventProcessSpawned && ev.ProcessSpawnedEventDetails != nil {
		fmt.Fprintf(t.out, "Spawned new process '%s' (%d)\n", ev.Cmdline, ev.PID)
		_ = t.outBuf.Flush()
	}
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// HistoryPath is where command history is kept: $XDG_CONFIG_HOME/tinydbg/history,
// else ~/.config/tinydbg/history.
func HistoryPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locating history: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tinydbg", "history"), nil
}

const prompt = "(tinydbg) "

// Run reads and executes commands until exit or end of input, and returns
// the process exit code the session asks for.
func (t *Term) Run() (int, error) {
	defer t.outBuf.Flush()
	defer func() {
		if err := t.outBuf.closeTranscript(); err != nil {
			fmt.Fprintf(t.conf.Stderr, "error closing transcript file: %v\n", err)
		}
	}()
	interactive := isTerminal(t.conf.Stdin)
	if interactive {
		t.line = liner.NewLiner()
		t.line.SetCtrlCAborts(true)
		t.line.SetTabCompletionStyle(liner.TabPrints)
		t.line.SetCompleter(t.complete)
		t.loadHistory()
		defer func() {
			t.saveHistory()
			t.line.Close()
		}()
		fmt.Fprintln(t.out, "Type 'help' for list of commands.")
	} else {
		t.in = bufio.NewReader(t.conf.Stdin)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	defer signal.Stop(sig)
	go t.haltOnInterrupt(sig)

	if t.conf.InitFile != "" {
		if err := t.sourceFile(t.conf.InitFile); err != nil {
			if errors.Is(err, ErrExit) {
				return t.quit()
			}
			fmt.Fprintf(t.errOut, "Error executing init file: %v\n", err)
		}
	}
	for {
		cmdline, err := t.readPrompted()
		if err == liner.ErrPromptAborted {
			continue // Ctrl-C at the prompt only clears the line
		}
		if err != nil {
			if interactive {
				fmt.Fprintln(t.out, "exit")
			}
			return t.quit()
		}
		t.outBuf.echo(prompt + cmdline + "\n")
		if strings.TrimSpace(cmdline) == "" {
			if !interactive {
				continue // blank script lines are not "repeat last"
			}
			cmdline = t.lastCmd
		}
		t.lastCmd = cmdline
		if err := t.Call(cmdline); err != nil {
			if err == errExitNow {
				return 0, nil
			}
			if errors.Is(err, ErrExit) {
				return t.quit()
			}
			t.reportError(err)
		}
	}
}

// reportError prints a failed command's error the way Delve does: a
// process exit is news, anything else is a failure.
func (t *Term) reportError(err error) {
	if strings.Contains(err.Error(), "exited") {
		fmt.Fprintln(t.errOut, err.Error())
		return
	}
	fmt.Fprintf(t.errOut, "Command failed: %v\n", err)
}

// readLine reads one command from the tty (with editing) or from the script.
func (t *Term) readLine(p string) (string, error) {
	_ = t.outBuf.Flush()
	if t.line != nil {
		s, err := t.line.Prompt(p)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(s) != "" {
			t.line.AppendHistory(s)
		}
		return s, nil
	}
	s, err := t.in.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// yesNo asks a question; scripts answer it on their next line, and end of
// input takes the default.
func (t *Term) yesNo(question string, def bool) bool {
	if t.line == nil {
		fmt.Fprint(t.out, question)
	}
	for {
		s, err := t.readLine(question)
		if t.line == nil {
			fmt.Fprintln(t.out) // the script's answer is not echoed
		}
		if err != nil {
			return def
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "":
			return def
		case "y", "yes":
			return true
		case "n", "no":
			return false
		}
		fmt.Fprintln(t.out, "Please answer yes or no.")
	}
}

// haltOnInterrupt turns Ctrl-C into a halt of the running target, so the
// user regains the prompt instead of losing the debugger.
func (t *Term) haltOnInterrupt(sig <-chan os.Signal) {
	for range sig {
		t.mu.Lock()
		running := t.running
		t.mu.Unlock()
		if !running {
			continue
		}
		fmt.Fprintln(t.out, "received SIGINT, stopping process (will not forward signal)")
		_ = t.outBuf.Flush()
		if _, err := t.client.Halt(); err != nil {
			fmt.Fprintf(t.errOut, "%v\n", err)
		}
	}
}

func (t *Term) setRunning(r bool) {
	t.mu.Lock()
	t.running = r
	t.mu.Unlock()
}

func (t *Term) loadHistory() {
	path := t.conf.HistoryFile
	if path == "-" {
		return
	}
	if path == "" {
		p, err := HistoryPath()
		if err != nil {
			fmt.Fprintf(t.errOut, "History will not be saved: %v\n", err)
			return
		}
		path = p
	}
	t.histFn = path
	f, err := os.Open(path)
	if err != nil {
		return // first session: nothing to load yet
	}
	defer f.Close()
	t.line.ReadHistory(f)
}

func (t *Term) saveHistory() {
	if t.histFn == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(t.histFn), 0o700); err != nil {
		fmt.Fprintf(t.errOut, "saving history: %v\n", err)
		return
	}
	f, err := os.OpenFile(t.histFn, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(t.errOut, "saving history: %v\n", err)
		return
	}
	defer f.Close()
	t.line.WriteHistory(f)
}

// quit ends the session: a process we started dies with us, an attached
// one or a remote server is kept if the user says so.
func (t *Term) quit() (int, error) {
	st, err := t.client.GetState()
	if err != nil {
		if strings.Contains(err.Error(), "exited") {
			if t.conf.Remote && t.yesNo("Remote process has exited. Would you like to kill the headless instance? [Y/n] ", true) {
				return 0, t.client.Detach(true)
			}
			if !t.conf.Remote {
				return 0, t.client.Detach(true)
			}
			return 0, nil
		}
		return 1, err
	}
	if t.conf.Remote && !t.yesNo("Would you like to kill the headless instance? [Y/n] ", true) {
		return 0, t.disconnect(false)
	}
	kill := !st.Exited
	if t.conf.Attached && !st.Exited {
		kill = t.yesNo("Would you like to kill the process? [Y/n] ", true)
	}
	if err := t.client.Detach(kill); err != nil && !strings.Contains(err.Error(), "exited") {
		return 1, fmt.Errorf("detaching: %w", err)
	}
	return 0, nil
}

// disconnect leaves the server and its target as they are; with cont the
// target is resumed first, without waiting for it to stop.
func (t *Term) disconnect(cont bool) error {
	if cont {
		go t.client.Continue()
	}
	return t.client.Close()
}

// scope is the evaluation scope of plain commands: the selected goroutine
// at the frame chosen with frame/up/down.
func (t *Term) scope() api.EvalScope {
	return api.EvalScope{GoroutineID: -1, Frame: t.frame}
}

// formatPath shortens paths under the working directory to ./rel, as Delve does.
func formatPath(path string) string {
	return trimPrefixDir(path, workingDir())
}
