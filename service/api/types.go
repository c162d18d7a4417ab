// Package api holds the types that cross the JSON-RPC wire between a tinydbg
// server and its clients. Field names and JSON tags follow Delve's API v2 so
// that Delve's own clients (and editors built on them) decode our replies;
// that is why some tags are in mixed case.
package api

import (
	"encoding/json"
	"reflect"
	"unicode/utf8"
)

// DebuggerState is the debugger's view of the target after a command.
type DebuggerState struct {
	Pid               int
	TargetCommandLine string
	// Running is true while a continue or step is in progress.
	Running     bool
	Recording   bool
	CoreDumping bool
	// CurrentThread is the selected thread.
	CurrentThread *Thread `json:"currentThread,omitempty"`
	// SelectedGoroutine is the selected goroutine.
	SelectedGoroutine *Goroutine `json:"currentGoroutine,omitempty"`
	Threads           []*Thread
	// NextInProgress is true when a next/step was interrupted by a breakpoint.
	NextInProgress  bool
	WatchOutOfScope []*Breakpoint
	Exited          bool `json:"exited"`
	ExitStatus      int  `json:"exitStatus"`
	When            string
	StopReason      string `json:"stopReason,omitempty"`
	// Err is set by clients, never sent.
	Err error `json:"-"`
}

// Breakpoint is a user breakpoint as clients see it.
type Breakpoint struct {
	ID           int      `json:"id"`
	Name         string   `json:"name"`
	Addr         uint64   `json:"addr"`
	Addrs        []uint64 `json:"addrs"`
	AddrPid      []int    `json:"addrpid"`
	File         string   `json:"file"`
	Line         int      `json:"line"`
	FunctionName string   `json:"functionName,omitempty"`
	// ExprString is the location expression the breakpoint was created from.
	ExprString string

	Cond        string
	HitCond     string
	HitCondPerG bool
	// CondEval says how the condition is evaluated: "in kernel", or
	// "stops to evaluate" with the reason when the kernel cannot; tinydbg's
	// own, under a name Delve's clients ignore. CondFaults counts kernel
	// evaluations that read an invalid pointer (false, never a stop).
	CondEval   string `json:"tinydbgCondEval,omitempty"`
	CondFaults uint64 `json:"tinydbgCondFaults,omitempty"`

	// Tracepoint is encoded as "continue", as Delve does.
	Tracepoint     bool     `json:"continue"`
	TraceReturn    bool     `json:"traceReturn"`
	Goroutine      bool     `json:"goroutine"`
	Stacktrace     int      `json:"stacktrace"`
	Variables      []string `json:"variables,omitempty"`
	LoadArgs       *LoadConfig
	LoadLocals     *LoadConfig
	CustomCommands []string `json:"customCommands,omitempty"`

	WatchExpr string
	WatchType WatchType

	VerboseDescr []string `json:"VerboseDescr,omitempty"`

	// HitCount maps a goroutine id (as a decimal string) to its hits.
	HitCount      map[string]uint64 `json:"hitCount"`
	TotalHitCount uint64            `json:"totalHitCount"`
	Disabled      bool              `json:"disabled"`

	UserData any `json:"-"`

	RootFuncName     string
	TraceFollowCalls int
}

// WatchType is the kind of access a watchpoint traps.
type WatchType uint8

// Watchpoint access kinds.
const (
	WatchRead WatchType = 1 << iota
	WatchWrite
)

// Thread is one OS thread of the target.
type Thread struct {
	ID          int       `json:"id"`
	PC          uint64    `json:"pc"`
	File        string    `json:"file"`
	Line        int       `json:"line"`
	Function    *Function `json:"function,omitempty"`
	GoroutineID int64     `json:"goroutineID"`
	// Breakpoint is the user breakpoint the thread is stopped on.
	Breakpoint     *Breakpoint     `json:"breakPoint,omitempty"`
	BreakpointInfo *BreakpointInfo `json:"breakPointInfo,omitempty"`
	// ReturnValues are the results of the function just stepped out of.
	ReturnValues []Variable
	CallReturn   bool
	// WatchOld and WatchNew are the watched value before and after the
	// access, when the thread stopped on a watchpoint (not in Delve's API).
	WatchOld *Variable `json:"watchOld,omitempty"`
	WatchNew *Variable `json:"watchNew,omitempty"`
}

// Location is a position in the program; FindLocation fills PCs with every
// address of a logical location (inlined copies).
type Location struct {
	PC       uint64    `json:"pc"`
	File     string    `json:"file"`
	Line     int       `json:"line"`
	Function *Function `json:"function,omitempty"`
	PCs      []uint64  `json:"pcs,omitempty"`
	PCPids   []int     `json:"pcpids,omitempty"`
}

// Stackframe is one frame of a stack trace.
type Stackframe struct {
	Location
	Locals    []Variable
	Arguments []Variable

	FrameOffset        int64
	FramePointerOffset int64

	Defers []Defer

	Bottom bool `json:"Bottom,omitempty"`

	Err string
}

// Defer is one deferred call of a frame.
type Defer struct {
	DeferredLoc Location
	DeferLoc    Location
	SP          uint64
	Unreadable  string
}

// Function names the function at a location.
type Function struct {
	// Name_ carries the name; the odd spelling is Delve's wire name "name".
	Name_     string `json:"name"`
	Value     uint64 `json:"value"`
	Type      byte   `json:"type"`
	GoType    uint64 `json:"goType"`
	Optimized bool   `json:"optimized"`
}

// Name returns the function name, or "???" for a nil function.
func (fn *Function) Name() string {
	if fn == nil {
		return "???"
	}
	return fn.Name_
}

// VariableFlags describe where a variable comes from.
type VariableFlags uint16

// Variable flags, bit for bit as Delve sends them.
const (
	VariableEscaped VariableFlags = 1 << iota
	VariableShadowed
	VariableConstant
	VariableArgument
	VariableReturnArgument
	VariableFakeAddress
	VariableCPtr
	VariableCPURegister
)

// Variable is a loaded value with its children.
type Variable struct {
	Name     string        `json:"name"`
	Addr     uint64        `json:"addr"`
	OnlyAddr bool          `json:"onlyAddr"`
	Type     string        `json:"type"`
	RealType string        `json:"realType"`
	Flags    VariableFlags `json:"flags"`
	Kind     reflect.Kind  `json:"kind"`
	Value    string        `json:"value"`
	// StringValueBytes carries a string's bytes when they are not valid
	// UTF-8, which JSON would otherwise replace.
	StringValueBytes []byte
	Len              int64      `json:"len"`
	Cap              int64      `json:"cap"`
	Children         []Variable `json:"children"`
	Base             uint64     `json:"base"`
	Unreadable       string     `json:"unreadable"`
	LocationExpr     string
	DeclLine         int64
}

// plainVariable has Variable's fields without its JSON methods.
type plainVariable Variable

// MarshalJSON moves invalid UTF-8 string values into StringValueBytes.
func (v *Variable) MarshalJSON() ([]byte, error) {
	p := (*plainVariable)(v)
	if p.Kind == reflect.String && !utf8.ValidString(p.Value) {
		cp := *p
		cp.StringValueBytes = []byte(p.Value)
		return json.Marshal(&cp)
	}
	return json.Marshal(p)
}

// UnmarshalJSON restores a string value sent as StringValueBytes.
func (v *Variable) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*plainVariable)(v)); err != nil {
		return err
	}
	if v.Kind == reflect.String && len(v.StringValueBytes) > 0 {
		v.Value = string(v.StringValueBytes)
		v.StringValueBytes = nil
	}
	return nil
}

// LoadConfig limits how much of a value is read from the target.
type LoadConfig struct {
	FollowPointers     bool
	MaxVariableRecurse int
	MaxStringLen       int
	MaxArrayValues     int
	MaxStructFields    int
}

// Goroutine is one goroutine with its interesting locations.
type Goroutine struct {
	ID             int64             `json:"id"`
	CurrentLoc     Location          `json:"currentLoc"`
	UserCurrentLoc Location          `json:"userCurrentLoc"`
	GoStatementLoc Location          `json:"goStatementLoc"`
	StartLoc       Location          `json:"startLoc"`
	ThreadID       int               `json:"threadID"`
	Status         uint64            `json:"status"`
	WaitSince      int64             `json:"waitSince"`
	WaitReason     int64             `json:"waitReason"`
	Unreadable     string            `json:"unreadable"`
	Labels         map[string]string `json:"labels,omitempty"`
}

// DebuggerCommand is the argument of the Command method.
type DebuggerCommand struct {
	Name                 string `json:"name"`
	ThreadID             int    `json:"threadID,omitempty"`
	GoroutineID          int64  `json:"goroutineID,omitempty"`
	ReturnInfoLoadConfig *LoadConfig
	Expr                 string `json:"expr,omitempty"`
	WithEvents           bool
	UnsafeCall           bool `json:"unsafeCall,omitempty"`
}

// Resumes reports whether the command runs the target, and so has events
// (a resume, spawned children, a stop) when WithEvents asks for them:
// every command but halt and the thread and goroutine switches.
func (c DebuggerCommand) Resumes() bool {
	return c.Name != Halt && c.Name != SwitchThread && c.Name != SwitchGoroutine
}

// BreakpointInfo is what a breakpoint asked to collect when hit.
type BreakpointInfo struct {
	Stacktrace []Stackframe `json:"stacktrace,omitempty"`
	Goroutine  *Goroutine   `json:"goroutine,omitempty"`
	Variables  []Variable   `json:"variables,omitempty"`
	Arguments  []Variable   `json:"arguments,omitempty"`
	Locals     []Variable   `json:"locals,omitempty"`
}

// EvalScope selects the goroutine and frame an expression is evaluated in;
// GoroutineID -1 means the selected goroutine.
type EvalScope struct {
	GoroutineID  int64
	Frame        int
	DeferredCall int
}

// Command names accepted by the Command method.
const (
	Continue        = "continue"
	Rewind          = "rewind"
	Step            = "step"
	StepOut         = "stepOut"
	StepInstruction = "stepInstruction"
	NextInstruction = "nextInstruction"
	Next            = "next"
	SwitchThread    = "switchThread"
	SwitchGoroutine = "switchGoroutine"
	Halt            = "halt"
	Call            = "call"
)

// AssemblyFlavour selects the disassembly syntax.
type AssemblyFlavour int

// Disassembly syntaxes, numbered as in Delve.
const (
	GNUFlavour AssemblyFlavour = iota
	IntelFlavour
	GoFlavour
)

// AsmInstruction is one decoded machine instruction.
type AsmInstruction struct {
	Loc        Location
	DestLoc    *Location
	Text       string
	Bytes      []byte
	Breakpoint bool
	AtPC       bool
}

// AsmInstructions is a disassembled range.
type AsmInstructions []AsmInstruction

// GetVersionIn is the argument of GetVersion.
type GetVersionIn struct{}

// GetVersionOut describes the server.
type GetVersionOut struct {
	DelveVersion            string
	APIVersion              int
	Backend                 string
	TargetGoVersion         string
	MinSupportedVersionOfGo string
	MaxSupportedVersionOfGo string
}

// SetAPIVersionIn is the argument of SetApiVersion.
type SetAPIVersionIn struct {
	APIVersion int
}

// SetAPIVersionOut is the (empty) result of SetApiVersion.
type SetAPIVersionOut struct{}

// Register is one CPU register, its value formatted as hex.
type Register struct {
	Name        string
	Value       string
	DwarfNumber int
}

// Registers is a register set.
type Registers []Register

// DiscardedBreakpoint is a breakpoint that could not be set again on restart.
type DiscardedBreakpoint struct {
	Breakpoint *Breakpoint
	Reason     string
}

// StacktraceOptions are flags of the Stacktrace method.
type StacktraceOptions uint16

// Stacktrace options.
const (
	StacktraceReadDefers StacktraceOptions = 1 << iota
	StacktraceSimple
	StacktraceG
)

// ListGoroutinesFilter keeps (or with Negated drops) goroutines matching Arg.
type ListGoroutinesFilter struct {
	Kind    GoroutineField
	Negated bool
	Arg     string
}

// GoroutineField names a goroutine property to filter or group by.
type GoroutineField uint8

// Goroutine fields, numbered as in Delve.
const (
	GoroutineFieldNone GoroutineField = iota
	GoroutineCurrentLoc
	GoroutineUserLoc
	GoroutineGoLoc
	GoroutineStartLoc
	GoroutineLabel
	GoroutineRunning
	GoroutineUser
	GoroutineWaitingOnChannel
)

// GoroutineGroup is one group of a grouped goroutine list.
type GoroutineGroup struct {
	Name   string
	Offset int
	Count  int
	Total  int
}

// GoroutineGroupingOptions asks ListGoroutines to group its result.
type GoroutineGroupingOptions struct {
	GroupBy         GoroutineField
	GroupByKey      string
	MaxGroupMembers int
	MaxGroups       int
}

// EventKind classifies an Event.
type EventKind uint8

// Event kinds, numbered as in Delve. Delve's 2 and 3 (debuginfod
// downloads, materialized suspended breakpoints) never happen in tinydbg.
const (
	EventResumed        EventKind = 0
	EventStopped        EventKind = 1
	EventProcessSpawned EventKind = 4 // a child exec'd with follow-exec on
)

// Event is something that happened while the target ran. The details of
// its kind are embedded, as in Delve, so that their fields sit at the top
// level of the JSON object.
type Event struct {
	Kind EventKind
	*ProcessSpawnedEventDetails
}

// ProcessSpawnedEventDetails is a child the target forked that exec'd a
// program: its pid and thread, its command line (arguments joined by
// spaces) and whether it is debugged too (it matches follow-exec's regex).
type ProcessSpawnedEventDetails struct {
	PID        int
	ThreadID   int
	Cmdline    string
	WillFollow bool
}
