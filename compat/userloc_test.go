package compat

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestGoroutineUserLocBothTools: _fixtures/userloc parks goroutines in
// internal/poll (a pipe read), in runtime code linknamed as time.Sleep
// and sync.runtime_SemacquireWaitGroup, and in an iter.Pull coroutine.
// Each one's User location, through Delve's client, is the same on
// tinydbg's server as on dlv's, and is the frame Delve's rule picks; the
// reader's stack is marked complete exactly when it is, as by Delve.
func TestGoroutineUserLocBothTools(t *testing.T) {
	testenv.RequirePtrace(t)
	requireDlv(t)
	tiny, _ := serveFixture(t, "userloc")
	got := userLocs(t, tiny)
	bin := fixture.Build(t, "userloc", fixture.Flavour{})
	ref := startHeadless(t, dlvBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	delve := userLocs(t, ref.addr)
	want := map[string]string{
		"main.reader":       "os.(*File).read file_posix.go",
		"main.sleeper":      "time.Sleep time.go",
		"main.waiter":       "sync.runtime_SemacquireWaitGroup sema.go",
		"runtime.corostart": "main.numbers pull.go:10",
		"bt 9":              "10 frames, last main.main.gowrap1, bottom false",
		"bt 10":             "11 frames, last runtime.goexit, bottom true",
	}
	for start, w := range want {
		if g := got[start]; len(g) < len(w) || g[:len(w)] != w {
			t.Errorf("goroutine started at %s: user location %q, want %q…", start, g, w)
		}
	}
	if !maps.Equal(got, delve) {
		t.Errorf("user locations differ:\ntinydbg %v\ndelve   %v", got, delve)
	}
}

// userLocs stops the fixture served at addr at main.ready and returns
// each of its own goroutines' User location ("function file:line") by
// the function it started in.
func userLocs(t *testing.T, addr string) map[string]string {
	t.Helper()
	c := delverpc.NewClient(addr)
	defer c.Detach(true)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.ready"}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.ready", 16)
	gs, _, err := c.ListGoroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range gs {
		start := g.StartLoc.Function.Name()
		switch start {
		case "main.reader", "main.sleeper", "main.waiter", "runtime.corostart":
			u := g.UserCurrentLoc
			out[start] = fmt.Sprintf("%s %s:%d", u.Function.Name(), filepath.Base(u.File), u.Line)
		}
		if start != "main.reader" {
			continue
		}
		// Its stack, parked through runtime.mcall, is 11 frames: complete
		// at depth 10 (no "(truncated)"), cut at depth 9.
		for _, depth := range []int{9, 10} {
			fs, err := c.Stacktrace(g.ID, depth, 0, 0, nil)
			if err != nil || len(fs) == 0 {
				t.Fatalf("stack of goroutine %d at depth %d: %v", g.ID, depth, err)
			}
			last := fs[len(fs)-1]
			out[fmt.Sprintf("bt %d", depth)] = fmt.Sprintf("%d frames, last %s, bottom %v", len(fs), last.Function.Name(), last.Bottom)
		}
	}
	return out
}
