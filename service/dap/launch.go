package dap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/gobuild"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// launchArgs are the launch attributes of VS Code's Go extension that
// tinydbg honours; names and defaults are Delve's.
type launchArgs struct {
	// Mode is "debug" (build the package at Program, the default),
	// "test" (build its tests), "exec" (run the binary at Program) or
	// "core" (examine CoreFilePath, a core of the binary at Program);
	// "replay" is refused with what rr can do here (see ReplayUnsupported).
	Mode       string             `json:"mode"`
	Program    string             `json:"program"`
	Args       []string           `json:"args"`
	Cwd        string             `json:"cwd"`
	Env        map[string]*string `json:"env"`
	BuildFlags json.RawMessage    `json:"buildFlags"` // a string or a list of strings
	Output     string             `json:"output"`
	NoDebug    bool               `json:"noDebug"`
	// CoreFilePath is the core file of mode "core".
	CoreFilePath string `json:"coreFilePath"`
	commonArgs
}

// attachArgs are the attach attributes tinydbg honours.
type attachArgs struct {
	// Mode is "local" (attach to ProcessID, the default); "remote" needs
	// a server that already debugs a process, which tinydbg dap is not.
	Mode      string `json:"mode"`
	ProcessID int    `json:"processId"`
	commonArgs
}

func (s *session) onLaunch(r *dap.LaunchRequest) {
	fail := func(format string, args ...any) {
		s.sendError(r.Request, errFailedToLaunch, "Failed to launch", fmt.Sprintf(format, args...), true)
	}
	if s.dbg != nil {
		fail("debug session already in progress")
		return
	}
	if s.shared != nil {
		fail("%s", s.inProgress())
		return
	}
	args := launchArgs{Mode: "debug"}
	if err := decodeArgs(r.Arguments, &args); err != nil {
		fail("invalid debug configuration - %v", err)
		return
	}
	if args.NoDebug {
		fail("noDebug mode is not supported by tinydbg")
		return
	}
	opts, err := args.check()
	if err != nil {
		fail("invalid debug configuration - %v", err)
		return
	}
	switch args.Mode {
	case "", "debug", "test", "exec", "core":
	case "replay":
		fail("%v", ReplayUnsupported())
		return
	default:
		fail("invalid debug configuration - unsupported 'mode' attribute %q", args.Mode)
		return
	}
	if args.Program == "" {
		fail("The program attribute is missing in debug configuration.")
		return
	}
	if args.Mode == "core" {
		s.launchCore(r, args, opts, fail)
		return
	}
	if _, err := parseBuildFlags(args.BuildFlags); err != nil {
		fail("invalid debug configuration - %v", err)
		return
	}
	d, err := s.startProgram(&args)
	if err != nil {
		fail("%v", err)
		return
	}
	s.dbg, s.stopOnEntry, s.opts, s.launched = d, args.StopOnEntry, opts, &args
	s.send(&dap.InitializedEvent{Event: event("initialized")})
	s.send(&dap.LaunchResponse{Response: s.response(r.Request)})
}

// startProgram builds the program of args (modes debug and test) and
// starts it with its output forwarded, announcing the process as Delve
// does; a restart calls it again.
func (s *session) startProgram(args *launchArgs) (*debugger.Debugger, error) {
	// Delve applies env with os.Setenv, which leaks into the server and
	// every later session; here it goes to the build and the target only.
	env := launchEnv(os.Environ(), args.Env)
	path, cwd := args.Program, args.Cwd
	if args.Mode != "exec" {
		flags, err := parseBuildFlags(args.BuildFlags)
		if err != nil {
			return nil, err
		}
		out, cleanup, err := buildProgram(args.Program, args.Mode == "test", args.Output, flags, env)
		if err != nil {
			return nil, fmt.Errorf("Build error: %w", err)
		}
		s.cleanups = append(s.cleanups, cleanup)
		path = out
		if args.Mode == "test" && cwd == "" {
			// go test runs tests in their package directory.
			cwd = programDir(args.Program)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg := debugger.Config{Path: abs, Args: args.Args, WorkingDir: cwd, Env: env, DisableASLR: s.disableASLR}
	pipes, err := s.outputPipes(&cfg)
	if err != nil {
		return nil, err
	}
	d, err := debugger.New(cfg)
	pipes.started()
	if err != nil {
		pipes.abandon()
		return nil, err
	}
	if err := s.vetGoVersion(d); err != nil {
		d.Detach(true)
		pipes.abandon()
		return nil, err
	}
	// The started process, as Delve announces it: clients show its pid.
	s.send(&dap.ProcessEvent{Event: event("process"), Body: dap.ProcessEventBody{
		Name: strings.Join(append([]string{abs}, args.Args...), " "), SystemProcessId: d.ProcessPid(),
		IsLocalProcess: true, StartMethod: "launch"}})
	if args.FollowExec {
		// As in Delve, a failure is told and the session goes on.
		if err := d.FollowExec(true, args.FollowExecRegex); err != nil {
			s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
				Output: fmt.Sprintf("Failed to enable follow exec: %v\n", err), Category: "important"}})
		}
	}
	pipes.pump(s)
	return d, nil
}

// spawned announces a child the program exec'd (with follow-exec on) as
// Delve does, with a process event: every child, followed or not.
func (s *session) spawned(ev api.Event) {
	if ev.Kind != api.EventProcessSpawned || ev.ProcessSpawnedEventDetails == nil {
		return
	}
	s.send(&dap.ProcessEvent{Event: event("process"), Body: dap.ProcessEventBody{
		Name: ev.Cmdline, SystemProcessId: ev.PID, IsLocalProcess: true}})
}

// launchCore opens a core file: nothing is built and nothing runs, so
// there is no output to pump; the continue after configurationDone is
// refused with the core backend's error, as in Delve.
func (s *session) launchCore(r *dap.LaunchRequest, args launchArgs, opts sessionOpts, fail func(string, ...any)) {
	if args.CoreFilePath == "" {
		fail("The 'coreFilePath' attribute is missing in debug configuration.")
		return
	}
	abs, err := filepath.Abs(args.Program)
	if err != nil {
		fail("%v", err)
		return
	}
	d, err := debugger.New(debugger.Config{Path: abs, CoreFile: args.CoreFilePath})
	if err != nil {
		fail("%v", err)
		return
	}
	s.dbg, s.stopOnEntry, s.opts = d, args.StopOnEntry, opts
	s.send(&dap.InitializedEvent{Event: event("initialized")})
	s.send(&dap.LaunchResponse{Response: s.response(r.Request)})
}

func (s *session) onAttach(r *dap.AttachRequest) {
	fail := func(format string, args ...any) {
		s.sendError(r.Request, errFailedToAttach, "Failed to attach", fmt.Sprintf(format, args...), true)
	}
	if s.dbg != nil {
		fail("debug session already in progress")
		return
	}
	args := attachArgs{Mode: "local"}
	if err := decodeArgs(r.Arguments, &args); err != nil {
		fail("invalid debug configuration - %v", err)
		return
	}
	if args.FollowExec {
		// Told before anything else, whatever the mode, as in Delve.
		s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
			Output: "Follow exec not supported in attach request yet.", Category: "important"}})
	}
	opts, err := args.check()
	if err != nil {
		fail("invalid debug configuration - %v", err)
		return
	}
	switch args.Mode {
	case "", "local":
		if s.shared != nil {
			fail("%s", s.inProgress())
			return
		}
	case "remote":
		s.attachRemote(r, args.StopOnEntry, opts)
		return
	default:
		fail("invalid debug configuration - unsupported 'mode' attribute %q", args.Mode)
		return
	}
	if args.ProcessID <= 0 {
		fail("The 'processId' attribute is missing in debug configuration")
		return
	}
	d, err := debugger.New(debugger.Config{AttachPid: args.ProcessID})
	if err != nil {
		fail("%v", err)
		return
	}
	if err := s.vetGoVersion(d); err != nil {
		d.Detach(false)
		fail("%v", err)
		return
	}
	s.dbg, s.attached, s.stopOnEntry, s.opts = d, true, args.StopOnEntry, opts
	// Detaching and killing differ only for a process we attached to, so
	// the client learns it may offer the choice now.
	s.send(&dap.CapabilitiesEvent{Event: event("capabilities"),
		Body: dap.CapabilitiesEventBody{Capabilities: dap.Capabilities{SupportTerminateDebuggee: true}}})
	s.send(&dap.InitializedEvent{Event: event("initialized")})
	s.send(&dap.AttachResponse{Response: s.response(r.Request)})
}

func (s *session) onConfigurationDone(r *dap.ConfigurationDoneRequest) {
	if s.stopOnEntry {
		s.send(&dap.StoppedEvent{Event: event("stopped"),
			Body: dap.StoppedEventBody{Reason: "entry", ThreadId: 1, AllThreadsStopped: true}})
	}
	s.send(&dap.ConfigurationDoneResponse{Response: s.response(r.Request)})
	if !s.stopOnEntry {
		s.resume(cmdContinue)
	}
}

func (s *session) onDisconnect(r *dap.DisconnectRequest) {
	if s.remote {
		s.disconnectRemote(r)
		return
	}
	kill := !s.attached || (r.Arguments != nil && r.Arguments.TerminateDebuggee)
	if err := s.release(kill); err != nil {
		s.sendError(r.Request, errDisconnect, "Error while disconnecting", err.Error(), false)
	} else {
		s.send(&dap.DisconnectResponse{Response: s.response(r.Request)})
	}
	s.send(&dap.TerminatedEvent{Event: event("terminated")})
}

// onTerminate ends the debuggee, attached or launched; the client
// disconnects afterwards.
func (s *session) onTerminate(r *dap.TerminateRequest) {
	s.terminated = true
	if err := s.release(true); err != nil {
		s.sendError(r.Request, errDisconnect, "Error while terminating", err.Error(), false)
		return
	}
	s.send(&dap.TerminateResponse{Response: s.response(r.Request)})
	s.send(&dap.TerminatedEvent{Event: event("terminated")})
}

// release kills or detaches from the target, once, interrupting a
// running command; the run goroutine has ended when it returns.
func (s *session) release(kill bool) error {
	if s.dbg == nil || s.ended {
		return nil
	}
	s.ended = true
	s.closing.Store(true)
	if kill {
		s.console("Detaching and terminating target process")
	} else {
		s.console("Detaching without terminating target process")
	}
	s.closeKernelLogs()
	err := s.dbg.Detach(kill)
	s.run.wait()
	if err != nil && isExited(err) {
		err = nil
	}
	return err
}

// vetGoVersion applies --check-go-version to the program d debugs.
func (s *session) vetGoVersion(d *debugger.Debugger) error {
	if s.checkGo == nil {
		return nil
	}
	return s.checkGo(d.TargetGoVersion())
}

// isExited recognizes the errors that only say the target is gone.
func isExited(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "exited") || strings.Contains(msg, "no such process")
}

// cleanup leaves the target as the session's end requires (a launched
// program is killed, an attached one keeps running) and closes conn.
func (s *session) cleanup() {
	if s.shared != nil && s.shared.AcceptMulti && !s.terminated {
		// A multi-client server keeps its target for the next client.
		s.ended = true
	}
	if err := s.release(!s.attached); err != nil {
		s.logf("releasing the target: %v", err)
	}
	s.waitOutput(2 * time.Second)
	for _, c := range s.cleanups {
		c()
	}
	s.conn.Close()
}

// targetPipes carries the target's stdout and stderr to the client as
// output events.
type targetPipes struct {
	rOut, wOut, rErr, wErr *os.File
}

// outputPipes makes the pipes and sets them in cfg.
func (s *session) outputPipes(cfg *debugger.Config) (*targetPipes, error) {
	rOut, wOut, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating the stdout pipe: %w", err)
	}
	rErr, wErr, err := os.Pipe()
	if err != nil {
		rOut.Close()
		wOut.Close()
		return nil, fmt.Errorf("creating the stderr pipe: %w", err)
	}
	cfg.Stdout, cfg.Stderr = wOut, wErr
	return &targetPipes{rOut, wOut, rErr, wErr}, nil
}

// started closes our copies of the write ends: the target has its own,
// and the readers see EOF when the target's are gone.
func (p *targetPipes) started() {
	p.wOut.Close()
	p.wErr.Close()
}

// abandon closes the read ends of a launch that failed.
func (p *targetPipes) abandon() {
	p.rOut.Close()
	p.rErr.Close()
}

// pump forwards both pipes until EOF.
func (p *targetPipes) pump(s *session) {
	for _, f := range []struct {
		r   *os.File
		cat string
	}{{p.rOut, "stdout"}, {p.rErr, "stderr"}} {
		s.output.Add(1)
		go func() {
			defer s.output.Done()
			defer f.r.Close()
			buf := make([]byte, 4096)
			for {
				n, err := f.r.Read(buf)
				if n > 0 {
					s.send(&dap.OutputEvent{Event: event("output"),
						Body: dap.OutputEventBody{Output: string(buf[:n]), Category: f.cat}})
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// waitOutput waits for the target's output to be forwarded; a child the
// target left running may hold the pipes open, hence the limit.
func (s *session) waitOutput(limit time.Duration) {
	done := make(chan struct{})
	go func() {
		s.output.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// parseBuildFlags accepts buildFlags as one string (split like a shell
// would for simple quoting) or as a list.
func parseBuildFlags(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, errors.New("'buildFlags' must be a string or a list of strings")
	}
	return gobuild.SplitFlags(str)
}

// launchEnv is base with the launch configuration's changes applied: a
// value sets the variable, null unsets it. No changes give nil, which
// keeps the inherited environment.
func launchEnv(base []string, changes map[string]*string) []string {
	if len(changes) == 0 {
		return nil
	}
	env := make([]string, 0, len(base)+len(changes))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, changed := changes[name]; !changed {
			env = append(env, kv)
		}
	}
	// Sorted, so that the target sees the same environment every launch.
	names := make([]string, 0, len(changes))
	for name := range changes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := changes[name]; v != nil {
			env = append(env, name+"="+*v)
		}
	}
	return env
}
