package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// version is set by the Makefile from git describe.
var version = "dev"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tinydbg",
		Short: "A debugger and tracer for Go programs",
		Long: `tinydbg debugs and traces Go programs on linux/amd64.

It speaks Delve's command names and its JSON-RPC API, so Delve users and
their clients feel at home.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o := &options{}
	addSessionFlags(root, o)
	addDelveFlags(root.PersistentFlags(), &o.df)
	root.AddCommand(newVersionCommand(), addDebugFlags(newDebugCommand(o), o), addDebugFlags(newExecCommand(o), o),
		addDebugFlags(newTestCommand(o), o), addDebugFlags(newAttachCommand(o), o), addDebugFlags(newConnectCommand(o), o),
		addDebugFlags(newCoreCommand(o), o), newTraceCommand(), newDAPCommand(o), newReplayCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of tinydbg",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "tinydbg version %s\nbuilt with %s %s/%s\n",
				version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}
