package dap

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/debugger"
)

// Error ids of error responses. DAP only asks that they be unique; these
// are the numbers Delve uses, which some clients match on.
const (
	errUnsupported       = 9999
	errInternal          = 8888
	errFailedToLaunch    = 3000
	errFailedToAttach    = 3001
	errSetBreakpoints    = 2002
	errStackTrace        = 2004
	errListLocals        = 2005
	errListArgs          = 2006
	errListGlobals       = 2007
	errListRegisters     = 2014
	errLookupVariable    = 2008
	errEvaluate          = 2009
	errHalt              = 2010
	errSetVariable       = 2012
	errExceptionInfo     = 2011
	errDisassemble       = 2013
	errReadMemory        = 2016
	errWriteMemory       = 2018
	errNoDebuggee        = 3000
	errDebuggeeIsRunning = 4000
	errDisconnect        = 5000
)

// session is one client's debugging session.
type session struct {
	conn   io.ReadWriteCloser
	logf   func(format string, args ...any)
	logMsg func(format string, args ...any) // nil: messages are not logged

	disableASLR bool
	checkGo     func(goVersion string) error // nil: any version
	done        chan struct{}                // closed when the session has cleaned up

	wmu sync.Mutex // one message on the wire at a time
	w   *bufio.Writer
	seq atomic.Int64

	// dbg is set by launch or attach, on the request goroutine; the run
	// goroutine only starts afterwards.
	dbg         *debugger.Debugger
	attached    bool
	stopOnEntry bool
	opts        sessionOpts    // the launch or attach attributes
	launched    *launchArgs    // the launch configuration, for restart
	lastErr     atomic.Value   // string: the last run command's error, for exceptionInfo
	cleanups    []func()       // remove a built binary, and the like
	output      sync.WaitGroup // pumps of the target's stdout and stderr
	clientCaps  dap.InitializeRequestArguments

	run   runControl
	state handles
	bps   breakpoints
	klogs kernelLogs // logpoints evaluated in the kernel (kernellogs.go)

	closing atomic.Bool // disconnecting: no more events
	ended   bool        // the target was killed or detached from

	// shared is the debugger of the headless server this session runs in
	// (nil for tinydbg dap); remote is set once the client attached to it;
	// terminated once the client ended it, which stops the server.
	shared     *SharedConfig
	remote     bool
	terminated bool
}

func newSession(conn io.ReadWriteCloser, logf func(string, ...any)) *session {
	s := &session{conn: conn, logf: logf, done: make(chan struct{}), w: bufio.NewWriter(conn)}
	s.run.init()
	s.state.reset()
	s.bps.init()
	return s
}

// serve reads and handles requests until the connection ends, then
// releases the target.
func (s *session) serve() {
	defer close(s.done)
	defer s.cleanup()
	r := bufio.NewReader(s.conn)
	for {
		content, err := dap.ReadBaseMessage(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF) {
				s.logf("closing the connection: unreadable message: %v", err)
			}
			return
		}
		if s.logMsg != nil {
			s.logMsg("<- %s", content)
		}
		msg, err := dap.DecodeProtocolMessage(content)
		if err != nil {
			var fieldErr *dap.DecodeProtocolMessageFieldError
			if errors.As(err, &fieldErr) {
				// A well-formed message we have no type for: an unknown
				// command gets an error response, the connection stays.
				s.sendUnknown(content, fieldErr)
				continue
			}
			s.logf("closing the connection: malformed message: %v", err)
			return
		}
		req, ok := msg.(dap.RequestMessage)
		if !ok {
			s.sendError(dap.Request{ProtocolMessage: dap.ProtocolMessage{Seq: msg.GetSeq()}}, errInternal,
				"Internal Error", fmt.Sprintf("only requests are accepted, got %T", msg), false)
			continue
		}
		s.dispatch(req)
		if _, ok := msg.(*dap.DisconnectRequest); ok {
			return
		}
	}
}

// sendUnknown answers a request whose command go-dap cannot decode.
func (s *session) sendUnknown(content []byte, fieldErr *dap.DecodeProtocolMessageFieldError) {
	var head struct {
		Seq     int    `json:"seq"`
		Type    string `json:"type"`
		Command string `json:"command"`
	}
	_ = json.Unmarshal(content, &head)
	if head.Type != "request" {
		// No type, or one a client does not send: answered as Delve
		// answers it, so that the client learns and does not wait.
		s.logf("answering a message that is not a request: %v", fieldErr)
		er := &dap.ErrorResponse{Response: dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"},
			RequestSeq: fieldErr.Seq, Message: "Internal Error"}}
		er.Body.Error = &dap.ErrorMessage{Id: errInternal, Format: "Internal Error: " + fieldErr.Error()}
		s.send(er)
		return
	}
	req := dap.Request{ProtocolMessage: dap.ProtocolMessage{Seq: head.Seq, Type: "request"}, Command: head.Command}
	s.sendError(req, errUnsupported, "Unsupported command", fmt.Sprintf("cannot process %q request", head.Command), false)
}

// dispatch handles one request. A handler that panics on a state we did
// not foresee answers with an internal error instead of taking the
// debugger, and the target, down with it.
func (s *session) dispatch(m dap.RequestMessage) {
	req := m.GetRequest()
	defer func() {
		if p := recover(); p != nil {
			s.logf("internal error handling %q: %v", req.Command, p)
			s.sendError(*req, errInternal, "Internal Error", fmt.Sprint(p), false)
		}
	}()
	// Requests answered in any state.
	switch r := m.(type) {
	case *dap.InitializeRequest:
		s.onInitialize(r)
		return
	case *dap.LaunchRequest:
		s.onLaunch(r)
		return
	case *dap.AttachRequest:
		s.onAttach(r)
		return
	case *dap.DisconnectRequest:
		s.onDisconnect(r)
		return
	case *dap.TerminateRequest:
		s.onTerminate(r)
		return
	case *dap.PauseRequest:
		s.onPause(r)
		return
	case *dap.RestartRequest:
		s.onRestart(r)
		return
	}
	if s.dbg == nil {
		s.sendError(*req, errNoDebuggee, "No debug session started", "Use launch or attach request first.", true)
		return
	}
	if s.run.isActive() {
		s.dispatchRunning(m)
		return
	}
	switch r := m.(type) {
	case *dap.ConfigurationDoneRequest:
		s.onConfigurationDone(r)
	case *dap.ContinueRequest:
		s.onContinue(r)
	case *dap.NextRequest:
		s.onStep(r.Request, r.Arguments.ThreadId, cmdNext, r.Arguments.Granularity)
	case *dap.StepInRequest:
		s.onStep(r.Request, r.Arguments.ThreadId, cmdStepIn, r.Arguments.Granularity)
	case *dap.StepOutRequest:
		s.onStep(r.Request, r.Arguments.ThreadId, cmdStepOut, r.Arguments.Granularity)
	case *dap.ReadMemoryRequest:
		s.onReadMemory(r)
	case *dap.DisassembleRequest:
		s.onDisassemble(r)
	case *dap.SetBreakpointsRequest:
		s.onSetBreakpoints(r)
	case *dap.SetFunctionBreakpointsRequest:
		s.onSetFunctionBreakpoints(r)
	case *dap.SetInstructionBreakpointsRequest:
		s.onSetInstructionBreakpoints(r)
	case *dap.DataBreakpointInfoRequest:
		s.onDataBreakpointInfo(r)
	case *dap.SetDataBreakpointsRequest:
		s.onSetDataBreakpoints(r)
	case *dap.WriteMemoryRequest:
		s.onWriteMemory(r)
	case *dap.SetExceptionBreakpointsRequest:
		s.onSetExceptionBreakpoints(r)
	case *dap.ExceptionInfoRequest:
		s.onExceptionInfo(r)
	case *dap.ThreadsRequest:
		s.onThreads(r)
	case *dap.StackTraceRequest:
		s.onStackTrace(r)
	case *dap.ScopesRequest:
		s.onScopes(r)
	case *dap.VariablesRequest:
		s.onVariables(r)
	case *dap.EvaluateRequest:
		s.onEvaluate(r)
	case *dap.SetVariableRequest:
		s.onSetVariable(r)
	default:
		s.sendError(*req, errUnsupported, "Unsupported command", fmt.Sprintf("cannot process %q request", req.Command), false)
	}
}

// dispatchRunning handles the requests that arrive while the target runs.
func (s *session) dispatchRunning(m dap.RequestMessage) {
	switch r := m.(type) {
	case *dap.ThreadsRequest:
		// VS Code asks for threads right after configurationDone, to have
		// an id to pause: a placeholder stands for the running program.
		s.send(&dap.ThreadsResponse{Response: s.response(r.Request),
			Body: dap.ThreadsResponseBody{Threads: []dap.Thread{{Id: -1, Name: "Current"}}}})
	case *dap.SetBreakpointsRequest:
		s.whileHalted(func() { s.onSetBreakpoints(r) })
	case *dap.SetFunctionBreakpointsRequest:
		s.whileHalted(func() { s.onSetFunctionBreakpoints(r) })
	case *dap.SetInstructionBreakpointsRequest:
		s.whileHalted(func() { s.onSetInstructionBreakpoints(r) })
	case *dap.SetExceptionBreakpointsRequest:
		s.whileHalted(func() { s.onSetExceptionBreakpoints(r) })
	case *dap.DataBreakpointInfoRequest, *dap.SetDataBreakpointsRequest:
		// Delve's refusal: a stack variable's address is only known stopped.
		req := m.GetRequest()
		s.sendError(*req, errSetBreakpoints, dataWhileRunning, dataWhileRunning, false)
	default:
		req := m.GetRequest()
		s.sendError(*req, errDebuggeeIsRunning, fmt.Sprintf("Unable to process `%s`", req.Command), "debuggee is running", false)
	}
}

// send writes one message; errors mean the client is gone, which the
// request loop notices on its next read.
func (s *session) send(m dap.Message) {
	switch v := m.(type) {
	case interface{ GetResponse() *dap.Response }:
		v.GetResponse().Seq = int(s.seq.Add(1))
	case interface{ GetEvent() *dap.Event }:
		v.GetEvent().Seq = int(s.seq.Add(1))
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.logMsg != nil {
		if b, err := json.Marshal(m); err == nil {
			s.logMsg("-> %s", b)
		}
	}
	if err := dap.WriteProtocolMessage(s.w, m); err == nil {
		s.w.Flush()
	}
}

// response is the successful response header for req.
func (s *session) response(req dap.Request) dap.Response {
	return dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, Command: req.Command, RequestSeq: req.Seq, Success: true}
}

// event is the header of an event.
func event(name string) dap.Event {
	return dap.Event{ProtocolMessage: dap.ProtocolMessage{Type: "event"}, Event: name}
}

// sendError answers req with an error; showUser asks the client to show
// it in a dialog rather than only in its log.
func (s *session) sendError(req dap.Request, id int, summary, details string, showUser bool) {
	er := &dap.ErrorResponse{Response: s.response(req)}
	er.Success = false
	er.Message = summary
	er.Body.Error = &dap.ErrorMessage{Id: id, Format: summary + ": " + details, ShowUser: showUser}
	s.send(er)
}

// console prints a line in the client's debug console.
func (s *session) console(msg string) {
	s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{Output: msg + "\n", Category: "console"}})
}

func (s *session) onInitialize(r *dap.InitializeRequest) {
	s.clientCaps = r.Arguments
	caps := dap.Capabilities{
		SupportsConfigurationDoneRequest:  true,
		SupportsConditionalBreakpoints:    true,
		SupportsHitConditionalBreakpoints: true,
		SupportsDelayedStackTraceLoading:  true,
		SupportsFunctionBreakpoints:       true,
		SupportsSetVariable:               true,
		SupportsEvaluateForHovers:         true,
		SupportsClipboardContext:          true,
		SupportsTerminateRequest:          true,
		SupportsReadMemoryRequest:         true,
		SupportsDisassembleRequest:        true,
		SupportsSteppingGranularity:       true,
		SupportsExceptionInfoRequest:      true,
		SupportsRestartRequest:            true,
		SupportsLogPoints:                 true,
		SupportsInstructionBreakpoints:    true,
		SupportsDataBreakpoints:           true,
		SupportsWriteMemoryRequest:        true,
		ExceptionBreakpointFilters:        exceptionFilters,
		// Announced when attaching, as Delve does: only then does the
		// choice between detaching and killing exist.
		SupportTerminateDebuggee: false,
	}
	s.send(&dap.InitializeResponse{Response: s.response(r.Request), Body: caps})
}
