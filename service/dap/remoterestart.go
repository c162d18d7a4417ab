package dap

import (
	"github.com/google/go-dap"
)

// restartRemote restarts the target of the headless server a client
// attached to in mode "remote", as dlv does there: the request is
// acknowledged at once (VS Code waits for nothing else), an error follows
// it when the restart fails, and a program the server did not start is
// not restarted. The server's debugger keeps its breakpoints across the
// restart; the client sets them again after the initialized event.
func (s *session) restartRemote(r *dap.RestartRequest) {
	s.send(&dap.RestartResponse{Response: s.response(r.Request)})
	if s.dbg.AttachPid() != 0 {
		s.sendError(r.Request, errFailedToLaunch, "Cannot restart", "cannot restart process tinydbg did not create", true)
		return
	}
	args, reset, err := restartArgs(r)
	if err != nil {
		s.sendError(r.Request, errFailedToLaunch, "Cannot restart", err.Error(), true)
		return
	}
	// The old process's end is no news to the client.
	s.closing.Store(true)
	s.closeKernelLogs()
	if s.run.isActive() {
		s.dbg.Halt()
	}
	s.run.wait()
	_, err = s.dbg.Restart(reset, args)
	s.closing.Store(false)
	s.state.reset()
	if err != nil {
		s.sendError(r.Request, errFailedToLaunch, "Failed to restart", err.Error(), true)
		s.send(&dap.TerminatedEvent{Event: event("terminated")})
		return
	}
	s.syncKernelLogs()
	s.send(&dap.InitializedEvent{Event: event("initialized")})
}
