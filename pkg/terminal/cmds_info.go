package terminal

// infoCommands are the commands describing the binary and the process
// image: its packages and its shared libraries.
func infoCommands() []*command {
	return []*command{
		{names: []string{"packages"}, group: groupOther, fn: packagesCmd,
			help: "Print list of packages.\n\n\tpackages [<regex>]\n\nIf regex is specified only the packages matching it will be returned."},
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
