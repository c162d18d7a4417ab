package terminal

import (
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// rpcClient adapts service/rpc2's client to the Client interface, whose
// method shapes follow Delve's so the commands read like Delve's.
type rpcClient struct {
	c *rpc2.Client
}

// NewRPCClient wraps an rpc2 client, local (over a pipe) or remote, for the terminal.
func NewRPCClient(c *rpc2.Client) Client {
	if c.ReturnInfoLoadConfig == nil {
		// Like Delve's terminal: stepout prints what the function returned.
		c.ReturnInfoLoadConfig = &api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1,
			MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}
	}
	return &rpcClient{c: c}
}

func (r *rpcClient) ProcessPid() int {
	pid, _ := r.c.ProcessPid()
	return pid
}

func (r *rpcClient) Detach(kill bool) error { return r.c.Detach(kill) }

func (r *rpcClient) Restart(bool) ([]api.DiscardedBreakpoint, error) {
	return r.c.Restart(false, nil)
}

func (r *rpcClient) GetState() (*api.DebuggerState, error) { return r.c.GetState() }

func (r *rpcClient) Continue() <-chan *api.DebuggerState {
	ch := make(chan *api.DebuggerState, 1)
	go func() {
		defer close(ch)
		// A tracepoint stop is reported and the target resumed at once,
		// as Delve's client does, until a real stop or the end.
		for {
			st, err := r.c.Continue()
			if err != nil {
				st = &api.DebuggerState{Err: err}
			}
			ch <- st
			if err != nil || !rpc2.TracepointStop(st) {
				return
			}
		}
	}()
	return ch
}

// FunctionReturnLocations returns where fnName returns (see returnLocator).
func (r *rpcClient) FunctionReturnLocations(fnName string) ([]uint64, error) {
	return r.c.FunctionReturnLocations(fnName)
}

func (r *rpcClient) Next() (*api.DebuggerState, error)    { return r.c.Next() }
func (r *rpcClient) Step() (*api.DebuggerState, error)    { return r.c.Step() }
func (r *rpcClient) StepOut() (*api.DebuggerState, error) { return r.c.StepOut() }

func (r *rpcClient) StepInstruction(skipCalls bool) (*api.DebuggerState, error) {
	return r.c.StepInstruction(skipCalls)
}

func (r *rpcClient) SwitchThread(id int) (*api.DebuggerState, error) { return r.c.SwitchThread(id) }
func (r *rpcClient) SwitchGoroutine(id int64) (*api.DebuggerState, error) {
	return r.c.SwitchGoroutine(id)
}
func (r *rpcClient) Halt() (*api.DebuggerState, error)             { return r.c.Halt() }
func (r *rpcClient) GetBreakpoint(id int) (*api.Breakpoint, error) { return r.c.GetBreakpoint(id) }

func (r *rpcClient) GetBreakpointByName(name string) (*api.Breakpoint, error) {
	return r.c.GetBreakpointByName(name)
}

func (r *rpcClient) CreateBreakpoint(bp *api.Breakpoint) (*api.Breakpoint, error) {
	return r.c.CreateBreakpoint(bp, "")
}

func (r *rpcClient) ListBreakpoints(bool) ([]*api.Breakpoint, error) { return r.c.ListBreakpoints() }
func (r *rpcClient) ClearBreakpoint(id int) (*api.Breakpoint, error) { return r.c.ClearBreakpoint(id) }

func (r *rpcClient) ClearBreakpointByName(name string) (*api.Breakpoint, error) {
	return r.c.ClearBreakpointByName(name)
}

func (r *rpcClient) AmendBreakpoint(bp *api.Breakpoint) error { return r.c.AmendBreakpoint(bp) }

func (r *rpcClient) CancelNext() error { return r.c.CancelNext() }

func (r *rpcClient) ListThreads() ([]*api.Thread, error) { return r.c.ListThreads() }

func (r *rpcClient) ListPackageVariables(filter string, cfg api.LoadConfig) ([]api.Variable, error) {
	return r.c.ListPackageVars(filter, cfg)
}

func (r *rpcClient) EvalVariable(scope api.EvalScope, expr string, cfg api.LoadConfig) (*api.Variable, error) {
	return r.c.Eval(scope, expr, cfg)
}

func (r *rpcClient) SetVariable(scope api.EvalScope, symbol, value string) error {
	return r.c.Set(scope, symbol, value)
}

func (r *rpcClient) ListSources(filter string) ([]string, error) { return r.c.ListSources(filter) }
func (r *rpcClient) ListFunctions(filter string, _ int) ([]string, error) {
	return r.c.ListFunctions(filter)
}
func (r *rpcClient) ListTypes(filter string) ([]string, error) { return r.c.ListTypes(filter) }

func (r *rpcClient) ListLocalVariables(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error) {
	return r.c.ListLocalVars(scope, cfg)
}

func (r *rpcClient) ListFunctionArgs(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error) {
	return r.c.ListFunctionArgs(scope, cfg)
}

// ListScopeRegisters returns the registers of a frame of a goroutine.
func (r *rpcClient) ListScopeRegisters(scope api.EvalScope, includeFp bool) (api.Registers, error) {
	return r.c.ListScopeRegisters(scope, includeFp)
}

func (r *rpcClient) ListGoroutinesWithFilter(start, count int, filters []api.ListGoroutinesFilter, group *api.GoroutineGroupingOptions, scope *api.EvalScope) ([]*api.Goroutine, []api.GoroutineGroup, int, bool, error) {
	in := rpc2.ListGoroutinesIn{Start: start, Count: count, Filters: filters, EvalScope: scope}
	if group != nil {
		in.GoroutineGroupingOptions = *group
	}
	out, err := r.c.ListGoroutinesWithFilter(in)
	if err != nil {
		return nil, nil, -1, false, err
	}
	return out.Goroutines, out.Groups, out.Nextg, out.TooManyGroups, nil
}

// Stacktrace returns frames skip to depth of a goroutine; the server
// leaves out the first skip, which is how a single frame is selected.
func (r *rpcClient) Stacktrace(goid int64, depth, skip int, opts api.StacktraceOptions, cfg *api.LoadConfig) ([]api.Stackframe, error) {
	return r.c.StacktraceFrom(goid, depth, skip, opts, cfg)
}

func (r *rpcClient) FindLocation(scope api.EvalScope, loc string, _ bool, _ [][2]string) ([]api.Location, string, error) {
	locs, err := r.c.FindLocation(scope, loc)
	return locs, "", err
}

func (r *rpcClient) DisassembleRange(_ api.EvalScope, start, end uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error) {
	return r.c.Disassemble(start, end, flavour)
}

func (r *rpcClient) DisassemblePC(_ api.EvalScope, pc uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error) {
	return r.c.Disassemble(pc, 0, flavour)
}

func (r *rpcClient) ExamineMemory(addr uint64, length int) ([]byte, bool, error) {
	mem, err := r.c.ExamineMemory(addr, length)
	return mem, true, err // amd64 is little-endian
}

func (r *rpcClient) IsMulticlient() bool {
	ok, _ := r.c.IsMulticlient()
	return ok
}

// Disconnect leaves the server and its target as they are; with cont the
// target is resumed first, without waiting for it to stop.
func (r *rpcClient) Disconnect(cont bool) error {
	if cont {
		go r.c.Continue()
	}
	return r.c.Close()
}
