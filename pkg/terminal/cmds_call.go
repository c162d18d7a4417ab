package terminal

import (
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// callClient serves call.
type callClient interface {
	// Call injects a function call on goroutine goid (0 or less: the
	// selected one) and resumes the target until it returns.
	Call(goid int64, expr string, unsafe bool) (*api.DebuggerState, error)
}

func callCommands() []*command {
	return []*command{
		{names: []string{"call"}, group: groupRun, allowed: scopePrefix, fn: callCmd,
			help: `Resumes process, injecting a function call (EXPERIMENTAL!!!)

	call [-unsafe] <function call expression>

The call runs on the selected goroutine (or the one of a "goroutine N"
prefix), which must be running Go code of its own, stopped at a safe point
with 256 bytes of stack to spare; every goroutine runs while it lasts.
Arguments must have the parameters' types, apart from untyped constants and
nil; a pointer into the goroutine's stack is refused unless -unsafe is given,
since the callee may keep it. Functions of optimized builds and generic
functions can not be called. Linux native backend only.`},
	}
}

// callCmd is Delve's call: the results follow the position the goroutine
// is back at, as "Values returned:"; a breakpoint another goroutine hits
// during the call stops there instead, and continue finishes the call.
func callCmd(t *Term, ctx callCtx, args string) error {
	if err := switchForScope(t, ctx); err != nil {
		return err
	}
	unsafe := false
	if rest, ok := strings.CutPrefix(args, "-unsafe "); ok {
		unsafe, args = true, rest
	}
	t.setRunning(true)
	st, err := exitedError(t.client.Call(ctx.scope.GoroutineID, args, unsafe))
	t.setRunning(false)
	t.frame = 0
	if err != nil {
		printContextNow(t)
		return err
	}
	printContext(t, st)
	_, err = finishStep(t, st, "call", true)
	return err
}
