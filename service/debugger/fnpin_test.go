package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestCallPinsInnerResults: in show(newThing(7), newName(8), newTags(9),
// churn()) the pointer, the string and the slice the inner calls return
// are held by the debugger alone while churn runs the collector (rounds=20:
// churn ran after them and waited in vain for a finalizer). With
// runtime.debugPinnerV1 (Go 1.23 on) they are pinned, so none of them is
// freed and show reads them intact; they are unpinned once show returned,
// so the collector frees all three afterwards: during the next
// expression's churn, which also shows a literal argument, whose string
// is allocated and pinned for the call. Go 1.22 has no
// debugPinnerV1: nothing is pinned, as in Delve, and churn sees the
// object freed.
func TestCallPinsInnerResults(t *testing.T) {
	src := fixture.Source("fnpin")
	var fls []fixture.Flavour
	for _, tc := range fixture.Toolchains {
		fls = append(fls, fixture.Flavour{Toolchain: tc})
	}
	// PIE: the type descriptor Pin is given is found at its run-time address.
	for _, fl := range append(fls, fixture.Flavour{PIE: true}) {
		tc := fl.Toolchain
		t.Run(fl.Name(), func(t *testing.T) {
			d, _ := launchOut(t, "fnpin", fl)
			if _, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 99}, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 111}, ""); err != nil {
				t.Fatal(err)
			}
			at(t, run(t, d, api.Continue), "main.stop", 99)
			if tc == "go1.22.12" {
				st, err := callCmd(d, "counts(newThing(7), churn())", false)
				if err != nil {
					t.Fatal(err)
				}
				wantCallReturned(t, "counts", st, []string{`~r0: "made=1 freed=1"`})
			} else {
				st, err := callCmd(d, "show(newThing(7), newName(8), newTags(9), churn())", false)
				if err != nil {
					t.Fatal(err)
				}
				wantCallReturned(t, "show", st, []string{`~r0: "7 thing-7 [7 14] name-8 [9 18 27] made=3 freed=0 rounds=20"`})
				// The three were unpinned when show returned: this
				// churn frees them, while the new thing and the
				// string allocated for the literal stay pinned.
				st, err = callCmd(d, `show(newThing(5), "lit", nil, churn())`, false)
				if err != nil {
					t.Fatal(err)
				}
				wantCallReturned(t, "show", st, []string{`~r0: "5 thing-5 [5 10] lit [] made=4 freed=3 rounds=20"`})
			}
			at(t, run(t, d, api.Continue), "main.done", 111)
			v, err := d.Eval(-1, 0, "released", svcLoad)
			if err != nil {
				t.Fatal(err)
			}
			want := "4"
			if tc == "go1.22.12" {
				want = "1"
			}
			if v.Value != want {
				t.Fatalf("objects freed once the call was over: %s, want %s", v.Value, want)
			}
		})
	}
}

// TestCallPinsReleasedAfterBreakpoint: a breakpoint stops the expression's
// call in the middle, in the outer call (show) or in an inner one
// (newTags, after newThing and newName returned and were pinned); the
// continue goes on with the expression, as Delve's does, to show's
// results, and releases the pins, so the collector frees the three
// objects afterwards.
func TestCallPinsReleasedAfterBreakpoint(t *testing.T) {
	src := fixture.Source("fnpin")
	for _, tc := range []struct {
		name string
		line int
		fn   string
	}{{"outer", 93, "main.show"}, {"inner", 61, "main.newTags"}} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := launchOut(t, "fnpin", fixture.Flavour{})
			for _, line := range []int{99, 111} {
				if _, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: line}, ""); err != nil {
					t.Fatal(err)
				}
			}
			at(t, run(t, d, api.Continue), "main.stop", 99)
			bp, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: tc.line}, "")
			if err != nil {
				t.Fatal(err)
			}
			st, err := callCmd(d, "show(newThing(7), newName(8), newTags(9), churn())", false)
			if err != nil {
				t.Fatal(err)
			}
			at(t, st, tc.fn, tc.line)
			if _, err := d.ClearBreakpoint(bp.ID, ""); err != nil {
				t.Fatal(err)
			}
			st = run(t, d, api.Continue)
			at(t, st, "main.stop", 99)
			wantCallReturned(t, "continue finishing the expression", st, []string{`~r0: "7 thing-7 [7 14] name-8 [9 18 27] made=3 freed=0 rounds=20"`})
			at(t, run(t, d, api.Continue), "main.done", 111)
			v, err := d.Eval(-1, 0, "released", svcLoad)
			if err != nil {
				t.Fatal(err)
			}
			if v.Value != "3" {
				t.Fatalf("objects freed once the call was over: %s, want 3", v.Value)
			}
		})
	}
}

// TestCallInnerCallsInOrder: the calls inside an expression are made in
// Go's order, left to right, as Delve makes them: with counter at 10,
// add(bump(), 10*bump()) is add(11, 120).
func TestCallInnerCallsInOrder(t *testing.T) {
	d, _ := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	for _, want := range []string{"~r0: 131", "~r0: 153"} {
		st, err := callCmd(d, "add(bump(), 10*bump())", false)
		if err != nil {
			t.Fatal(err)
		}
		wantCallReturned(t, "add(bump(), 10*bump())", st, []string{want})
	}
}
