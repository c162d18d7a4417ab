package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// flat renders a value with its children, recursively, as one line:
// "main.three{a=10 b=11 c=12}".
func flat(v api.Variable) string {
	s := v.Value + v.Unreadable
	if v.Unreadable == "" && len(v.Children) > 0 {
		var c []string
		for _, ch := range v.Children {
			c = append(c, ch.Name+"="+flat(ch))
		}
		s = v.Type + "{" + strings.Join(c, " ") + "}"
	}
	return s
}

// retabiResults is what retabi's functions return, as the source says.
var retabiResults = []struct {
	fn   string
	want []string
}{
	{"main.pair", []string{"~r0=42", "~r1=error{data=*errors.errorString{=errors.errorString{s=boom}}}"}},
	{"main.strbool", []string{"~r0=abc!", "~r1=true"}},
	{"main.tri", []string{"~r0=main.three{a=10 b=11 c=12}"}},
	{"main.half", []string{"~r0=1.25"}},
	{"main.arr", []string{"~r0=[3]int{=5 =10 =15}", "~r1=105"}},
	{"main.named", []string{"r=42", "err=error{=}"}},
}

// TestStepoutResultsFromABI: optimized Go 1.22–1.26 builds give retabi's
// unnamed results no DWARF location, and (in pair and named, which defer)
// two entries each; dlv 1.27.2 lists each twice as "(unreadable empty OP
// stack)". Right after the RET the register ABI says where each is (RAX,
// RBX+RCX, X0, the caller's argument area for the array): stepout shows
// every result once with the value the source returns, in every build,
// and -N -l builds show what they showed (their DWARF locates them).
func TestStepoutResultsFromABI(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		for _, opt := range []bool{true, false} {
			fl := fixture.Flavour{Optimized: opt, Toolchain: tc}
			t.Run(fl.Name(), func(t *testing.T) {
				d := launch(t, "retabi", fl)
				for _, r := range retabiResults {
					if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: r.fn}, ""); err != nil {
						t.Fatal(err)
					}
				}
				for _, r := range retabiResults {
					st := run(t, d, api.Continue)
					if th := st.CurrentThread; th == nil || th.Function.Name() != r.fn {
						t.Fatalf("stopped at %+v, want %s", st.CurrentThread, r.fn)
					}
					st = step(t, d, api.StepOut)
					if th := st.CurrentThread; th == nil || th.Function.Name() != "main.main" {
						t.Fatalf("stepout of %s stopped at %+v", r.fn, st.CurrentThread)
					}
					var got []string
					for _, v := range st.CurrentThread.ReturnValues {
						got = append(got, v.Name+"="+flat(v))
					}
					if fmt.Sprint(got) != fmt.Sprint(r.want) {
						t.Errorf("stepout of %s returned\n %q\nwant\n %q", r.fn, got, r.want)
					}
				}
			})
		}
	}
}

// TestNextOffEndResultsFromABI: next off the end of an optimized function
// reports its results from the ABI as stepout does.
func TestNextOffEndResultsFromABI(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		fl := fixture.Flavour{Optimized: true, Toolchain: tc}
		t.Run(fl.Name(), func(t *testing.T) {
			d := launch(t, "retabi", fl)
			if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.pair"}, ""); err != nil {
				t.Fatal(err)
			}
			st := run(t, d, api.Continue)
			for i := 0; st.CurrentThread.Function.Name() == "main.pair"; i++ {
				if i == 20 {
					t.Fatalf("20 nexts did not leave main.pair")
				}
				if st.CurrentThread.ReturnValues != nil {
					t.Fatalf("next inside pair reported %v", st.CurrentThread.ReturnValues)
				}
				st = step(t, d, api.Next)
			}
			at(t, st, "main.main", 59)
			var got []string
			for _, v := range st.CurrentThread.ReturnValues {
				got = append(got, v.Name+"="+flat(v))
			}
			if want := retabiResults[0].want; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("next off pair returned %q, want %q", got, want)
			}
		})
	}
}
