package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/dap"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// options are the flags shared by debug, exec, test and attach.
type options struct {
	headless    bool
	listen      string
	acceptMulti bool
	apiVersion  int
	cont        bool
	initFile    string
	wd          string
	buildFlags  string
	output      string
	followExec  bool       // --follow-exec
	followRegex string     // --follow-exec-regex
	df          delveFlags // Delve's global flags, on every command
}

// exitCodeError carries the exit code a session asked for up to main.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// listenOn opens the --listen address: "unix:/path" or a path for a unix
// socket, host:port for TCP. A TCP address that is not loopback is warned
// about on stderr, as rpc2.Listen does.
func listenOn(addr string, stderr io.Writer) (net.Listener, error) {
	network, where := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, where = "unix", p
	} else if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	l, err := net.Listen(network, where)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	rpc2.WarnIfExposed(l.Addr(), stderr)
	return l, nil
}

// dial connects to a server given as host:port, unix:/path or /path.
func dial(addr string) (net.Conn, error) {
	network, where := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, where = "unix", p
	} else if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	c, err := net.Dial(network, where)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w", addr, err)
	}
	return c, nil
}

// runSession starts the debugger described by cfg and either serves it
// (headless) or drives it from the terminal through an in-process pipe,
// which is the same client code path `connect` uses over a socket.
func runSession(o *options, cfg debugger.Config, stdout io.Writer) error {
	if o.apiVersion != 2 {
		return fmt.Errorf("API version %d is not supported: tinydbg speaks API v2 only", o.apiVersion)
	}
	if o.initFile != "" {
		if _, err := os.Stat(o.initFile); err != nil {
			return fmt.Errorf("init file: %w", err)
		}
	}
	var l net.Listener
	if o.headless {
		var err error
		if l, err = listenOn(o.listen, os.Stderr); err != nil {
			return err
		}
	}
	d, err := startDebugger(o, cfg)
	if err != nil {
		if l != nil {
			l.Close()
		}
		return err
	}
	scfg := rpc2.Config{AcceptMulti: o.acceptMulti, APIVersion: 2, Version: version,
		AllowOtherUsers: !o.df.onlySameUser, LogRPC: o.df.logs.layer("rpc")}
	if o.headless {
		scfg.ContinueOnStart = o.cont
		// DAP clients share the port, as with Delve: VS Code's
		// "attach"/"remote" configuration connects here.
		shared := dap.SharedConfig{Debugger: d, AcceptMulti: o.acceptMulti, Addr: l.Addr().String(),
			LogMessages: o.df.logs.layer("dap")}
		scfg.DAP = func(c io.ReadWriteCloser) bool { return dap.ServeShared(c, shared) }
		srv, err := rpc2.NewServer(scfg, d)
		if err != nil {
			l.Close()
			d.Detach(cfg.AttachPid == 0)
			return err
		}
		fmt.Fprintf(o.df.logs.banner(stdout), "API server listening at: %s\n", l.Addr())
		// Ctrl-C (or a service manager's SIGTERM) ends the server cleanly,
		// killing a launched target rather than leaving it traced.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		go func() {
			if _, ok := <-sig; ok {
				srv.Stop()
			}
		}()
		return srv.Serve(l)
	}
	srv, err := rpc2.NewServer(scfg, d)
	if err != nil {
		d.Detach(cfg.AttachPid == 0)
		return err
	}
	serverEnd, clientEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	client, err := newClient(clientEnd)
	if err != nil {
		srv.Stop()
		return fmt.Errorf("talking to the debugger: %w", err)
	}
	code, runErr := runTerminal(o, client, terminal.Config{Attached: cfg.AttachPid != 0})
	clientEnd.Close()
	stopErr := srv.Stop()
	if runErr != nil {
		return runErr
	}
	if stopErr != nil && !strings.Contains(stopErr.Error(), "exited") {
		return stopErr
	}
	if code != 0 {
		return exitCodeError{code}
	}
	return nil
}

// startDebugger applies Delve's flags to cfg (redirects, ASLR), starts the
// debugger and checks the program's Go version.
func startDebugger(o *options, cfg debugger.Config) (*debugger.Debugger, error) {
	closeRedirects, err := o.df.applyRedirects(&cfg)
	if err != nil {
		return nil, err
	}
	cfg.DisableASLR = o.df.disableASLR
	d, err := debugger.New(cfg)
	closeRedirects() // the program has its own copies
	if err != nil {
		return nil, err
	}
	if err := o.df.checkGo(d.TargetGoVersion(), os.Stderr); err != nil {
		d.Detach(cfg.AttachPid == 0)
		return nil, err
	}
	if o.followExec || o.followRegex != "" {
		if err := d.FollowExec(true, o.followRegex); err != nil {
			d.Detach(cfg.AttachPid == 0)
			return nil, err
		}
	}
	if logf := o.df.logs.layer("debugger"); logf != nil {
		if cfg.AttachPid != 0 {
			logf("attached to process %d", cfg.AttachPid)
		} else {
			logf("launched process %d: %s", d.ProcessPid(), strings.Join(append([]string{cfg.Path}, cfg.Args...), " "))
		}
	}
	return d, nil
}

// runTerminal runs the REPL on client, first continuing if asked to.
func runTerminal(o *options, client terminal.Client, conf terminal.Config) (int, error) {
	conf.InitFile = o.initFile
	// The file config -save writes is read back by every session.
	if path, err := terminal.ConfigPath(); err == nil {
		conf.ConfigFile = path
	}
	term := terminal.New(client, conf)
	if o.cont {
		if err := term.Call("continue"); err != nil {
			if errors.Is(err, terminal.ErrExit) {
				return 0, nil
			}
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return term.Run()
}
