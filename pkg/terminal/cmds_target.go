package terminal

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/tinydbg/tinydbg/service/rpc2"
)

// targetClient serves target.
type targetClient interface {
	ListTargets() ([]rpc2.Target, error)
	FollowExec(enable bool, regex string) error
	FollowExecEnabled() (bool, error)
}

func targetCommands() []*command {
	return []*command{
		{names: []string{"target"}, group: groupOther, fn: targetCmd, help: `Debug the child processes the program starts.

	target follow-exec [-on [regex]] [-off]

With -on, every child the program forks and execs becomes a target too,
stopped at its first instruction with the breakpoints that exist; with a
regex, only children whose command line matches it. -off stops following
new children. Without an option, says whether children are followed.

	target list

Lists the debugged processes; * marks the selected one.

	target switch <pid>

Selects another debugged process.`},
	}
}

func targetCmd(t *Term, ctx callCtx, args string) error {
	sub, rest := splitWord(args)
	switch sub {
	case "":
		return errors.New("not enough arguments for 'target'")
	case "list":
		tgts, err := t.client.ListTargets()
		if err != nil {
			return err
		}
		pid, _ := t.client.ProcessPid()
		w := tabwriter.NewWriter(t.out, 4, 4, 2, ' ', 0)
		for _, tg := range tgts {
			mark := ""
			if tg.Pid == pid {
				mark = "*"
			}
			fmt.Fprintf(w, "%s\t%d\t%s\n", mark, tg.Pid, tg.CmdLine)
		}
		return w.Flush()
	case "follow-exec":
		if rest == "" {
			on, err := t.client.FollowExecEnabled()
			if err != nil {
				return err
			}
			if on {
				fmt.Fprintln(t.out, "Follow exec is enabled.")
			} else {
				fmt.Fprintln(t.out, "Follow exec is disabled.")
			}
			return nil
		}
		opt, re := splitWord(rest)
		switch opt {
		case "-on":
			return t.client.FollowExec(true, re)
		case "-off":
			if re != "" {
				return errors.New("too many arguments")
			}
			return t.client.FollowExec(false, "")
		}
		return fmt.Errorf("unknown argument %q to 'target follow-exec'", opt)
	case "switch":
		if rest == "" {
			return errNotEnoughArgs
		}
		pid, err := strconv.Atoi(rest)
		if err != nil {
			return fmt.Errorf("pid must be a number, not %q", rest)
		}
		tgts, err := t.client.ListTargets()
		if err != nil {
			return err
		}
		for _, tg := range tgts {
			if tg.Pid == pid && tg.CurrentThread != nil {
				_, err := t.client.SwitchThread(tg.CurrentThread.ID)
				return err
			}
		}
		return fmt.Errorf("could not find target %d", pid)
	}
	return fmt.Errorf("unknown command 'target %s'", sub)
}
