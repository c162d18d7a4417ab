package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// sessionFlagNames are the flags of commands that start or join a debug
// session (debug, exec, test, attach, connect) and of no other command.
var sessionFlagNames = []string{"headless", "listen", "accept-multiclient", "api-version", "init"}

// addSessionFlags registers the flags every command shares on the root:
// --wd and --build-flags, which trace uses too. The session flags are
// registered there as well, hidden, only so that Delve's spelling
// `tinydbg --headless --listen=:2345 exec ./prog` still parses (flags
// before the command name are looked up on the root); they belong to the
// session commands (addDebugFlags) and other commands refuse them.
func addSessionFlags(root *cobra.Command, o *options) {
	f := root.PersistentFlags()
	f.StringVar(&o.wd, "wd", "", "Directory the program runs in.")
	f.StringVar(&o.buildFlags, "build-flags", "", "Extra flags for go build (debug, test, trace).")
	registerDebugFlags(root, true, o)
	for _, n := range sessionFlagNames {
		_ = f.MarkHidden(n)
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		for _, n := range sessionFlagNames {
			if fl := f.Lookup(n); fl != nil && fl.Changed && cmd.LocalFlags().Lookup(n) == nil {
				return fmt.Errorf("--%s applies to the debug, exec, test, attach and connect commands, not to %s", n, cmd.Name())
			}
		}
		return o.df.setup(cmd.ErrOrStderr())
	}
}

// addDebugFlags gives a session command Delve's flags for serving and
// starting a session.
func addDebugFlags(c *cobra.Command, o *options) *cobra.Command {
	registerDebugFlags(c, false, o)
	return c
}

// registerDebugFlags adds the session flags to c's own flags, or to its
// persistent ones.
func registerDebugFlags(c *cobra.Command, persistent bool, o *options) {
	f := c.Flags()
	if persistent {
		f = c.PersistentFlags()
	}
	f.BoolVar(&o.headless, "headless", false, "Serve the JSON-RPC API without a terminal.")
	f.StringVarP(&o.listen, "listen", "l", "127.0.0.1:0", "Where a headless server listens: host:port, or unix:/path.")
	f.BoolVar(&o.acceptMulti, "accept-multiclient", false, "Keep a headless server running across clients instead of exiting after the first.")
	f.IntVar(&o.apiVersion, "api-version", 2, "JSON-RPC API version a headless server speaks; only 2 exists.")
	f.StringVar(&o.initFile, "init", "", "File of terminal commands to run before the first prompt.")
}

// splitAtDash splits cobra args into the command's own and the program's
// (those after "--").
func splitAtDash(cmd *cobra.Command, args []string) ([]string, []string) {
	if i := cmd.ArgsLenAtDash(); i >= 0 {
		return args[:i], args[i:]
	}
	return args, nil
}

func newExecCommand(o *options) *cobra.Command {
	c := &cobra.Command{
		Use:   "exec <path/to/binary> [-- args...]",
		Short: "Start a compiled Go program under the debugger.",
		Long: `Start a compiled Go program under the debugger, stopped before its first instruction.

The binary should be built with optimizations disabled
(-gcflags="all=-N -l") for the best debugging experience.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			own, progArgs := splitAtDash(cmd, args)
			if len(own) != 1 {
				return fmt.Errorf("exec needs exactly one binary, got %d arguments (put program arguments after --)", len(own))
			}
			path, err := filepath.Abs(own[0])
			if err != nil {
				return err
			}
			if err := checkExecutable(path); err != nil {
				return err
			}
			return runSession(o, debugger.Config{Path: path, Args: progArgs, WorkingDir: o.wd}, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&o.cont, "continue", false, "Let the program run as soon as it is started.")
	addFollowFlags(c, o)
	return c
}

func newDebugCommand(o *options) *cobra.Command {
	c := &cobra.Command{
		Use:   "debug [package] [-- args...]",
		Short: "Build a main package (default: the current directory) and debug it.",
		Long: `Compile the program with optimizations disabled, start it and begin a
debug session. The binary is removed when the session ends, unless
--output names where to keep it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return buildAndDebug(o, cmd, args, false)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "Where to write the built binary.")
	c.Flags().BoolVar(&o.cont, "continue", false, "Let the program run as soon as it is started.")
	addFollowFlags(c, o)
	return c
}

func newTestCommand(o *options) *cobra.Command {
	c := &cobra.Command{
		Use:   "test [package] [-- test flags...]",
		Short: "Build a package's tests and debug the test binary.",
		Long: `Compile a test binary with optimizations disabled and begin a debug
session. Test flags go after --, e.g. tinydbg test ./pkg -- -test.run TestFoo.
The test runs in the package's directory, as go test does.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return buildAndDebug(o, cmd, args, true)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "Where to write the built binary.")
	c.Flags().BoolVar(&o.cont, "continue", false, "Let the program run as soon as it is started.")
	addFollowFlags(c, o)
	return c
}

// buildAndDebug is debug and test: build the one package named before --
// (default: the current directory), its tests with test, and debug the result
// with the arguments after --. A test binary runs in its package's
// directory, as under go test, unless --wd says otherwise.
func buildAndDebug(o *options, cmd *cobra.Command, args []string, test bool) error {
	own, progArgs := splitAtDash(cmd, args)
	if len(own) > 1 {
		if test {
			return fmt.Errorf("test takes at most one package, got %d (put test flags after --)", len(own))
		}
		return fmt.Errorf("debug takes at most one package, got %d (put program arguments after --)", len(own))
	}
	pkg := "."
	if len(own) == 1 {
		pkg = own[0]
	}
	bin, cleanup, err := buildBinary(o, pkg, test)
	if err != nil {
		return err
	}
	defer cleanup()
	wd := o.wd
	if test && wd == "" {
		if dir, err := packageDir(pkg); err == nil {
			wd = dir
		}
	}
	return runSession(o, debugger.Config{Path: bin, Args: progArgs, WorkingDir: wd,
		Rebuild: rebuilder(o, pkg, test, bin)}, cmd.OutOrStdout())
}

func newAttachCommand(o *options) *cobra.Command {
	c := &cobra.Command{
		Use:   "attach <pid>",
		Short: "Debug a Go process that is already running.",
		Long:  "Attach to an already running Go process and begin a debug session. Quitting asks whether to kill it.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("invalid pid %q: must be a number", args[0])
			}
			if len(o.df.redirects) > 0 {
				return errors.New("--redirect applies to programs tinydbg starts, not to attach")
			}
			if err := checkAttachable(pid); err != nil {
				return err
			}
			return runSession(o, debugger.Config{AttachPid: pid}, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&o.cont, "continue", false, "Let the program run as soon as it is started.")
	addFollowFlags(c, o)
	return c
}

func newConnectCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "connect <addr>",
		Short: "Open a terminal on a headless tinydbg or Delve server.",
		Long:  "Connect to a running headless server, given as host:port or unix:/path/to/socket.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := dial(args[0])
			if err != nil {
				return err
			}
			client, err := newClient(conn)
			if err != nil {
				return err
			}
			code, err := runTerminal(o, client, terminal.Config{Remote: true})
			conn.Close()
			if err != nil {
				return err
			}
			if code != 0 {
				return exitCodeError{code}
			}
			return nil
		},
	}
}

// exitWith ends the process with the code an error asks for.
func exitWith(err error) {
	if e, ok := err.(exitCodeError); ok {
		os.Exit(e.code)
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}
