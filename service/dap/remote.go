package dap

import (
	"fmt"
	"io"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/debugger"
)

// SharedConfig describes the debugger a headless server already runs,
// which DAP clients reach with an attach request in mode "remote" (that
// is how VS Code's Go extension debugs a `dlv exec --headless` server).
type SharedConfig struct {
	Debugger *debugger.Debugger
	// AcceptMulti: the server outlives its clients, so a client that
	// disconnects without terminating the debuggee leaves it as it is.
	AcceptMulti bool
	// Addr is the server's address, named in messages.
	Addr string
	// Log receives the session's diagnostics; nil: standard error.
	Log io.Writer
	// LogMessages, when set, is told every message (--log-output=dap).
	LogMessages func(format string, args ...any)
}

// ServeShared serves one DAP session on conn against cfg.Debugger until
// the client leaves. It reports whether the server must stop: a single
// client server stops with its client, a multi-client one only when the
// client terminated the debuggee. The target has been released as the
// client asked (killed or detached) when it reports true.
func ServeShared(conn io.ReadWriteCloser, cfg SharedConfig) (stopServer bool) {
	srv := NewServer(Config{Log: cfg.Log})
	sess := newSession(conn, srv.logf)
	sess.shared, sess.logMsg = &cfg, cfg.LogMessages
	sess.serve()
	return !cfg.AcceptMulti || sess.terminated
}

// attachRemote takes over the shared debugger, halting a running target
// so that the client can set its breakpoints; configurationDone resumes
// it unless stopOnEntry.
func (s *session) attachRemote(r *dap.AttachRequest, stopOnEntry bool, opts sessionOpts) {
	if s.shared == nil {
		s.sendError(r.Request, errFailedToAttach, "Failed to attach",
			"tinydbg dap debugs no process before an attach request: use mode \"local\" with a processId", true)
		return
	}
	d := s.shared.Debugger
	if err := haltAndWait(d, 5*time.Second); err != nil {
		s.sendError(r.Request, errFailedToAttach, "Failed to attach", err.Error(), true)
		return
	}
	s.dbg, s.attached, s.remote, s.stopOnEntry, s.opts = d, d.AttachPid() != 0, true, stopOnEntry, opts
	if s.shared.AcceptMulti || s.attached {
		// The client may leave the debuggee running or end it; a
		// launched program on a single-client server can only end.
		s.send(&dap.CapabilitiesEvent{Event: event("capabilities"),
			Body: dap.CapabilitiesEventBody{Capabilities: dap.Capabilities{SupportTerminateDebuggee: true}}})
	}
	s.send(&dap.InitializedEvent{Event: event("initialized")})
	s.send(&dap.AttachResponse{Response: s.response(r.Request)})
}

// haltAndWait stops a target another client (or --continue) runs.
func haltAndWait(d *debugger.Debugger, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for d.IsRunning() {
		d.Halt()
		if time.Now().After(deadline) {
			return fmt.Errorf("the target did not stop within %v", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// inProgress refuses a launch or local attach on a server that already
// debugs a program, pointing at the mode that works.
func (s *session) inProgress() string {
	addr := ""
	if s.shared != nil && s.shared.Addr != "" {
		addr = " at " + s.shared.Addr
	}
	return fmt.Sprintf("debug session already in progress%s - use remote mode to connect to a server with an active debug session", addr)
}

// disconnectRemote ends a client's session on a shared debugger. On a
// multi-client server, without terminateDebuggee, only the connection
// ends and the target stays as it is, halted or running; otherwise the
// target is released and the server stops.
func (s *session) disconnectRemote(r *dap.DisconnectRequest) {
	terminate := r.Arguments != nil && r.Arguments.TerminateDebuggee
	if s.shared.AcceptMulti && !terminate {
		status := "halted"
		if s.run.isActive() {
			status = "running"
		}
		s.console(fmt.Sprintf("Closing client session, but leaving multi-client DAP server at %s with debuggee %s", s.shared.Addr, status))
		s.ended = true // the server, not this client, releases the target
		s.closeKernelLogs()
		s.send(&dap.DisconnectResponse{Response: s.response(r.Request)})
		s.send(&dap.TerminatedEvent{Event: event("terminated")})
		return
	}
	s.terminated = true
	kill := !s.attached || terminate
	if err := s.release(kill); err != nil {
		s.sendError(r.Request, errDisconnect, "Error while disconnecting", err.Error(), false)
	} else {
		s.send(&dap.DisconnectResponse{Response: s.response(r.Request)})
	}
	s.send(&dap.TerminatedEvent{Event: event("terminated")})
}
