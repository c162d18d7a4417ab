package dap

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/go-dap"
)

// restartArgs reads the new program arguments of a restart request:
// ok is set when its launch configuration has them.
func restartArgs(r *dap.RestartRequest) (args []string, ok bool, err error) {
	if len(r.Arguments) == 0 {
		return nil, false, nil
	}
	var in struct {
		Arguments struct {
			Request string          `json:"request"`
			Args    json.RawMessage `json:"args"`
		} `json:"arguments"`
	}
	if err := json.Unmarshal(r.Arguments, &in); err != nil {
		return nil, false, errors.New("unable to unmarshal launch args")
	}
	if in.Arguments.Request != "launch" || len(in.Arguments.Args) == 0 || string(in.Arguments.Args) == "null" {
		return nil, false, nil
	}
	if err := json.Unmarshal(in.Arguments.Args, &args); err != nil {
		return nil, false, errors.New("the 'args' attribute must be a list of strings")
	}
	return args, true, nil
}

// onRestart starts the launched program again, rebuilt in modes debug
// and test, with new arguments when the request's launch configuration
// has them. As with Delve the client then gets an initialized event and
// sets its breakpoints and exception filters again, then configurationDone
// runs the program (or stops on entry). A program tinydbg did not start
// cannot be restarted.
func (s *session) onRestart(r *dap.RestartRequest) {
	fail := func(summary, details string) {
		s.sendError(r.Request, errFailedToLaunch, summary, details, true)
	}
	switch {
	case s.dbg == nil:
		fail("Cannot restart: debugger is not running", "Debugger is not running")
		return
	case s.remote:
		s.restartRemote(r)
		return
	case s.attached || s.launched == nil:
		fail("Cannot restart", "cannot restart process tinydbg did not create")
		return
	}
	args := *s.launched
	if newArgs, ok, err := restartArgs(r); err != nil {
		fail("Cannot restart", err.Error())
		return
	} else if ok {
		args.Args = newArgs
	}
	// The old process goes quietly: its end is no news to the client.
	s.closing.Store(true)
	s.closeKernelLogs()
	s.dbg.Detach(true)
	s.run.wait()
	s.waitOutput(2 * time.Second)
	s.state.reset()
	s.bps.init()
	d, err := s.startProgram(&args)
	s.closing.Store(false)
	if err != nil {
		s.dbg, s.ended = nil, true
		fail("Failed to restart", err.Error())
		s.send(&dap.TerminatedEvent{Event: event("terminated")})
		return
	}
	s.dbg, s.launched = d, &args
	s.send(&dap.RestartResponse{Response: s.response(r.Request)})
	s.send(&dap.InitializedEvent{Event: event("initialized")})
}
