package terminal

import (
	"testing"

	"github.com/tinydbg/tinydbg/service/api"
)

// stateClient answers GetState with a fixed state and counts the calls.
type stateClient struct {
	Client
	calls int
}

func (c *stateClient) GetState() (*api.DebuggerState, error) {
	c.calls++
	return &api.DebuggerState{Pid: 42, CurrentThread: &api.Thread{ID: 7}, SelectedGoroutine: &api.Goroutine{ID: 3}}, nil
}

// TestExpandPrompt: Delve 1.27.2's escapes, a bad or trailing "$" shown
// as "<malformed escape>", and one state request for the whole prompt.
func TestExpandPrompt(t *testing.T) {
	c := &stateClient{}
	term := &Term{client: c, frame: 2}
	got := term.expandPrompt("[$p:$t:$g f$f $$] $x $")
	if want := "[42:7:3 f2 $] <malformed escape> <malformed escape>"; got != want {
		t.Errorf("expandPrompt = %q, want %q", got, want)
	}
	if c.calls != 1 {
		t.Errorf("GetState called %d times, want 1", c.calls)
	}
	if got := term.promptText(); got != "(tinydbg) " {
		t.Errorf("default prompt = %q", got)
	}
	term.set.prompt = "$f> "
	if got := term.promptText(); got != "2> " {
		t.Errorf("configured prompt = %q", got)
	}
}
