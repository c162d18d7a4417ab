package terminal

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/service/api"
)

// dumpClient is what the dump command needs of the service; the rpc2
// client has it. It is asked for apart from Client so that clients made
// for other commands need not grow it.
type dumpClient interface {
	CoreDumpStart(dest string) (api.DumpState, error)
	CoreDumpWait(msec int) api.DumpState
}

func dumpCommands() []*command {
	return []*command{
		{names: []string{"dump"}, group: groupOther, fn: dumpCmd,
			help: `Creates a core dump from the current process state

	dump <output file>

The core dump is an ELF core file, which tinydbg core and dlv core open.`},
	}
}

// dumpCmd writes a core, printing progress on one line as Delve does.
func dumpCmd(t *Term, _ callCtx, args string) error {
	if args == "" {
		return errors.New("not enough arguments")
	}
	dc, ok := t.client.(dumpClient)
	if !ok {
		return errors.New("the debugger service cannot write core dumps")
	}
	st, err := dc.CoreDumpStart(args)
	if err != nil {
		return err
	}
	for {
		if st.ThreadsDone != st.ThreadsTotal {
			fmt.Fprintf(t.out, "\rDumping threads %d / %d...", st.ThreadsDone, st.ThreadsTotal)
		} else {
			fmt.Fprintf(t.out, "\rDumping memory %d / %d...", st.MemDone, st.MemTotal)
		}
		if !st.Dumping {
			break
		}
		st = dc.CoreDumpWait(1000)
	}
	fmt.Fprintln(t.out)
	switch {
	case st.Err != "":
		fmt.Fprintf(t.out, "error dumping: %s\n", st.Err)
	case !st.AllDone:
		fmt.Fprintln(t.out, "canceled")
	case st.MemDone != st.MemTotal:
		fmt.Fprintln(t.out, "Core dump could be incomplete")
	}
	return nil
}
