package debugger_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

func launch(t *testing.T, name string, fl fixture.Flavour) *debugger.Debugger {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, fl)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Stdout: devnull, Stderr: devnull})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Detach(true) })
	return d
}

func run(t *testing.T, d *debugger.Debugger, name string) *api.DebuggerState {
	t.Helper()
	st, err := d.Command(api.DebuggerCommand{Name: name}, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

func at(t *testing.T, st *api.DebuggerState, fn string, line int) {
	t.Helper()
	if th := st.CurrentThread; th == nil || th.Function.Name() != fn || th.Line != line {
		t.Fatalf("stopped at %+v, want %s:%d", st.CurrentThread, fn, line)
	}
}

// TestLocations resolves every kind of location spec on the basic fixture.
func TestLocations(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			d := launch(t, "basic", fl)
			if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.go:33"); err != nil {
				t.Fatal(err)
			}
			at(t, run(t, d, api.Continue), "main.main", 33)
			cases := []struct {
				spec string
				fn   string
				line int
			}{
				// A function stops at prologue_end, on its func line, as in Delve.
				{"main.add", "main.add", 13},
				{"describe", "main.describe", 23},
				{"Point.Scale", "main.(*Point).Scale", 18},
				{"main.(*Point).Scale", "main.(*Point).Scale", 18},
				{"basic/main.go:24", "main.describe", 24},
				{"main.go:36", "main.main", 36},
				{"35", "main.main", 35},
				{"+2", "main.main", 35},
				{"-1", "main.main", 32},
				// func:line counts from the func line (23), as in Delve.
				{"main.describe:2", "main.describe", 25},
				{"describe:1", "main.describe", 24},
			}
			for _, c := range cases {
				locs, err := d.FindLocation(-1, 0, c.spec)
				if err != nil {
					t.Fatalf("%s: %v", c.spec, err)
				}
				if len(locs) != 1 || locs[0].Function.Name() != c.fn || locs[0].Line != c.line || filepath.Base(locs[0].File) != "main.go" {
					t.Fatalf("%s: %+v, want %s:%d", c.spec, locs, c.fn, c.line)
				}
			}
			locs, err := d.FindLocation(-1, 0, "/^main\\.(add|describe)$/")
			if err != nil || len(locs) != 2 || locs[0].Function.Name() != "main.add" || locs[1].Function.Name() != "main.describe" {
				t.Fatalf("regexp: %+v %v", locs, err)
			}
			addLoc, _ := d.FindLocation(-1, 0, "main.add")
			locs, err = d.FindLocation(-1, 0, "*"+hex(addLoc[0].PC))
			if err != nil || len(locs) != 1 || locs[0].PC != addLoc[0].PC || locs[0].Line != 13 {
				t.Fatalf("address: %+v %v", locs, err)
			}
			// As in Delve, a name several functions share is refused with
			// the candidates, even when one of them is in package main.
			_, err = d.FindLocation(-1, 0, "add")
			var amb *debugger.AmbiguousLocationError
			if !errors.As(err, &amb) || !strings.HasPrefix(err.Error(), `Location "add" ambiguous: main.add, `) || len(amb.Candidates) != 5 {
				t.Fatalf("add: %v", err)
			}
			for _, bad := range []string{"main.nosuch", "nosuch.go:3", "main.go:9999", "/(/"} {
				if _, err := d.FindLocation(-1, 0, bad); err == nil {
					t.Fatalf("%s resolved", bad)
				}
			}
		})
	}
}

func hex(v uint64) string { return "0x" + strings.TrimLeft(strings.ToLower(strconvHex(v)), "0") }

func strconvHex(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// TestBreakpointSettings covers toggle, amend, hit conditions, names and
// conditions.
func TestBreakpointSettings(t *testing.T) {
	d := launch(t, "basic", fixture.Flavour{})
	bp, err := d.CreateBreakpoint(api.Breakpoint{Name: "adder", FunctionName: "main.add"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{Name: "adder", FunctionName: "main.describe"}, ""); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{Name: "12", FunctionName: "main.describe"}, ""); err == nil {
		t.Fatal("numeric name accepted")
	}
	tb, err := d.ToggleBreakpoint(0, "adder")
	if err != nil || !tb.Disabled || tb.ID != bp.ID {
		t.Fatalf("toggle: %+v %v", tb, err)
	}
	desc, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.describe", Cond: "p.X == 6"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// The disabled breakpoint on add is not hit; describe's condition holds.
	st := run(t, d, api.Continue)
	at(t, st, "main.describe", 23)
	if st.CurrentThread.Breakpoint.ID != desc.ID || st.CurrentThread.Breakpoint.Cond != "p.X == 6" {
		t.Fatalf("hit %+v", st.CurrentThread.Breakpoint)
	}
	got, err := d.GetBreakpoint(bp.ID, "")
	if err != nil || got.TotalHitCount != 0 || !got.Disabled || got.Name != "adder" {
		t.Fatalf("disabled breakpoint %+v %v", got, err)
	}
	amended := *got
	amended.Disabled, amended.HitCond, amended.Name = false, ">= 1", "adder2"
	if err := d.AmendBreakpoint(amended); err != nil {
		t.Fatal(err)
	}
	if err := d.AmendBreakpoint(api.Breakpoint{ID: bp.ID, HitCond: "~ 3"}); err == nil {
		t.Fatal("bad hit condition accepted")
	}
	bps, err := d.Breakpoints()
	if err != nil || len(bps) != 4 || bps[2].Name != "adder2" || bps[2].HitCond != ">= 1" || bps[2].Disabled {
		t.Fatalf("breakpoints %+v %v", bps, err)
	}
	if _, err := d.ClearBreakpoint(0, "adder2"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetBreakpoint(bp.ID, ""); err == nil {
		t.Fatal("cleared breakpoint still there")
	}
	st = run(t, d, api.Continue)
	if !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("exit %+v", st)
	}
}

// TestInspection covers registers, memory, disassembly, symbol listings
// and package variables at a breakpoint.
func TestInspection(t *testing.T) {
	d := launch(t, "basic", fixture.Flavour{})
	bp, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.add"}, "")
	if err != nil {
		t.Fatal(err)
	}
	st := run(t, d, api.Continue)
	at(t, st, "main.add", 13)
	regs, err := d.Registers(0)
	if err != nil || len(regs) == 0 || regs[0].Name != "Rip" || regs[0].Value != "0x"+strconvHex(bp.Addr) {
		t.Fatalf("registers %+v %v", regs, err)
	}
	if !strings.Contains(debugger.FormatRegisters(regs), "Rip = 0x"+strconvHex(bp.Addr)+"\n") {
		t.Fatalf("formatted registers:\n%s", debugger.FormatRegisters(regs))
	}
	insts, err := d.Disassemble(bp.Addr, 0, api.GNUFlavour)
	if err != nil || len(insts) < 5 {
		t.Fatalf("disassemble %d %v", len(insts), err)
	}
	// Memory shows the program's bytes, not the int3 at the breakpoint:
	// the same bytes as the executable's instructions from the function's
	// entry through the breakpoint.
	var code []byte
	for _, in := range insts {
		code = append(code, in.Bytes...)
	}
	mem, err := d.ExamineMemory(insts[0].Loc.PC, len(code))
	if err != nil || !slices.Equal(mem, code) || code[bp.Addr-insts[0].Loc.PC] == 0xcc {
		t.Fatalf("memory of main.add\n%x, %v\nwant the executable's\n%x", mem, err, code)
	}
	var atPC, calls int
	for _, in := range insts {
		if in.Loc.Function.Name() != "main.add" {
			t.Fatalf("instruction outside main.add: %+v", in)
		}
		if in.AtPC {
			atPC++
			if in.Loc.PC != bp.Addr || !in.Breakpoint || in.Bytes[0] == 0xcc {
				t.Fatalf("instruction at pc %+v", in)
			}
		}
		if in.DestLoc != nil {
			calls++
		}
	}
	if atPC != 1 {
		t.Fatalf("%d instructions at pc", atPC)
	}
	intel, err := d.Disassemble(insts[0].Loc.PC, insts[0].Loc.PC+uint64(len(insts[0].Bytes)), api.IntelFlavour)
	if err != nil || len(intel) != 1 || intel[0].Text == insts[0].Text {
		t.Fatalf("intel %+v vs gnu %q: %v", intel, insts[0].Text, err)
	}
	fns, err := d.Functions("^main\\.")
	if err != nil || !slices.Contains(fns, "main.add") || !slices.Contains(fns, "main.(*Point).Scale") {
		t.Fatalf("functions %v %v", fns, err)
	}
	srcs, err := d.Sources("basic/main.go$")
	if err != nil || len(srcs) != 1 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	types, err := d.Types("^main\\.")
	if err != nil || !slices.Contains(types, "main.Point") {
		t.Fatalf("types %v %v", types, err)
	}
	pv, err := d.PackageVariables("^main\\.counter$", api.LoadConfig{})
	if err != nil || len(pv) != 1 || pv[0].Name != "main.counter" || pv[0].Value != "7" {
		t.Fatalf("package vars %+v %v", pv, err)
	}
	if _, err := d.Functions("("); err == nil {
		t.Fatal("bad regexp accepted")
	}
	gs, next, err := d.Goroutines(0, 1)
	if err != nil || len(gs) != 1 || next != 1 || gs[0].ID != 1 || gs[0].UserCurrentLoc.Function.Name() != "main.add" {
		t.Fatalf("first goroutine %+v next %d %v", gs, next, err)
	}
	frames, err := d.Stacktrace(-1, 1, 0, &api.LoadConfig{MaxStringLen: 64})
	if err != nil || len(frames) != 2 || len(frames[0].Arguments) != 3 || frames[0].Arguments[2].Name != "~r0" ||
		frames[0].Arguments[2].Flags&api.VariableReturnArgument == 0 || frames[1].Function.Name() != "main.main" {
		t.Fatalf("frames %+v %v", frames, err)
	}
}
