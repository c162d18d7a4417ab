package terminal

import (
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// Client is what the terminal needs of a debugger service. service/rpc2's
// client satisfies it as it is, whether the server runs in-process (over a
// pipe) or remotely; the parts below follow the command groups using them.
type Client interface {
	sessionClient
	runClient
	callClient
	breakClient
	dataClient
	stackClient
	sourceClient
	infoClient
	jumpClient
	targetClient
}

// sessionClient serves the session itself: restart, exit and the final quit.
type sessionClient interface {
	ProcessPid() (int, error)
	IsMulticlient() (bool, error)
	Restart(resetArgs bool, newArgs []string) ([]api.DiscardedBreakpoint, error)
	// Detach ends the session, killing the target if kill is set.
	Detach(kill bool) error
	// Close leaves the server and its target as they are.
	Close() error
	// SetReturnValuesLoadConfig makes next, step and stepout report what a
	// function they return from returned.
	SetReturnValuesLoadConfig(cfg *api.LoadConfig)
}

// runClient serves continue, the stepping commands and interrupts.
type runClient interface {
	GetState() (*api.DebuggerState, error)
	Continue() (*api.DebuggerState, error)
	Next() (*api.DebuggerState, error)
	Step() (*api.DebuggerState, error)
	StepOut() (*api.DebuggerState, error)
	StepInstruction(skipCalls bool) (*api.DebuggerState, error)
	Halt() (*api.DebuggerState, error)
	// CancelNext abandons a next/step interrupted by another breakpoint.
	CancelNext() error
}

// breakClient serves break, trace, watch, clear, condition, on and toggle.
type breakClient interface {
	CreateBreakpoint(bp *api.Breakpoint, locExpr string) (*api.Breakpoint, error)
	GetBreakpoint(id int) (*api.Breakpoint, error)
	GetBreakpointByName(name string) (*api.Breakpoint, error)
	ListBreakpoints() ([]*api.Breakpoint, error)
	ClearBreakpoint(id int) (*api.Breakpoint, error)
	ClearBreakpointByName(name string) (*api.Breakpoint, error)
	AmendBreakpoint(bp *api.Breakpoint) error
	// FunctionReturnLocations is where trace puts a function's return points.
	FunctionReturnLocations(fnName string) ([]uint64, error)
	// CreateWatchpoint serves watch.
	CreateWatchpoint(scope api.EvalScope, expr string, wtype api.WatchType) (*api.Breakpoint, error)
}

// dataClient serves print, set, locals, args, vars, regs and examinemem.
type dataClient interface {
	Eval(scope api.EvalScope, expr string, cfg api.LoadConfig) (*api.Variable, error)
	Set(scope api.EvalScope, symbol, value string) error
	ListLocalVars(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error)
	ListFunctionArgs(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error)
	ListPackageVars(filter string, cfg api.LoadConfig) ([]api.Variable, error)
	ListScopeRegisters(scope api.EvalScope, includeFp bool) (api.Registers, error)
	ExamineMemory(addr uint64, length int) ([]byte, error)
}

// stackClient serves stack, frame, goroutine(s) and thread(s).
type stackClient interface {
	// StacktraceFrom returns frames skip to depth; skip selects one frame.
	StacktraceFrom(goid int64, depth, skip int, opts api.StacktraceOptions, cfg *api.LoadConfig) ([]api.Stackframe, error)
	ListGoroutinesWithFilter(in rpc2.ListGoroutinesIn) (*rpc2.ListGoroutinesOut, error)
	SwitchGoroutine(goid int64) (*api.DebuggerState, error)
	ListThreads() ([]*api.Thread, error)
	SwitchThread(tid int) (*api.DebuggerState, error)
}

// sourceClient serves list, disassemble, funcs, sources, types and completion.
type sourceClient interface {
	FindLocation(scope api.EvalScope, loc string) ([]api.Location, error)
	// Disassemble decodes [start, end), or the function at start when end is 0.
	Disassemble(start, end uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error)
	ListSources(filter string) ([]string, error)
	ListFunctions(filter string) ([]string, error)
	ListTypes(filter string) ([]string, error)
}

// infoClient serves packages and libraries.
type infoClient interface {
	ListPackagesBuildInfo(filter string, includeFiles bool) ([]rpc2.PackageBuildInfo, error)
	ListDynamicLibraries() ([]rpc2.Image, bool, error)
}

// Static check that the rpc2 client is a terminal client without an adapter.
var _ Client = (*rpc2.Client)(nil)
