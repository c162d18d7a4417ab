package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestStackArgsAtABISlots stops condhot's main.hot at call 5, whose
// stack-assigned arguments the source fixes: bs = strs[5%3] = "abc" and
// sl = data[:5]. Go 1.26's optimized DWARF places bs at CFA+8 and sl at
// CFA+32 (overlapping err at CFA+48); read there they show "" and a
// length-7 slice with err's type word as capacity, as dlv 1.27.2 shows
// them. The ABI's slots, CFA+0 and CFA+24, hold the source's values.
func TestStackArgsAtABISlots(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			d := launch(t, "condhot", fl)
			if _, err := d.CreateBreakpoint(api.Breakpoint{Cond: "i == 5"}, "main.hot"); err != nil {
				t.Fatal(err)
			}
			st := run(t, d, api.Continue)
			if st.CurrentThread == nil || st.CurrentThread.Breakpoint == nil {
				t.Fatalf("no breakpoint stop: %+v", st)
			}
			cfg := api.LoadConfig{MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1, FollowPointers: true, MaxVariableRecurse: 1}
			for expr, want := range map[string]string{
				"i":  "5",
				"bs": `"abc"`,
				"sl": "[]int len: 5, cap: 7, [5,-3,8,100,0]",
			} {
				v, err := d.Eval(-1, 0, expr, cfg)
				if err != nil {
					t.Fatalf("%s: %v", expr, err)
				}
				if got := v.SinglelineString(); got != want {
					t.Errorf("%s = %s, want %s", expr, got, want)
				}
			}
		})
	}
}
