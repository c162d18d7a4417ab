package rpc2

import "github.com/tinydbg/tinydbg/service/api"

// Call injects a call of expr on goroutine goid (0 or less: the selected
// one) and resumes the target until it returns, as Delve's client does:
// Command "call", results in the current thread's ReturnValues loaded
// with ReturnInfoLoadConfig. unsafe skips the check that no pointer to the
// goroutine's stack is passed.
func (c *Client) Call(goid int64, expr string, unsafe bool) (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.Call, ReturnInfoLoadConfig: c.ReturnInfoLoadConfig,
		Expr: expr, UnsafeCall: unsafe, GoroutineID: goid})
}
