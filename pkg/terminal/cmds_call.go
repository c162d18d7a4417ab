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

Current limitations:
- only pointers to stack-allocated objects can be passed as argument.
- only some automatic type conversions are supported.
- functions can only be called on running goroutines that are not
  executing the runtime.
- the current goroutine needs to have at least 256 bytes of free space on
  the stack.
- functions can only be called when the goroutine is stopped at a safe
  point.
- calling a function will resume execution of all goroutines.
- only supported on linux's native backend.
- functions of optimized builds, and generic ones, can not be called.`},
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
