package terminal

import (
	"github.com/tinydbg/tinydbg/service/api"
)

// Client is the part of a debugger service client the terminal uses. The
// method set mirrors Delve's service.Client, so service/rpc2's client
// satisfies it whether the server runs in-process (over a pipe) or remotely.
type Client interface {
	// ProcessPid is the target's process id.
	ProcessPid() int
	// Detach ends the session, killing the target if kill is set.
	Detach(kill bool) error
	// Restart starts the target again from the beginning.
	Restart(rebuild bool) ([]api.DiscardedBreakpoint, error)
	// GetState returns the current debugger state.
	GetState() (*api.DebuggerState, error)
	// Continue resumes the target; the channel yields every stop.
	Continue() <-chan *api.DebuggerState
	// Next steps over to the next source line.
	Next() (*api.DebuggerState, error)
	// Step steps into calls.
	Step() (*api.DebuggerState, error)
	// StepOut runs until the current function returns.
	StepOut() (*api.DebuggerState, error)
	// StepInstruction executes one machine instruction.
	StepInstruction(skipCalls bool) (*api.DebuggerState, error)
	// SwitchThread selects a thread.
	SwitchThread(threadID int) (*api.DebuggerState, error)
	// SwitchGoroutine selects a goroutine.
	SwitchGoroutine(goroutineID int64) (*api.DebuggerState, error)
	// Halt stops a running target.
	Halt() (*api.DebuggerState, error)
	// GetBreakpoint returns one breakpoint by id.
	GetBreakpoint(id int) (*api.Breakpoint, error)
	// GetBreakpointByName returns one breakpoint by name.
	GetBreakpointByName(name string) (*api.Breakpoint, error)
	// CreateBreakpoint sets a breakpoint.
	CreateBreakpoint(*api.Breakpoint) (*api.Breakpoint, error)
	// ListBreakpoints lists breakpoints; all includes internal ones.
	ListBreakpoints(all bool) ([]*api.Breakpoint, error)
	// ClearBreakpoint deletes a breakpoint.
	ClearBreakpoint(id int) (*api.Breakpoint, error)
	// ClearBreakpointByName deletes a named breakpoint.
	ClearBreakpointByName(name string) (*api.Breakpoint, error)
	// AmendBreakpoint changes a breakpoint's attributes.
	AmendBreakpoint(*api.Breakpoint) error
	// CancelNext abandons an interrupted next/step.
	CancelNext() error
	// ListThreads lists the target's threads.
	ListThreads() ([]*api.Thread, error)
	// ListPackageVariables lists package variables matching filter.
	ListPackageVariables(filter string, cfg api.LoadConfig) ([]api.Variable, error)
	// EvalVariable evaluates an expression.
	EvalVariable(scope api.EvalScope, expr string, cfg api.LoadConfig) (*api.Variable, error)
	// SetVariable assigns value to the variable named symbol.
	SetVariable(scope api.EvalScope, symbol, value string) error
	// ListSources lists source files matching filter.
	ListSources(filter string) ([]string, error)
	// ListFunctions lists functions matching filter.
	ListFunctions(filter string, traceFollow int) ([]string, error)
	// ListTypes lists types matching filter.
	ListTypes(filter string) ([]string, error)
	// ListLocalVariables lists the locals of a scope.
	ListLocalVariables(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error)
	// ListFunctionArgs lists the arguments of a scope.
	ListFunctionArgs(scope api.EvalScope, cfg api.LoadConfig) ([]api.Variable, error)
	// ListScopeRegisters lists the registers of a scope.
	ListScopeRegisters(scope api.EvalScope, includeFp bool) (api.Registers, error)
	// ListGoroutinesWithFilter lists goroutines, filtered and grouped by the server.
	ListGoroutinesWithFilter(start, count int, filters []api.ListGoroutinesFilter, group *api.GoroutineGroupingOptions, scope *api.EvalScope) ([]*api.Goroutine, []api.GoroutineGroup, int, bool, error)
	// Stacktrace returns the frames of a goroutine.
	Stacktrace(goroutineID int64, depth, skip int, opts api.StacktraceOptions, cfg *api.LoadConfig) ([]api.Stackframe, error)
	// FindLocation resolves a location expression.
	FindLocation(scope api.EvalScope, loc string, findInstruction bool, substitutePathRules [][2]string) ([]api.Location, string, error)
	// DisassembleRange disassembles [startPC, endPC).
	DisassembleRange(scope api.EvalScope, startPC, endPC uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error)
	// DisassemblePC disassembles the function containing pc.
	DisassemblePC(scope api.EvalScope, pc uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error)
	// ExamineMemory reads target memory.
	ExamineMemory(address uint64, length int) ([]byte, bool, error)
	// IsMulticlient reports whether the server accepts several clients.
	IsMulticlient() bool
	// Disconnect leaves the server running, resuming the target if cont.
	Disconnect(cont bool) error
}

// Static check that the rpc2 adapter implements the interface.
var _ Client = (*rpcClient)(nil)
