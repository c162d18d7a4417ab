package rpc2

import (
	"time"

	"github.com/tinydbg/tinydbg/service/api"
)

// The argument and result types of the JSON-RPC methods. Their names and
// fields are Delve's API v2, which is the wire contract.

// ProcessPidIn is the argument of ProcessPid.
type ProcessPidIn struct{}

// ProcessPidOut is the result of ProcessPid.
type ProcessPidOut struct{ Pid int }

// LastModifiedIn is the argument of LastModified.
type LastModifiedIn struct{}

// LastModifiedOut is the modification time of the executable.
type LastModifiedOut struct{ Time time.Time }

// DetachIn is the argument of Detach; Kill kills the target instead.
type DetachIn struct{ Kill bool }

// DetachOut is the result of Detach.
type DetachOut struct{}

// RestartIn is the argument of Restart.
type RestartIn struct {
	Position     string
	ResetArgs    bool
	NewArgs      []string
	Rerecord     bool
	Rebuild      bool
	NewRedirects [3]string
}

// RestartOut lists the breakpoints that could not be set again.
type RestartOut struct {
	DiscardedBreakpoints []api.DiscardedBreakpoint
}

// StateIn is the argument of State.
type StateIn struct{ NonBlocking bool }

// StateOut is the result of State.
type StateOut struct{ State *api.DebuggerState }

// CommandOut is the result of Command.
type CommandOut struct{ State api.DebuggerState }

// GetBreakpointIn selects a breakpoint by Name, or by Id when Name is empty.
type GetBreakpointIn struct {
	Id   int // Delve's wire spelling
	Name string
}

// GetBreakpointOut is the result of GetBreakpoint.
type GetBreakpointOut struct{ Breakpoint api.Breakpoint }

// StacktraceIn is the argument of Stacktrace.
type StacktraceIn struct {
	Id     int64 // Delve's wire spelling
	Depth  int
	Full   bool
	Defers bool
	Opts   api.StacktraceOptions
	Cfg    *api.LoadConfig
	Skip   int
}

// StacktraceOut is the result of Stacktrace.
type StacktraceOut struct{ Locations []api.Stackframe }

// ListBreakpointsIn is the argument of ListBreakpoints.
type ListBreakpointsIn struct{ All bool }

// ListBreakpointsOut is the result of ListBreakpoints.
type ListBreakpointsOut struct{ Breakpoints []*api.Breakpoint }

// CreateBreakpointIn is the argument of CreateBreakpoint.
type CreateBreakpointIn struct {
	Breakpoint          api.Breakpoint
	LocExpr             string
	SubstitutePathRules [][2]string
	Suspended           bool
}

// CreateBreakpointOut is the result of CreateBreakpoint.
type CreateBreakpointOut struct{ Breakpoint api.Breakpoint }

// CreateWatchpointIn is the argument of CreateWatchpoint: the expression
// is evaluated in Scope; Type has WatchRead and/or WatchWrite.
type CreateWatchpointIn struct {
	Scope api.EvalScope
	Expr  string
	Type  api.WatchType
}

// CreateWatchpointOut is the watchpoint set. The breakpoint is embedded,
// so its fields are the result's, as on Delve's wire.
type CreateWatchpointOut struct {
	*api.Breakpoint
}

// ClearBreakpointIn selects the breakpoint to clear.
type ClearBreakpointIn struct {
	Id   int // Delve's wire spelling
	Name string
}

// ClearBreakpointOut is the cleared breakpoint.
type ClearBreakpointOut struct{ Breakpoint *api.Breakpoint }

// ToggleBreakpointIn selects the breakpoint to toggle.
type ToggleBreakpointIn struct {
	Id   int // Delve's wire spelling
	Name string
}

// ToggleBreakpointOut is the toggled breakpoint.
type ToggleBreakpointOut struct{ Breakpoint *api.Breakpoint }

// AmendBreakpointIn carries the new settings of a breakpoint.
type AmendBreakpointIn struct{ Breakpoint api.Breakpoint }

// AmendBreakpointOut is the result of AmendBreakpoint.
type AmendBreakpointOut struct{}

// CancelNextIn is the argument of CancelNext.
type CancelNextIn struct{}

// CancelNextOut is the result of CancelNext.
type CancelNextOut struct{}

// ListThreadsIn is the argument of ListThreads.
type ListThreadsIn struct{}

// ListThreadsOut is the result of ListThreads.
type ListThreadsOut struct{ Threads []*api.Thread }

// GetThreadIn selects a thread.
type GetThreadIn struct {
	Id int // Delve's wire spelling
}

// GetThreadOut is the result of GetThread.
type GetThreadOut struct{ Thread *api.Thread }

// ListPackageVarsIn is the argument of ListPackageVars.
type ListPackageVarsIn struct {
	Filter string
	Cfg    api.LoadConfig
}

// ListPackageVarsOut is the result of ListPackageVars.
type ListPackageVarsOut struct{ Variables []api.Variable }

// ListRegistersIn is the argument of ListRegisters.
type ListRegistersIn struct {
	ThreadID  int
	IncludeFp bool
	Scope     *api.EvalScope
}

// ListRegistersOut is the result of ListRegisters.
type ListRegistersOut struct {
	Registers string
	Regs      api.Registers
}

// ListLocalVarsIn is the argument of ListLocalVars.
type ListLocalVarsIn struct {
	Scope api.EvalScope
	Cfg   api.LoadConfig
}

// ListLocalVarsOut is the result of ListLocalVars.
type ListLocalVarsOut struct{ Variables []api.Variable }

// ListFunctionArgsIn is the argument of ListFunctionArgs.
type ListFunctionArgsIn struct {
	Scope api.EvalScope
	Cfg   api.LoadConfig
}

// ListFunctionArgsOut is the result of ListFunctionArgs.
type ListFunctionArgsOut struct{ Args []api.Variable }

// EvalIn is the argument of Eval.
type EvalIn struct {
	Scope api.EvalScope
	Expr  string
	Cfg   *api.LoadConfig
}

// EvalOut is the result of Eval.
type EvalOut struct{ Variable *api.Variable }

// SetIn is the argument of Set.
type SetIn struct {
	Scope  api.EvalScope
	Symbol string
	Value  string
}

// SetOut is the result of Set.
type SetOut struct{}

// ListSourcesIn is the argument of ListSources.
type ListSourcesIn struct{ Filter string }

// ListSourcesOut is the result of ListSources.
type ListSourcesOut struct{ Sources []string }

// ListFunctionsIn is the argument of ListFunctions.
type ListFunctionsIn struct {
	Filter      string
	FollowCalls int
}

// ListFunctionsOut is the result of ListFunctions.
type ListFunctionsOut struct{ Funcs []string }

// ListTypesIn is the argument of ListTypes.
type ListTypesIn struct{ Filter string }

// ListTypesOut is the result of ListTypes.
type ListTypesOut struct{ Types []string }

// ListPackagesBuildInfoIn is the argument of ListPackagesBuildInfo;
// Filter, a regexp, keeps the packages whose import path matches.
type ListPackagesBuildInfoIn struct {
	IncludeFiles bool
	Filter       string
}

// PackageBuildInfo is one package of the binary, as Delve's API has it.
type PackageBuildInfo struct {
	ImportPath    string
	DirectoryPath string
	Files         []string
}

// ListPackagesBuildInfoOut is the result of ListPackagesBuildInfo.
type ListPackagesBuildInfoOut struct{ List []PackageBuildInfo }

// ListGoroutinesIn is the argument of ListGoroutines.
type ListGoroutinesIn struct {
	Start   int
	Count   int
	Filters []api.ListGoroutinesFilter
	api.GoroutineGroupingOptions
	EvalScope *api.EvalScope
}

// ListGoroutinesOut is the result of ListGoroutines.
type ListGoroutinesOut struct {
	Goroutines    []*api.Goroutine
	Nextg         int
	Groups        []api.GoroutineGroup
	TooManyGroups bool
}

// AttachedToExistingProcessIn is the argument of AttachedToExistingProcess.
type AttachedToExistingProcessIn struct{}

// AttachedToExistingProcessOut says whether the target was attached to.
type AttachedToExistingProcessOut struct{ Answer bool }

// FindLocationIn is the argument of FindLocation.
type FindLocationIn struct {
	Scope                     api.EvalScope
	Loc                       string
	IncludeNonExecutableLines bool
	SubstitutePathRules       [][2]string
}

// FindLocationOut is the result of FindLocation.
type FindLocationOut struct {
	Locations         []api.Location
	SubstituteLocExpr string
}

// DisassembleIn is the argument of Disassemble.
type DisassembleIn struct {
	Scope          api.EvalScope
	StartPC, EndPC uint64
	Flavour        api.AssemblyFlavour
}

// DisassembleOut is the result of Disassemble.
type DisassembleOut struct{ Disassemble api.AsmInstructions }

// RecordedIn is the argument of Recorded.
type RecordedIn struct{}

// RecordedOut says whether the target is a recording (never, here).
type RecordedOut struct {
	Recorded       bool
	TraceDirectory string
}

// IsMulticlientIn is the argument of IsMulticlient.
type IsMulticlientIn struct{}

// IsMulticlientOut says whether the server accepts several clients.
type IsMulticlientOut struct{ IsMulticlient bool }

// ExamineMemoryIn is the argument of ExamineMemory.
type ExamineMemoryIn struct {
	Address uint64
	Length  int
}

// ExaminedMemoryOut is the result of ExamineMemory.
type ExaminedMemoryOut struct {
	Mem            []byte
	IsLittleEndian bool
}

// FollowExecEnabledIn is the argument of FollowExecEnabled.
type FollowExecEnabledIn struct{}

// FollowExecEnabledOut says whether child processes are followed (never).
type FollowExecEnabledOut struct{ Enabled bool }

// GetEventsIn is the argument of GetEvents.
type GetEventsIn struct{}

// GetEventsOut carries the events since the last call.
type GetEventsOut struct{ Events []api.Event }

// FunctionReturnLocationsIn is the argument of FunctionReturnLocations.
type FunctionReturnLocationsIn struct{ FnName string }

// FunctionReturnLocationsOut is the result of FunctionReturnLocations:
// the addresses where the function returns.
type FunctionReturnLocationsOut struct{ Addrs []uint64 }

// ListDynamicLibrariesIn is the argument of ListDynamicLibraries.
type ListDynamicLibrariesIn struct{}

// Image is a shared library of the process, as Delve's API has it.
type Image struct {
	Path      string
	Address   uint64
	LoadError string
	Trimpath  bool
}

// ListDynamicLibrariesOut is the result of ListDynamicLibraries.
type ListDynamicLibrariesOut struct {
	List               []Image
	ExecutableTrimpath bool
}
