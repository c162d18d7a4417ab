package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/service/dap"
)

// newDAPCommand is `tinydbg dap`: a Debug Adapter Protocol server for one
// client session, the server VS Code's Go extension starts as "dlv dap".
func newDAPCommand() *cobra.Command {
	var listen string
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
connections are not authenticated, so do not expose it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := dap.Listen(listen, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			srv := dap.NewServer(dap.Config{Log: cmd.ErrOrStderr()})
			// Ctrl-C or SIGTERM end the session cleanly: the target is
			// killed or detached from, never left traced.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			done := make(chan struct{})
			defer close(done)
			go func() {
				select {
				case <-sig:
					srv.Stop()
				case <-done:
				}
			}()
			return srv.Serve(l)
		},
	}
	c.Flags().StringVarP(&listen, "listen", "l", "127.0.0.1:0", "Address the DAP server listens on (host:port).")
	// VS Code's Go extension passes Delve's logging flags when its trace
	// setting is on; tinydbg logs its few lines to stderr regardless, so
	// they are accepted rather than failing the start of the session.
	var ignoredBool bool
	var ignored string
	c.Flags().BoolVar(&ignoredBool, "log", false, "Accepted for Delve compatibility; ignored.")
	c.Flags().StringVar(&ignored, "log-output", "", "Accepted for Delve compatibility; ignored.")
	c.Flags().StringVar(&ignored, "log-dest", "", "Accepted for Delve compatibility; ignored.")
	for _, name := range []string{"log", "log-output", "log-dest"} {
		c.Flags().MarkHidden(name)
	}
	return c
}
