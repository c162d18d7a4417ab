package ebpf

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// TestTraceEdgeCases traces _fixtures/ebpfmore: an empty function (one
// probe is its entry and its RET), a promoted-method wrapper that leaves by
// a tail JMP, error results (non-nil interfaces print their dynamic type
// and value), a float argument, and a panic that unwinds through two
// traced calls, after which the same functions are called again at the
// same stack positions and must pair normally.
func TestTraceEdgeCases(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "ebpfmore", fixture.Flavour{Optimized: true})
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	funcs := lookupFuncs(t, bi, "main.empty", "main.(*Outer).Get", "main.(*Inner).Get", "main.fail",
		"main.blame", "main.guard", "main.mid", "main.leaf", "main.mix")
	st := startStopped(t, path)
	tr, err := Open(bi, st.cmd.Process.Pid, funcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := collect(tr)
	st.run(t)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	evs := <-res
	var got []string
	for _, ev := range evs {
		line := describe(ev)
		if ev.Unpaired {
			line += " UNPAIRED"
		}
		if ev.Depth != 0 {
			line += " DEPTH"
		}
		if ev.Kind == event.Return && !ev.Unpaired && ev.Duration == 0 {
			line += " NODURATION"
		}
		if ev.TailCall {
			line += " TAIL"
		}
		if ev.Truncated {
			line += " TRUNCATED"
		}
		got = append(got, line)
	}
	const tail = "(unavailable: returned by a tail call, whose callee computes the results)"
	const float = "(unavailable: held in a floating-point register, which uprobes cannot read)"
	want := []string{
		`call empty()`, `return empty()`,
		`call (*Outer).Get(i=*main.Outer {pad: 0, Inner: *main.Inner {n: 21}})`,
		`return (*Outer).Get(~r0=` + tail + `) TAIL`,
		`call (*Inner).Get(i=*main.Inner {n: 21})`, `return (*Inner).Get(~r0=42)`,
		`call fail(n=0)`, `return fail(~r0=error nil)`,
		`call fail(n=1)`, `return fail(~r0=error(*errors.errorString) *{s: "boom"})`,
		`call blame(n=7)`, `return blame(~r0=7, ~r1=error(*main.codeErr) *{code: 7})`,
		`call guard(n=2)`, `call mid(n=2)`, `call leaf(n=2)`, `return leaf(~r0=3)`, `return mid(~r0=30)`, `return guard(r=30)`,
		// leaf panics: neither it nor mid returns; guard recovers.
		`call guard(n=3)`, `call mid(n=3)`, `call leaf(n=3)`, `return guard(r=-1)`,
		`call guard(n=4)`, `call mid(n=4)`, `call leaf(n=4)`, `return leaf(~r0=5)`, `return mid(~r0=50)`, `return guard(r=50)`,
		`call mix(a=1, f=` + float + `, s="abc")`, `return mix(~r0=` + float + `)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := tr.Stats(); s.Abandoned != 2 || s.Dropped != 0 {
		t.Errorf("stats: %d abandoned (want mid and leaf: 2), %d dropped", s.Abandoned, s.Dropped)
	}
}
