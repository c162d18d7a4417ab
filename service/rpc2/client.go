package rpc2

import (
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"strings"
	"time"

	"github.com/tinydbg/tinydbg/service/api"
)

// Client talks to a tinydbg (or Delve) API v2 server. Its methods are safe
// for concurrent use: Halt may be called while Continue waits.
type Client struct {
	c *rpc.Client
	// ReturnInfoLoadConfig, when set, makes next, step and stepout report
	// the results of a function they return from.
	ReturnInfoLoadConfig *api.LoadConfig
	eventsFn             func(*api.Event) // see SetEventsFn
}

// Dial connects to a server at addr: "unix:PATH" or a path starting with
// "/" for a unix socket, host:port for TCP.
func Dial(addr string) (*Client, error) {
	network := "tcp"
	switch {
	case strings.HasPrefix(addr, "unix:"):
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	case strings.HasPrefix(addr, "/"):
		network = "unix"
	}
	conn, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return NewClientFromConn(conn)
}

// NewClientFromConn wraps a connection (for example one end of a
// net.Pipe served by Server.ServeConn) and negotiates API v2.
func NewClientFromConn(conn net.Conn) (*Client, error) {
	c := &Client{c: jsonrpc.NewClient(conn)}
	if err := c.call("SetApiVersion", api.SetAPIVersionIn{APIVersion: 2}, &api.SetAPIVersionOut{}); err != nil {
		c.c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) call(method string, in, out any) error {
	return c.c.Call("RPCServer."+method, in, out)
}

// Close closes the connection without detaching.
func (c *Client) Close() error { return c.c.Close() }

// GetVersion describes the server.
func (c *Client) GetVersion() (*api.GetVersionOut, error) {
	out := new(api.GetVersionOut)
	return out, c.call("GetVersion", api.GetVersionIn{}, out)
}

// ProcessPid returns the target's pid.
func (c *Client) ProcessPid() (int, error) {
	var out ProcessPidOut
	err := c.call("ProcessPid", ProcessPidIn{}, &out)
	return out.Pid, err
}

// IsMulticlient reports whether the server accepts several clients.
func (c *Client) IsMulticlient() (bool, error) {
	var out IsMulticlientOut
	err := c.call("IsMulticlient", IsMulticlientIn{}, &out)
	return out.IsMulticlient, err
}

// LastModified returns the executable's modification time.
func (c *Client) LastModified() (time.Time, error) {
	var out LastModifiedOut
	err := c.call("LastModified", LastModifiedIn{}, &out)
	return out.Time, err
}

// Detach detaches (or kills) the target and closes the connection.
func (c *Client) Detach(kill bool) error {
	defer c.c.Close()
	return c.call("Detach", DetachIn{Kill: kill}, &DetachOut{})
}

// Restart restarts the target, with newArgs when resetArgs is set.
func (c *Client) Restart(resetArgs bool, newArgs []string) ([]api.DiscardedBreakpoint, error) {
	var out RestartOut
	err := c.call("Restart", RestartIn{ResetArgs: resetArgs, NewArgs: newArgs}, &out)
	return out.DiscardedBreakpoints, err
}

// GetState waits for the target to stop and returns its state.
func (c *Client) GetState() (*api.DebuggerState, error) {
	var out StateOut
	err := c.call("State", StateIn{}, &out)
	return out.State, err
}

// GetStateNonBlocking returns at once, with Running set while the target runs.
func (c *Client) GetStateNonBlocking() (*api.DebuggerState, error) {
	var out StateOut
	err := c.call("State", StateIn{NonBlocking: true}, &out)
	return out.State, err
}

func (c *Client) command(cmd api.DebuggerCommand) (*api.DebuggerState, error) {
	var out CommandOut
	var err error
	if c.eventsFn != nil && cmd.Resumes() {
		err = c.commandWithEvents(cmd, &out)
	} else {
		err = c.call("Command", cmd, &out)
	}
	if err != nil {
		return nil, err
	}
	return &out.State, nil
}

// Continue resumes the target until it stops.
func (c *Client) Continue() (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.Continue})
}

// Next steps over to the next source line.
func (c *Client) Next() (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.Next, ReturnInfoLoadConfig: c.ReturnInfoLoadConfig})
}

// Step steps to the next source line, entering calls.
func (c *Client) Step() (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.Step, ReturnInfoLoadConfig: c.ReturnInfoLoadConfig})
}

// SetReturnValuesLoadConfig sets ReturnInfoLoadConfig, as Delve's client
// of the same name does for its terminal.
func (c *Client) SetReturnValuesLoadConfig(cfg *api.LoadConfig) { c.ReturnInfoLoadConfig = cfg }

// StepOut runs until the current function returns.
func (c *Client) StepOut() (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.StepOut, ReturnInfoLoadConfig: c.ReturnInfoLoadConfig})
}

// StepInstruction executes one machine instruction; with skipCalls a CALL
// is executed whole (Delve's next-instruction).
func (c *Client) StepInstruction(skipCalls bool) (*api.DebuggerState, error) {
	if skipCalls {
		return c.command(api.DebuggerCommand{Name: api.NextInstruction})
	}
	return c.command(api.DebuggerCommand{Name: api.StepInstruction})
}

// Halt stops a running target.
func (c *Client) Halt() (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.Halt})
}

// CancelNext abandons a next, step or stepout that a breakpoint of another
// goroutine interrupted (DebuggerState.NextInProgress).
func (c *Client) CancelNext() error {
	return c.call("CancelNext", CancelNextIn{}, &CancelNextOut{})
}

// SwitchThread selects a thread.
func (c *Client) SwitchThread(tid int) (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.SwitchThread, ThreadID: tid})
}

// SwitchGoroutine selects a goroutine.
func (c *Client) SwitchGoroutine(goid int64) (*api.DebuggerState, error) {
	return c.command(api.DebuggerCommand{Name: api.SwitchGoroutine, GoroutineID: goid})
}

// CreateBreakpoint sets a breakpoint described by bp (FunctionName,
// File/Line or Addr), or at locExpr when it is not empty.
func (c *Client) CreateBreakpoint(bp *api.Breakpoint, locExpr string) (*api.Breakpoint, error) {
	var out CreateBreakpointOut
	err := c.call("CreateBreakpoint", CreateBreakpointIn{Breakpoint: *bp, LocExpr: locExpr}, &out)
	return &out.Breakpoint, err
}

// AmendBreakpoint changes a breakpoint's settings.
func (c *Client) AmendBreakpoint(bp *api.Breakpoint) error {
	return c.call("AmendBreakpoint", AmendBreakpointIn{Breakpoint: *bp}, &AmendBreakpointOut{})
}

// GetBreakpoint returns a breakpoint by id.
func (c *Client) GetBreakpoint(id int) (*api.Breakpoint, error) {
	var out GetBreakpointOut
	err := c.call("GetBreakpoint", GetBreakpointIn{Id: id}, &out)
	return &out.Breakpoint, err
}

// GetBreakpointByName returns a breakpoint by name.
func (c *Client) GetBreakpointByName(name string) (*api.Breakpoint, error) {
	var out GetBreakpointOut
	err := c.call("GetBreakpoint", GetBreakpointIn{Name: name}, &out)
	return &out.Breakpoint, err
}

// ListBreakpoints lists the user breakpoints.
func (c *Client) ListBreakpoints() ([]*api.Breakpoint, error) {
	var out ListBreakpointsOut
	err := c.call("ListBreakpoints", ListBreakpointsIn{}, &out)
	return out.Breakpoints, err
}

// CreateWatchpoint watches the memory expr designates, evaluated in scope.
func (c *Client) CreateWatchpoint(scope api.EvalScope, expr string, wtype api.WatchType) (*api.Breakpoint, error) {
	var out CreateWatchpointOut
	err := c.call("CreateWatchpoint", CreateWatchpointIn{Scope: scope, Expr: expr, Type: wtype}, &out)
	return out.Breakpoint, err
}

// ClearBreakpoint removes a breakpoint by id.
func (c *Client) ClearBreakpoint(id int) (*api.Breakpoint, error) {
	var out ClearBreakpointOut
	err := c.call("ClearBreakpoint", ClearBreakpointIn{Id: id}, &out)
	return out.Breakpoint, err
}

// ClearBreakpointByName removes a breakpoint by name.
func (c *Client) ClearBreakpointByName(name string) (*api.Breakpoint, error) {
	var out ClearBreakpointOut
	err := c.call("ClearBreakpoint", ClearBreakpointIn{Name: name}, &out)
	return out.Breakpoint, err
}

// ToggleBreakpoint enables or disables a breakpoint by id.
func (c *Client) ToggleBreakpoint(id int) (*api.Breakpoint, error) {
	var out ToggleBreakpointOut
	err := c.call("ToggleBreakpoint", ToggleBreakpointIn{Id: id}, &out)
	return out.Breakpoint, err
}

// FindLocation resolves a location spec in a scope.
func (c *Client) FindLocation(scope api.EvalScope, loc string) ([]api.Location, error) {
	var out FindLocationOut
	err := c.call("FindLocation", FindLocationIn{Scope: scope, Loc: loc}, &out)
	return out.Locations, err
}

// ListThreads lists the target's threads.
func (c *Client) ListThreads() ([]*api.Thread, error) {
	var out ListThreadsOut
	err := c.call("ListThreads", ListThreadsIn{}, &out)
	return out.Threads, err
}

// ListGoroutines lists goroutines from start, at most count (0: all); next
// is where to continue, -1 at the end.
func (c *Client) ListGoroutines(start, count int) (gs []*api.Goroutine, next int, err error) {
	var out ListGoroutinesOut
	err = c.call("ListGoroutines", ListGoroutinesIn{Start: start, Count: count}, &out)
	return out.Goroutines, out.Nextg, err
}

// ListGoroutinesWithFilter is ListGoroutines with filters and grouping.
func (c *Client) ListGoroutinesWithFilter(in ListGoroutinesIn) (*ListGoroutinesOut, error) {
	var out ListGoroutinesOut
	err := c.call("ListGoroutines", in, &out)
	return &out, err
}

// Stacktrace returns depth+1 frames of goroutine goid (-1: selected); with
// cfg set, frames carry arguments and locals.
func (c *Client) Stacktrace(goid int64, depth int, cfg *api.LoadConfig) ([]api.Stackframe, error) {
	var out StacktraceOut
	err := c.call("Stacktrace", StacktraceIn{Id: goid, Depth: depth, Cfg: cfg}, &out)
	return out.Locations, err
}

// StacktraceFrom returns the frames skip to depth (inclusive) of goroutine
// goid (-1: selected): skip selects one frame without sending its callers'
// frames. opts are Delve's flags; cfg as in Stacktrace.
func (c *Client) StacktraceFrom(goid int64, depth, skip int, opts api.StacktraceOptions, cfg *api.LoadConfig) ([]api.Stackframe, error) {
	var out StacktraceOut
	err := c.call("Stacktrace", StacktraceIn{Id: goid, Depth: depth, Skip: skip, Opts: opts, Cfg: cfg}, &out)
	return out.Locations, err
}

// ListLocalVars lists the locals of a frame.
func (c *Client) ListLocalVars(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error) {
	var out ListLocalVarsOut
	err := c.call("ListLocalVars", ListLocalVarsIn{Scope: scope, Cfg: cfg}, &out)
	return out.Variables, err
}

// ListFunctionArgs lists the arguments of a frame.
func (c *Client) ListFunctionArgs(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error) {
	var out ListFunctionArgsOut
	err := c.call("ListFunctionArgs", ListFunctionArgsIn{Scope: scope, Cfg: cfg}, &out)
	return out.Args, err
}

// ListPackageVars lists package variables matching filter.
func (c *Client) ListPackageVars(filter string, cfg api.LoadConfig) ([]api.Variable, error) {
	var out ListPackageVarsOut
	err := c.call("ListPackageVars", ListPackageVarsIn{Filter: filter, Cfg: cfg}, &out)
	return out.Variables, err
}

// Eval evaluates an expression in a scope.
func (c *Client) Eval(scope api.EvalScope, expr string, cfg api.LoadConfig) (*api.Variable, error) {
	var out EvalOut
	err := c.call("Eval", EvalIn{Scope: scope, Expr: expr, Cfg: &cfg}, &out)
	return out.Variable, err
}

// Set assigns value to symbol in a scope.
func (c *Client) Set(scope api.EvalScope, symbol, value string) error {
	return c.call("Set", SetIn{Scope: scope, Symbol: symbol, Value: value}, &SetOut{})
}

// ListRegisters returns the registers of a thread (0: selected).
func (c *Client) ListRegisters(tid int) (api.Registers, error) {
	var out ListRegistersOut
	err := c.call("ListRegisters", ListRegistersIn{ThreadID: tid}, &out)
	return out.Regs, err
}

// ListScopeRegisters returns the registers of a frame of a goroutine, as
// Delve's client of the same name: frame 0 of a running goroutine has its
// thread's registers, outer frames those the unwinder recovered.
func (c *Client) ListScopeRegisters(scope api.EvalScope, includeFp bool) (api.Registers, error) {
	var out ListRegistersOut
	err := c.call("ListRegisters", ListRegistersIn{IncludeFp: includeFp, Scope: &scope}, &out)
	return out.Regs, err
}

// CallAPI calls any method of the server, named without its "RPCServer."
// prefix, for requests this client has no wrapper for.
func (c *Client) CallAPI(method string, in, out any) error {
	return c.call(method, in, out)
}

// ExamineMemory reads length bytes at addr.
func (c *Client) ExamineMemory(addr uint64, length int) ([]byte, error) {
	var out ExaminedMemoryOut
	err := c.call("ExamineMemory", ExamineMemoryIn{Address: addr, Length: length}, &out)
	return out.Mem, err
}

// Disassemble decodes [start, end), or the function at start when end is 0.
func (c *Client) Disassemble(start, end uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error) {
	var out DisassembleOut
	err := c.call("Disassemble", DisassembleIn{Scope: api.EvalScope{GoroutineID: -1}, StartPC: start, EndPC: end, Flavour: flavour}, &out)
	return out.Disassemble, err
}

// ListSources lists source files matching a regexp.
func (c *Client) ListSources(filter string) ([]string, error) {
	var out ListSourcesOut
	err := c.call("ListSources", ListSourcesIn{Filter: filter}, &out)
	return out.Sources, err
}

// ListFunctions lists functions matching a regexp.
func (c *Client) ListFunctions(filter string) ([]string, error) {
	var out ListFunctionsOut
	err := c.call("ListFunctions", ListFunctionsIn{Filter: filter}, &out)
	return out.Funcs, err
}

// ListTypes lists types matching a regexp.
func (c *Client) ListTypes(filter string) ([]string, error) {
	var out ListTypesOut
	err := c.call("ListTypes", ListTypesIn{Filter: filter}, &out)
	return out.Types, err
}

// ListPackagesBuildInfo lists the packages whose import path matches
// filter (a regexp), with their files when includeFiles is set.
func (c *Client) ListPackagesBuildInfo(filter string, includeFiles bool) ([]PackageBuildInfo, error) {
	var out ListPackagesBuildInfoOut
	err := c.call("ListPackagesBuildInfo", ListPackagesBuildInfoIn{Filter: filter, IncludeFiles: includeFiles}, &out)
	return out.List, err
}

// ListDynamicLibraries lists the shared libraries loaded by the process;
// the flag says whether the executable was built with -trimpath.
func (c *Client) ListDynamicLibraries() ([]Image, bool, error) {
	var out ListDynamicLibrariesOut
	err := c.call("ListDynamicLibraries", ListDynamicLibrariesIn{}, &out)
	return out.List, out.ExecutableTrimpath, err
}

// FunctionReturnLocations returns the addresses of the RET instructions of
// fnName, where return tracepoints go.
func (c *Client) FunctionReturnLocations(fnName string) ([]uint64, error) {
	var out FunctionReturnLocationsOut
	err := c.call("FunctionReturnLocations", FunctionReturnLocationsIn{FnName: fnName}, &out)
	return out.Addrs, err
}

// TracepointStop reports whether st is a stop at which every thread
// sitting on a breakpoint sits on a tracepoint (entry or return): a client
// prints it and continues, as Delve's clients do.
func TracepointStop(st *api.DebuggerState) bool {
	if st == nil || st.Exited {
		return false
	}
	hit := false
	for _, th := range st.Threads {
		if th.Breakpoint == nil {
			continue
		}
		if !th.Breakpoint.Tracepoint && !th.Breakpoint.TraceReturn {
			return false
		}
		hit = true
	}
	return hit
}

// SetExecutionPoint moves the current thread's PC to addr, which must lie
// in the function it is in (jump).
func (c *Client) SetExecutionPoint(addr uint64) (*api.DebuggerState, error) {
	var out SetExecutionPointOut
	err := c.call("SetExecutionPoint", SetExecutionPointIn{Addr: addr}, &out)
	return &out.State, err
}

// Rebuild builds the program again and restarts it (rebuild).
func (c *Client) Rebuild() ([]api.DiscardedBreakpoint, error) {
	var out RestartOut
	err := c.call("Restart", RestartIn{Rebuild: true}, &out)
	return out.DiscardedBreakpoints, err
}

// ListTargets lists the debugged processes (target list).
func (c *Client) ListTargets() ([]Target, error) {
	var out ListTargetsOut
	err := c.call("ListTargets", ListTargetsIn{}, &out)
	return out.Targets, err
}

// FollowExec turns following of exec'd children on (children whose
// command line matches regex, all when empty) or off.
func (c *Client) FollowExec(enable bool, regex string) error {
	return c.call("FollowExec", FollowExecIn{Enable: enable, Regex: regex}, &FollowExecOut{})
}

// FollowExecEnabled reports whether children are followed.
func (c *Client) FollowExecEnabled() (bool, error) {
	var out FollowExecEnabledOut
	err := c.call("FollowExecEnabled", FollowExecEnabledIn{}, &out)
	return out.Enabled, err
}
