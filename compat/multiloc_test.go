package compat

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDelveClientMultipleLocations sets, through Delve's rpc2 client, a
// breakpoint on a function with several copies, on tinydbg and on dlv, and
// checks both answer alike, by Delve's rule: the first address's
// file:line while every address is on that line, "<multiple locations>"
// and 0 as soon as one is elsewhere. add's two copies (inlinedonly) begin
// on lines 10 and 9; half's three (inlinedtwice) all on line 6. The
// differential's N3/D1 breakpoints are this rule applied to a line Delve
// gets wrong (see testdata/differential-rerun.md).
//
// The function name is the one part where they differ: Delve names the
// physical function of the addresses (main.main, where both copies of add
// are inlined; "(multiple functions)" for half, in half, first and
// second), tinydbg the function asked for (as service/debugger's
// TestBreakInlinedOnlyFunc pins). The test holds both, so that a change
// on either side is seen.
func TestDelveClientMultipleLocations(t *testing.T) {
	testenv.RequirePtrace(t)
	cases := []struct {
		fixture, fn, where string
		names              map[string]string // per debugger
	}{
		{"inlinedonly", "main.add", "2 addresses, <multiple locations>:0", map[string]string{"tinydbg": "main.add", "dlv": "main.main"}},
		{"inlinedtwice", "main.half", "3 addresses, main.go:6", map[string]string{"tinydbg": "main.half", "dlv": "(multiple functions)"}},
	}
	for _, c := range cases {
		bin := fixture.Build(t, c.fixture, fixture.Flavour{Optimized: true})
		for _, d := range dapDebuggers(t) {
			t.Run(c.fixture+"/"+d.name, func(t *testing.T) {
				s := startServer(t, d.path, "--listen=127.0.0.1:0", "--headless=true", "--api-version=2",
					"--check-go-version=false", "exec", bin, "--")
				cl := delverpc.NewClient("127.0.0.1:" + s.port)
				defer cl.Detach(true)
				bp, err := cl.CreateBreakpoint(&api.Breakpoint{FunctionName: c.fn})
				if err != nil {
					t.Fatal(err)
				}
				want := c.where + ", in " + c.names[d.name]
				if got := describeBreakpoint(bp); got != want {
					t.Errorf("created: %s, want %s", got, want)
				}
				// The listing answers the same as the creation.
				bps, err := cl.ListBreakpoints(false)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bps {
					if b.ID == bp.ID {
						if got := describeBreakpoint(b); got != want {
							t.Errorf("listed: %s, want %s", got, want)
						}
					}
				}
			})
		}
	}
}

func describeBreakpoint(bp *api.Breakpoint) string {
	file := bp.File
	if file != "<multiple locations>" {
		file = filepath.Base(file)
	}
	return fmt.Sprintf("%d addresses, %s:%d, in %s", len(bp.Addrs), file, bp.Line, bp.FunctionName)
}
