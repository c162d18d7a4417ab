package terminal

import (
	"fmt"
	"strconv"
)

// infoCommands are the commands describing the binary and the process
// image: its packages and its shared libraries.
func infoCommands() []*command {
	return []*command{
		{names: []string{"packages"}, group: groupOther, fn: packagesCmd,
			help: "Print list of packages.\n\n\tpackages [<regex>]\n\nIf regex is specified only the packages matching it will be returned."},
		{names: []string{"libraries"}, group: groupOther, fn: librariesCmd,
			help: "List loaded dynamic libraries."},
		{names: []string{"transcript"}, group: groupOther, fn: transcriptCmd,
			help: "Appends command output to a file.\n\n\ttranscript [-t] [-x] <output file>\n\ttranscript -off\n\nOutput of tinydbg's command is appended to the specified output file. If '-t' is specified and the output file exists it is truncated. If '-x' is specified output to stdout is suppressed instead.\n\nUsing the -off option disables the transcript."},
	}
}

func packagesCmd(t *Term, ctx callCtx, args string) error {
	info, err := t.client.ListPackagesBuildInfo(args, false)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(info))
	for _, p := range info {
		names = append(names, p.ImportPath)
	}
	return printSorted(t, names, nil)
}

// librariesCmd numbers the libraries from 0, right-aligned to the width
// of their count, as Delve does.
func librariesCmd(t *Term, ctx callCtx, args string) error {
	libs, _, err := t.client.ListDynamicLibraries()
	if err != nil {
		return err
	}
	width := len(strconv.Itoa(len(libs)))
	for i, l := range libs {
		fmt.Fprintf(t.out, "%*d. %#x %s\n", width, i, l.Address, l.Path)
		if l.LoadError != "" {
			fmt.Fprintf(t.out, "    Load error: %s\n", l.LoadError)
		}
	}
	return nil
}
