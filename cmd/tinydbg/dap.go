package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/service/dap"
)

// newDAPCommand is `tinydbg dap`: a Debug Adapter Protocol server for one
// client session, the server VS Code's Go extension starts as "dlv dap".
func newDAPCommand(o *options) *cobra.Command {
	var listen, clientAddr string
	c := &cobra.Command{
		Use:   "dap",
		Short: "Serve one Debug Adapter Protocol (DAP) session over TCP, for VS Code.",
		Long: `Serve one Debug Adapter Protocol (DAP) session over TCP.

The server waits for one DAP client (VS Code's Go extension, for instance),
which then launches or attaches to the program to debug:
- launch + exec   runs a compiled binary, like 'tinydbg exec'
- launch + debug  builds the package with -gcflags='all=-N -l' and runs it
- launch + test   builds the package's tests and runs them
- attach + local  attaches to the process with the given processId

When the client disconnects, a launched program is killed and an attached
one is left running without breakpoints (unless the client asks to
terminate it). The server listens on 127.0.0.1 unless --listen says
otherwise and refuses connections from other local users; remote
connections are not authenticated, so do not expose it.

With --client-addr the server dials a client that waits at that address
(host:port or unix:/path) instead of listening, serves its one session and
exits, as 'dlv dap --client-addr' does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if clientAddr != "" {
				if cmd.Flags().Changed("listen") {
					return fmt.Errorf("--listen and --client-addr exclude each other: the server either listens or dials its client")
				}
				conn, err := dial(clientAddr)
				if err != nil {
					return err
				}
				srv := dap.NewServer(dapConfig(o, cmd))
				stop := stopOnSignal(srv)
				defer stop()
				srv.ServeConn(conn)
				return nil
			}
			l, err := dap.Listen(listen, o.df.logs.banner(cmd.OutOrStdout()), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			srv := dap.NewServer(dapConfig(o, cmd))
			stop := stopOnSignal(srv)
			defer stop()
			return srv.Serve(l)
		},
	}
	c.Flags().StringVarP(&listen, "listen", "l", "127.0.0.1:0", "Address the DAP server listens on (host:port).")
	c.Flags().StringVar(&clientAddr, "client-addr", "", "Address (host:port or unix:/path) of a DAP client waiting for the server to dial in.")
	return c
}

// dapConfig is the server configuration Delve's global flags ask for.
func dapConfig(o *options, cmd *cobra.Command) dap.Config {
	return dap.Config{Log: cmd.ErrOrStderr(), AllowOtherUsers: !o.df.onlySameUser, LogMessages: o.df.logs.layer("dap"),
		DisableASLR: o.df.disableASLR,
		CheckGoVersion: func(v string) error {
			return o.df.checkGo(v, cmd.ErrOrStderr())
		}}
}

// stopOnSignal makes Ctrl-C or SIGTERM end the session cleanly: the
// target is killed or detached from, never left traced. The returned
// function stops watching.
func stopOnSignal(srv *dap.Server) func() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			srv.Stop()
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}
