package dap

import (
	"encoding/json"
	"time"

	"github.com/google/go-dap"
)

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
	case s.attached || s.remote || s.launched == nil:
		fail("Cannot restart", "cannot restart process tinydbg did not create")
		return
	}
	args := *s.launched
	if len(r.Arguments) > 0 {
		var in struct {
			Arguments struct {
				Request string          `json:"request"`
				Args    json.RawMessage `json:"args"`
			} `json:"arguments"`
		}
		if err := json.Unmarshal(r.Arguments, &in); err != nil {
			fail("Cannot restart", "unable to unmarshal launch args")
			return
		}
		if in.Arguments.Request == "launch" && len(in.Arguments.Args) > 0 && string(in.Arguments.Args) != "null" {
			if err := json.Unmarshal(in.Arguments.Args, &args.Args); err != nil {
				fail("Cannot restart", "the 'args' attribute must be a list of strings")
				return
			}
		}
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
