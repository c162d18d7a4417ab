package rpc2

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// methodTable maps "RPCServer.<Name>" to its handler. Methods Delve has
// and tinydbg lacks are absent, so they get an "unknown method" error.
func (s *Server) methodTable() map[string]handler {
	d := s.d
	m := map[string]handler{
		"SetApiVersion": syncH(func(in api.SetAPIVersionIn, _ *api.SetAPIVersionOut) error {
			if in.APIVersion != 2 {
				return fmt.Errorf("unknown API version %d: tinydbg speaks API v2 only", in.APIVersion)
			}
			return nil
		}),
		"GetVersion": syncH(func(_ api.GetVersionIn, out *api.GetVersionOut) error {
			out.DelveVersion = "tinydbg " + s.cfg.Version
			out.APIVersion = 2
			out.Backend = "native"
			out.TargetGoVersion = d.TargetGoVersion()
			return nil
		}),
		"IsMulticlient": syncH(func(_ IsMulticlientIn, out *IsMulticlientOut) error {
			out.IsMulticlient = s.cfg.AcceptMulti
			return nil
		}),
		"ProcessPid": syncH(func(_ ProcessPidIn, out *ProcessPidOut) error {
			out.Pid = d.ProcessPid()
			return nil
		}),
		"LastModified": syncH(func(_ LastModifiedIn, out *LastModifiedOut) error {
			out.Time = d.LastModified()
			return nil
		}),
		"AttachedToExistingProcess": syncH(func(_ AttachedToExistingProcessIn, out *AttachedToExistingProcessOut) error {
			out.Answer = d.AttachPid() != 0
			return nil
		}),
		// A core file is a recording to Delve's clients, as in Delve.
		"Recorded": syncH(func(_ RecordedIn, out *RecordedOut) error { out.Recorded = d.IsCore(); return nil }),
		"Detach":   syncH(func(in DetachIn, _ *DetachOut) error { return d.Detach(in.Kill) }),
		"CancelNext": syncH(func(_ CancelNextIn, _ *CancelNextOut) error {
			return d.CancelNext()
		}),
		"State": asyncH(func(c *callCtx, in StateIn, out *StateOut) error {
			c.setup()
			st, err := d.State(in.NonBlocking)
			out.State = st
			return err
		}),
		"Restart": asyncH(func(c *callCtx, in RestartIn, out *RestartOut) error {
			c.setup()
			if in.Position != "" || in.Rerecord {
				return errors.New("restarting from a position needs a recording, which tinydbg does not make")
			}
			var err error
			if in.Rebuild {
				out.DiscardedBreakpoints, err = d.Rebuild(in.ResetArgs, in.NewArgs)
				return err
			}
			out.DiscardedBreakpoints, err = d.Restart(in.ResetArgs, in.NewArgs)
			return err
		}),
		"Command": s.commandHandler(),
		"GetEvents": asyncH(func(c *callCtx, _ GetEventsIn, out *GetEventsOut) error {
			c.setup()
			select {
			case ev := <-s.events:
				out.Events = append(out.Events, ev)
			case <-c.conn.gone:
				return errors.New("client disconnected")
			case <-s.stopCh:
				return errors.New("server stopped")
			}
			for len(out.Events) < cap(s.events) {
				select {
				case ev := <-s.events:
					out.Events = append(out.Events, ev)
				default:
					return nil
				}
			}
			return nil
		}),

		"CreateBreakpoint": syncH(func(in CreateBreakpointIn, out *CreateBreakpointOut) error {
			if in.Suspended {
				return errors.New("suspended breakpoints are not supported by tinydbg")
			}
			bp, err := d.CreateBreakpoint(in.Breakpoint, in.LocExpr)
			if err != nil {
				return err
			}
			out.Breakpoint = *bp
			return nil
		}),
		"CreateWatchpoint": syncH(func(in CreateWatchpointIn, out *CreateWatchpointOut) error {
			var err error
			out.Breakpoint, err = d.CreateWatchpoint(in.Scope.GoroutineID, in.Scope.Frame, in.Expr, in.Type)
			return err
		}),
		"AmendBreakpoint": syncH(func(in AmendBreakpointIn, _ *AmendBreakpointOut) error {
			return d.AmendBreakpoint(in.Breakpoint)
		}),
		"GetBreakpoint": syncH(func(in GetBreakpointIn, out *GetBreakpointOut) error {
			bp, err := d.GetBreakpoint(in.Id, in.Name)
			if err != nil {
				return err
			}
			out.Breakpoint = *bp
			return nil
		}),
		"ListBreakpoints": syncH(func(_ ListBreakpointsIn, out *ListBreakpointsOut) error {
			var err error
			out.Breakpoints, err = d.Breakpoints()
			return err
		}),
		"ClearBreakpoint": syncH(func(in ClearBreakpointIn, out *ClearBreakpointOut) error {
			var err error
			out.Breakpoint, err = d.ClearBreakpoint(in.Id, in.Name)
			return err
		}),
		"ToggleBreakpoint": syncH(func(in ToggleBreakpointIn, out *ToggleBreakpointOut) error {
			var err error
			out.Breakpoint, err = d.ToggleBreakpoint(in.Id, in.Name)
			return err
		}),
		"FindLocation": syncH(func(in FindLocationIn, out *FindLocationOut) error {
			var err error
			out.Locations, err = d.FindLocation(in.Scope.GoroutineID, in.Scope.Frame, in.Loc)
			return err
		}),

		"ListThreads": syncH(func(_ ListThreadsIn, out *ListThreadsOut) error {
			var err error
			out.Threads, err = d.Threads()
			return err
		}),
		"GetThread": syncH(func(in GetThreadIn, out *GetThreadOut) error {
			ths, err := d.Threads()
			if err != nil {
				return err
			}
			for _, th := range ths {
				if th.ID == in.Id {
					out.Thread = th
					return nil
				}
			}
			return fmt.Errorf("no thread with id %d", in.Id)
		}),
		"ListGoroutines": syncH(func(in ListGoroutinesIn, out *ListGoroutinesOut) error {
			return listGoroutines(d, in, out)
		}),
		"Stacktrace": syncH(func(in StacktraceIn, out *StacktraceOut) error {
			cfg := in.Cfg
			if cfg == nil && in.Full {
				cfg = defaultLoadConfig()
			}
			var err error
			if in.Defers || in.Opts&api.StacktraceReadDefers != 0 {
				out.Locations, err = d.StacktraceDefers(in.Id, in.Depth, in.Skip, cfg)
				return err
			}
			out.Locations, err = d.Stacktrace(in.Id, in.Depth, in.Skip, cfg)
			return err
		}),
		"ListLocalVars": syncH(func(in ListLocalVarsIn, out *ListLocalVarsOut) error {
			var err error
			if in.Scope.DeferredCall > 0 {
				out.Variables, err = d.DeferredVars(in.Scope.GoroutineID, in.Scope.Frame, in.Scope.DeferredCall, in.Cfg, false)
				return err
			}
			out.Variables, err = d.LocalVariables(in.Scope.GoroutineID, in.Scope.Frame, in.Cfg)
			return err
		}),
		"ListFunctionArgs": syncH(func(in ListFunctionArgsIn, out *ListFunctionArgsOut) error {
			var err error
			if in.Scope.DeferredCall > 0 {
				out.Args, err = d.DeferredVars(in.Scope.GoroutineID, in.Scope.Frame, in.Scope.DeferredCall, in.Cfg, true)
				return err
			}
			out.Args, err = d.FunctionArguments(in.Scope.GoroutineID, in.Scope.Frame, in.Cfg)
			return err
		}),
		"ListPackageVars": syncH(func(in ListPackageVarsIn, out *ListPackageVarsOut) error {
			var err error
			out.Variables, err = d.PackageVariables(in.Filter, in.Cfg)
			return err
		}),
		"Eval": syncH(func(in EvalIn, out *EvalOut) error {
			cfg := in.Cfg
			if cfg == nil {
				cfg = defaultLoadConfig()
			}
			var err error
			if in.Scope.DeferredCall > 0 {
				out.Variable, err = d.DeferredEval(in.Scope.GoroutineID, in.Scope.Frame, in.Scope.DeferredCall, in.Expr, *cfg)
				return err
			}
			out.Variable, err = d.Eval(in.Scope.GoroutineID, in.Scope.Frame, in.Expr, *cfg)
			return err
		}),
		"Set": syncH(func(in SetIn, _ *SetOut) error {
			return d.Set(in.Scope.GoroutineID, in.Scope.Frame, in.Symbol, in.Value)
		}),
		"ListRegisters": syncH(func(in ListRegistersIn, out *ListRegistersOut) error {
			var regs api.Registers
			var err error
			if in.Scope != nil {
				regs, err = d.ScopeRegisters(in.Scope.GoroutineID, in.Scope.Frame, in.IncludeFp)
			} else {
				regs, err = d.Registers(in.ThreadID)
			}
			if err != nil {
				return err
			}
			out.Regs, out.Registers = regs, debugger.FormatRegisters(regs)
			return nil
		}),
		"ExamineMemory": syncH(func(in ExamineMemoryIn, out *ExaminedMemoryOut) error {
			var err error
			out.Mem, err = d.ExamineMemory(in.Address, in.Length)
			out.IsLittleEndian = true
			return err
		}),
		"Disassemble": syncH(func(in DisassembleIn, out *DisassembleOut) error {
			var err error
			out.Disassemble, err = d.Disassemble(in.StartPC, in.EndPC, in.Flavour)
			return err
		}),
		"ListSources": syncH(func(in ListSourcesIn, out *ListSourcesOut) error {
			var err error
			out.Sources, err = d.Sources(in.Filter)
			return err
		}),
		"ListFunctions": syncH(func(in ListFunctionsIn, out *ListFunctionsOut) error {
			if in.FollowCalls > 0 {
				return errors.New("following calls when listing functions is not supported by tinydbg")
			}
			var err error
			out.Funcs, err = d.Functions(in.Filter)
			return err
		}),
		"FunctionReturnLocations": syncH(func(in FunctionReturnLocationsIn, out *FunctionReturnLocationsOut) error {
			var err error
			out.Addrs, err = d.FunctionReturnLocations(in.FnName)
			return err
		}),
		"ListTypes": syncH(func(in ListTypesIn, out *ListTypesOut) error {
			var err error
			out.Types, err = d.Types(in.Filter)
			return err
		}),
		"ListDynamicLibraries": syncH(func(_ ListDynamicLibrariesIn, out *ListDynamicLibrariesOut) error {
			libs, err := d.Libraries()
			out.List = make([]Image, 0, len(libs))
			for _, l := range libs {
				out.List = append(out.List, Image{Path: l.Path, Address: l.Address})
			}
			return err
		}),
		"ListPackagesBuildInfo": syncH(func(in ListPackagesBuildInfoIn, out *ListPackagesBuildInfoOut) error {
			var err error
			out.List, err = packagesBuildInfo(d, in)
			return err
		}),
	}
	for name, h := range dumpMethods(d) {
		m[name] = h
	}
	for name, h := range kernelTraceMethods(d) {
		m[name] = h
	}
	for name, h := range targetMethods(d) {
		m[name] = h
	}
	full := make(map[string]handler, len(m))
	for name, h := range m {
		full["RPCServer."+name] = h
	}
	return full
}

// defaultLoadConfig is what Delve loads when a client gives no
// configuration; a fresh copy, so that no request can change it.
func defaultLoadConfig() *api.LoadConfig {
	c := api.DefaultLoadConfig
	return &c
}

// commandHandler runs Command. Its parameter is the DebuggerCommand itself.
func (s *Server) commandHandler() handler {
	return asyncH(func(c *callCtx, cmd api.DebuggerCommand, out *CommandOut) error {
		var events func(api.Event)
		if cmd.WithEvents && cmd.Resumes() {
			s.event(api.Event{Kind: api.EventResumed})
			defer s.event(api.Event{Kind: api.EventStopped})
			events = s.event
		}
		ready := make(chan struct{})
		go func() {
			select {
			case <-ready:
			case <-c.conn.gone:
			}
			c.setup()
		}()
		st, err := s.d.CommandEvents(cmd, ready, events)
		if err != nil {
			return err
		}
		out.State = *st
		return nil
	})
}

// event queues an event for GetEvents, dropping it when nobody reads them.
func (s *Server) event(ev api.Event) {
	select {
	case s.events <- ev:
	default:
	}
}

// listGoroutines pages, filters and groups goroutines as Delve's
// ListGoroutines does.
func listGoroutines(d *debugger.Debugger, in ListGoroutinesIn, out *ListGoroutinesOut) error {
	var gl *debugger.GoroutineList
	var err error
	if i := slices.IndexFunc(in.Filters, func(f api.ListGoroutinesFilter) bool { return f.Kind == api.GoroutineWaitingOnChannel }); i >= 0 {
		// The channel's wait queues are the list to page, as in Delve.
		f := in.Filters[i]
		switch {
		case f.Negated:
			return errors.New("channel filter can not be negated")
		case in.EvalScope == nil:
			return errors.New("channel filter without eval scope")
		}
		rest := slices.Delete(slices.Clone(in.Filters), i, i+1)
		gl, err = d.ChanGoroutines(in.EvalScope.GoroutineID, in.EvalScope.Frame, f.Arg, in.Start, in.Count, rest, in.GoroutineGroupingOptions)
	} else {
		gl, err = d.ListGoroutines(in.Start, in.Count, in.Filters, in.GoroutineGroupingOptions)
	}
	if err != nil {
		return err
	}
	out.Goroutines, out.Groups, out.Nextg, out.TooManyGroups = gl.Goroutines, gl.Groups, gl.Next, gl.TooManyGroups
	return nil
}

// packagesBuildInfo serves ListPackagesBuildInfo; an empty list is [] on
// the wire, as in Delve.
func packagesBuildInfo(d *debugger.Debugger, in ListPackagesBuildInfoIn) ([]PackageBuildInfo, error) {
	var pattern *regexp.Regexp
	if in.Filter != "" {
		p, err := regexp.Compile(in.Filter)
		if err != nil {
			return nil, fmt.Errorf("invalid Filter pattern: %w", err)
		}
		pattern = p
	}
	pkgs, err := d.Packages(in.IncludeFiles)
	if err != nil {
		return nil, err
	}
	list := make([]PackageBuildInfo, 0, len(pkgs))
	for _, p := range pkgs {
		if pattern != nil && !pattern.MatchString(p.ImportPath) {
			continue
		}
		list = append(list, PackageBuildInfo{ImportPath: p.ImportPath, DirectoryPath: p.DirectoryPath, Files: p.Files})
	}
	return list, nil
}
