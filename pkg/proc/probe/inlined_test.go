package probe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// describeInlined renders what FindInlined found for every inlined copy
// of main.add, offsets from main.main's entry.
func describeInlined(t *testing.T, fl fixture.Flavour) string {
	t.Helper()
	bi, types := open(t, "inlinesites", fl)
	insts, err := bi.InlinedInstances("main.add")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := LoadFrames(bi)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, inst := range insts {
		in, err := FindInlined(bi, types, frames, inst)
		if err != nil {
			t.Fatal(err)
		}
		base := inst.Caller.Entry
		fmt.Fprintf(&b, "%s entry +%#x/%d exits", inst.Caller.Name, in.Entry-base, in.FrameOff[in.Entry])
		for _, x := range in.Exits {
			fmt.Fprintf(&b, " +%#x/%d", x-base, in.FrameOff[x])
		}
		for i, p := range in.Args {
			fmt.Fprintf(&b, " %s=%s", p.Name, in.ArgLocs[i])
			if in.ArgErr[i] != "" {
				fmt.Fprintf(&b, "(%s)", in.ArgErr[i])
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestFindInlinedDump(t *testing.T) {
	t.Log("\n" + describeInlined(t, fixture.Flavour{Optimized: true}))
}
