package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// step runs a next, step or stepout asking for return values, as Delve's
// client and terminal do.
func step(t *testing.T, d *debugger.Debugger, name string) *api.DebuggerState {
	t.Helper()
	st, err := d.Command(api.DebuggerCommand{Name: name, ReturnInfoLoadConfig: &svcLoad}, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

// returned renders a stop's return values as "name=value" lines, pointers
// followed one level: "~r0=*{Name:leaf Depth:500}".
func returned(st *api.DebuggerState) []string {
	rv := st.CurrentThread.ReturnValues
	if rv == nil {
		return nil
	}
	out := []string{}
	for _, v := range rv {
		s := v.Value
		if len(v.Children) == 1 && len(v.Children[0].Children) > 0 {
			var f []string
			for _, c := range v.Children[0].Children {
				f = append(f, c.Name+":"+c.Value)
			}
			s = "*{" + strings.Join(f, " ") + "}"
		}
		out = append(out, v.Name+"="+s+v.Unreadable)
	}
	return out
}

// wantReturned asserts a stop's return values; want nil: none reported,
// an empty want: the header with no values (a function without results).
func wantReturned(t *testing.T, what string, st *api.DebuggerState, want []string) {
	t.Helper()
	got := returned(st)
	if fmt.Sprint(got) != fmt.Sprint(want) || (got == nil) != (want == nil) {
		t.Fatalf("%s: returned %q, want %q", what, got, want)
	}
}

// TestReturnValuesAfterStackCopy: build returns a pointer and a string
// after a recursion that copies the goroutine's stack; stepout, and next
// off build's end, show what build really returned (the source says
// &Node{Name: "leaf", Depth: 500}, "LEAF"), as dlv does. They were read
// from the abandoned stack: nil and "".
func TestReturnValuesAfterStackCopy(t *testing.T) {
	for _, cmd := range []string{api.StepOut, api.Next} {
		t.Run(cmd, func(t *testing.T) {
			d := launch(t, "stepping", fixture.Flavour{})
			if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.build"}, ""); err != nil {
				t.Fatal(err)
			}
			at(t, run(t, d, api.Continue), "main.build", 37)
			if cmd == api.Next {
				st := step(t, d, api.Next)
				at(t, st, "main.build", 38)
				wantReturned(t, "next in build", st, nil)
				at(t, step(t, d, api.Next), "main.build", 39)
			}
			st := step(t, d, cmd)
			at(t, st, "main.main", 77)
			wantReturned(t, cmd, st, []string{"~r0=*{Name:leaf Depth:500}", "~r1=LEAF"})
		})
	}
}

// TestNextReportsReturnValues: as in Delve, a next or step that leaves a
// function by returning reports its results, and an empty list for a
// function without any (the terminal then prints the bare header);
// staying in the function reports none.
func TestNextReportsReturnValues(t *testing.T) {
	d := launch(t, "stepping", fixture.Flavour{})
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.note"}, ""); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.note", 65)
	st := step(t, d, api.Next)
	at(t, st, "main.note", 66)
	wantReturned(t, "next in note", st, nil)
	at(t, step(t, d, api.Next), "main.note", 67)
	st = step(t, d, api.Next)
	at(t, st, "main.deferring", 73)
	wantReturned(t, "next off deferred note", st, []string{})
	at(t, step(t, d, api.Step), "main.deferring", 74)
	st = step(t, d, api.Step)
	at(t, st, "main.main", 80)
	wantReturned(t, "step off deferring", st, []string{"~r0=5"})
}
