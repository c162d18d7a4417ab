package compat

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/dap/daptest"
	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// launchTo launches bin (mode exec) with extra attributes, sets a
// breakpoint at line of src and runs to it; it returns the stop's thread
// and pc.
func launchTo(t *testing.T, c *daptest.Client, bin, src string, line int, extra map[string]any) (int, string) {
	t.Helper()
	c.InitializeRequest()
	c.CheckInitializeResponse(t, nextMessage(t, c))
	args := map[string]any{"request": "launch", "mode": "exec", "program": bin}
	for k, v := range extra {
		args[k] = v
	}
	c.LaunchRequestWithArgs(args)
	for m := nextMessage(t, c); ; m = nextMessage(t, c) {
		if _, ok := m.(*dap.LaunchResponse); ok {
			break
		}
		switch m.(type) {
		case *dap.ProcessEvent, *dap.InitializedEvent:
		default:
			t.Fatalf("launch: %#v", m)
		}
	}
	return runToLine(t, c, src, line, true)
}

// runToLine sets the one breakpoint at line, sends configurationDone (or
// continue on thread 1) and returns the stop's thread and pc.
func runToLine(t *testing.T, c *daptest.Client, src string, line int, configure bool) (int, string) {
	t.Helper()
	c.SetBreakpointsRequest(src, []int{line})
	if bps := c.CheckSetBreakpointsResponse(t, nextMessage(t, c)).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("breakpoints %+v", bps)
	}
	if configure {
		c.ConfigurationDoneRequest()
		if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
			t.Fatalf("configurationDone: %#v", m)
		}
	}
	stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
	if stop.Reason != "breakpoint" {
		t.Fatalf("stopped %+v, want at the breakpoint at line %d", stop, line)
	}
	c.StackTraceRequest(stop.ThreadId, 0, 1)
	top := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0]
	if top.Line != line {
		t.Fatalf("stopped at %s:%d, want line %d", top.Name, top.Line, line)
	}
	return stop.ThreadId, top.InstructionPointerReference
}

// TestDAPBothServers runs, with Delve's DAP test client and the same
// steps on tinydbg dap and dlv dap, what the other sessions leave out:
// stepping by instruction, the fatal-throw exception with exceptionInfo,
// restart of a launched program, unknown launch attributes (ignored), a
// message without a type (answered with an error) and mode "replay"
// (refused; tinydbg says what rr can do here).
func TestDAPBothServers(t *testing.T) {
	testenv.RequirePtrace(t)
	basic := fixture.Build(t, "basic", fixture.Flavour{})
	basicSrc := fixture.Source("basic")
	unlock := buildUnlock(t)
	for _, d := range dapDebuggers(t) {
		t.Run(d.name+"/step-instruction", func(t *testing.T) {
			c := dapClient(t, d.path)
			thread, pc := launchTo(t, c, basic, basicSrc, 14, nil)
			c.DisassembleRequest(pc, 0, 2)
			insts := c.CheckDisassembleResponse(t, nextMessage(t, c)).Body.Instructions
			if len(insts) != 2 || insts[0].Address != pc {
				t.Fatalf("disassemble at %s: %+v", pc, insts)
			}
			c.NextInstructionRequest(thread)
			if m, ok := nextMessage(t, c).(*dap.NextResponse); !ok || !m.Success {
				t.Fatalf("next instruction: %#v", m)
			}
			if stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body; stop.Reason != "step" || stop.ThreadId != thread {
				t.Fatalf("stopped %+v", stop)
			}
			c.StackTraceRequest(thread, 0, 1)
			top := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0]
			// One instruction on: the second of the disassembly, still in
			// the line (sum := a + b is straight-line code).
			if top.InstructionPointerReference != insts[1].Address || top.Name != "main.add" || top.Line != 14 {
				t.Fatalf("after one instruction at %s %s:%d, want %s", top.InstructionPointerReference, top.Name, top.Line, insts[1].Address)
			}
			c.DisconnectRequestWithKillOption(true)
		})
		t.Run(d.name+"/fatal-throw", func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": unlock})
			for m := nextMessage(t, c); ; m = nextMessage(t, c) {
				if _, ok := m.(*dap.LaunchResponse); ok {
					break
				}
			}
			c.SetExceptionBreakpointsRequest([]string{"runtime-fatal-throw"})
			c.CheckSetExceptionBreakpointsResponse(t, nextMessage(t, c))
			c.ConfigurationDoneRequest()
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			const text = `"sync: unlock of unlocked mutex"`
			if stop.Reason != "exception" || stop.Description != "fatal error" || stop.Text != text {
				t.Fatalf("stopped %+v", stop)
			}
			c.ExceptionInfoRequest(stop.ThreadId)
			m := nextMessage(t, c)
			if er, ok := m.(*dap.ErrorResponse); ok {
				t.Fatalf("exceptionInfo of thread %d: %s", stop.ThreadId, er.Body.Error.Format)
			}
			if info := c.CheckExceptionInfoResponse(t, m).Body; info.ExceptionId != "fatal error" || info.Description != text {
				t.Fatalf("exceptionInfo %+v", info)
			}
			c.DisconnectRequestWithKillOption(true)
		})
		t.Run(d.name+"/restart-and-unknown-attributes", func(t *testing.T) {
			c := dapClient(t, d.path)
			// What vscode-go and editors send beside the attributes a
			// server reads; a server must ignore them.
			thread, _ := launchTo(t, c, basic, basicSrc, 14, map[string]any{
				"name": "Launch file", "type": "go", "__configurationTarget": 6, "dlvToolPath": "/nonexistent/dlv",
				"futureAttribute": map[string]any{"nested": []int{1, 2}}})
			// rebuild false: dlv refuses to rebuild (the default) in mode
			// exec, where tinydbg has nothing to rebuild either.
			c.RestartRequest(map[string]any{"arguments": map[string]any{"request": "launch", "mode": "exec", "program": basic, "rebuild": false}})
			for restarted := false; !restarted; {
				switch m := nextMessage(t, c).(type) {
				case *dap.RestartResponse:
					if !m.Success {
						t.Fatalf("restart: %#v", m)
					}
				case *dap.InitializedEvent:
					restarted = true
				case *dap.ErrorResponse:
					t.Fatalf("restart: %s", m.Body.Error.Format)
				case *dap.StoppedEvent, *dap.TerminatedEvent:
					t.Fatalf("restart: %#v", m)
				}
			}
			if th, _ := runToLine(t, c, basicSrc, 14, true); th != thread {
				t.Errorf("after restart stopped on goroutine %d, want %d", th, thread)
			}
			c.DisconnectRequestWithKillOption(true)
		})
		t.Run(d.name+"/message-without-type", func(t *testing.T) {
			port := startServer(t, d.path, "dap", "--listen=127.0.0.1:0").port
			conn, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := dap.WriteBaseMessage(conn, []byte(`{"seq":7,"command":"initialize","arguments":{}}`)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			m, err := dap.ReadProtocolMessage(bufio.NewReader(conn))
			if err != nil {
				t.Fatalf("no answer to a message without type: %v", err)
			}
			er, ok := m.(*dap.ErrorResponse)
			if !ok || er.Success || er.RequestSeq != 7 || er.Body.Error == nil ||
				er.Body.Error.Format != "Internal Error: ProtocolMessage type '' is not supported (seq: 7)" {
				t.Fatalf("answer %#v", m)
			}
		})
		t.Run(d.name+"/replay", func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			trace := t.TempDir()
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "replay", "traceDirPath": trace})
			er, ok := nextMessage(t, c).(*dap.ErrorResponse)
			if !ok || er.Body.Error == nil {
				t.Fatalf("replay launch not refused: %#v", er)
			}
			msg := er.Body.Error.Format
			t.Logf("%s: %s", d.name, msg)
			if d.name == "tinydbg" && (!strings.HasPrefix(msg, "Failed to launch: replay is not supported: tinydbg has no rr backend; ") ||
				strings.Contains(msg, "\n")) {
				t.Fatalf("replay refused with %q", msg)
			}
		})
	}
}

// buildUnlock builds a program that unlocks an unlocked mutex: a fatal
// throw on the main goroutine (a deadlock's throw has no goroutine, and
// dlv cannot answer exceptionInfo for it).
func buildUnlock(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"main.go": "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar mu sync.Mutex\n\tmu.Unlock()\n}\n",
		"go.mod":  "module unlock\n\ngo 1.22\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "unlock")
	build := exec.Command("go", "build", "-gcflags=all=-N -l", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the unlock program: %v\n%s", err, out)
	}
	return bin
}

// TestDAPLaunchAttributes launches, with Delve's DAP test client, a
// package in mode debug with every attribute that changes what runs: cwd,
// env, buildFlags (a build tag), args, output (where the binary goes) and
// stopOnEntry; the program prints what it got, the same on tinydbg and dlv.
func TestDAPLaunchAttributes(t *testing.T) {
	testenv.RequirePtrace(t)
	pkg := t.TempDir()
	files := map[string]string{
		"go.mod": "module attrs\n\ngo 1.22\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\twd, _ := os.Getwd()\n" +
			"\tfmt.Printf(\"cwd=%s env=%s tag=%s args=%q\\n\", wd, os.Getenv(\"D12_VAR\"), tag, os.Args[1:])\n}\n",
		"blue.go":  "//go:build blue\n\npackage main\n\nconst tag = \"blue\"\n",
		"other.go": "//go:build !blue\n\npackage main\n\nconst tag = \"none\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range dapDebuggers(t) {
		t.Run(d.name, func(t *testing.T) {
			cwd, out := t.TempDir(), filepath.Join(t.TempDir(), "attrs_bin")
			s := startServerIn(t, pkg, d.path, "dap", "--listen=127.0.0.1:0")
			c := daptest.NewClient("127.0.0.1:" + s.port)
			defer c.Close()
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "debug", "program": pkg, "cwd": cwd,
				"env": map[string]any{"D12_VAR": "v1"}, "buildFlags": "-tags=blue", "args": []string{"a", "b c"},
				"output": out, "stopOnEntry": true, "outputMode": "remote"})
			for m := nextMessage(t, c); ; m = nextMessage(t, c) {
				if r, ok := m.(*dap.LaunchResponse); ok {
					if !r.Success {
						t.Fatalf("launch: %#v", r)
					}
					break
				}
				if er, ok := m.(*dap.ErrorResponse); ok {
					t.Fatalf("launch: %s", er.Body.Error.Format)
				}
			}
			if _, err := os.Stat(out); err != nil {
				t.Errorf("the 'output' attribute: %v", err)
			}
			c.ConfigurationDoneRequest()
			// The entry stop may come before the response.
			var stop *dap.StoppedEventBody
			for configured := false; !configured || stop == nil; {
				switch m := nextMessage(t, c).(type) {
				case *dap.ConfigurationDoneResponse:
					if !m.Success {
						t.Fatalf("configurationDone: %#v", m)
					}
					configured = true
				case *dap.StoppedEvent:
					stop = &m.Body
				default:
					t.Fatalf("configurationDone: %#v", m)
				}
			}
			if stop.Reason != "entry" {
				t.Fatalf("stopOnEntry: stopped %+v", stop)
			}
			c.ContinueRequest(stop.ThreadId)
			var stdout strings.Builder
			for done := false; !done; {
				switch m := c.ExpectMessage(t).(type) {
				case *dap.OutputEvent:
					if m.Body.Category == "stdout" {
						stdout.WriteString(m.Body.Output)
					}
				case *dap.TerminatedEvent:
					done = true
				case *dap.ErrorResponse:
					t.Fatalf("continue: %s", m.Body.Error.Format)
				}
			}
			if want := "cwd=" + cwd + " env=v1 tag=blue args=[\"a\" \"b c\"]\n"; stdout.String() != want {
				t.Errorf("program printed %q, want %q", stdout.String(), want)
			}
		})
	}
}

// TestDAPCoreMode opens a core of the corecrash fixture in mode "core" on
// tinydbg dap and dlv dap: the crashed goroutine's stack and locals, and
// continue refused as a stop on an exception.
func TestDAPCoreMode(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	core, _ := corefile.Crash(t, bin)
	for _, d := range dapDebuggers(t) {
		t.Run(d.name, func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "core", "program": bin, "coreFilePath": core, "stopOnEntry": true})
			for m := nextMessage(t, c); ; m = nextMessage(t, c) {
				if r, ok := m.(*dap.LaunchResponse); ok && r.Success {
					break
				}
				if er, ok := m.(*dap.ErrorResponse); ok {
					t.Fatalf("launch: %s", er.Body.Error.Format)
				}
			}
			c.ConfigurationDoneRequest()
			var stop *dap.StoppedEventBody
			for configured := false; !configured || stop == nil; {
				switch m := nextMessage(t, c).(type) {
				case *dap.ConfigurationDoneResponse:
					configured = true
				case *dap.StoppedEvent:
					stop = &m.Body
				default:
					t.Fatalf("configurationDone: %#v", m)
				}
			}
			if stop.Reason != "entry" {
				t.Fatalf("stopped %+v", stop)
			}
			c.StackTraceRequest(1, 0, 30)
			frames := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames
			i := slices.IndexFunc(frames, func(f dap.StackFrame) bool { return f.Name == "main.explode" })
			if i < 0 || frames[i].Line != 25 || frames[i+1].Name != "main.explode" || frames[i+1].Line != 27 {
				t.Fatalf("stack of goroutine 1: %+v", frames)
			}
			c.ScopesRequest(frames[i].Id)
			scopes := c.CheckScopesResponse(t, nextMessage(t, c)).Body.Scopes
			c.VariablesRequest(scopes[0].VariablesReference)
			if v := varValue(c.CheckVariablesResponse(t, nextMessage(t, c)).Body.Variables, "msg"); v != `"core:0"` {
				t.Errorf("msg = %q", v)
			}
			c.ContinueRequest(1)
			for {
				m := nextMessage(t, c)
				if _, ok := m.(*dap.ContinueResponse); ok {
					continue
				}
				st, ok := m.(*dap.StoppedEvent)
				if !ok || st.Body.Reason != "exception" || st.Body.Text != "can not continue execution of core process" {
					t.Fatalf("after continue: %#v", m)
				}
				break
			}
			c.DisconnectRequest()
		})
	}
}
