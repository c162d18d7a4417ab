package event_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// TestValueText checks the three ways a value is printed: the text a
// backend set, the decoded value, and the reason nothing was captured.
func TestValueText(t *testing.T) {
	n := &value.Variable{Name: "n", Type: "int", Kind: reflect.Int, Value: "41"}
	bad := &value.Variable{Name: "p", Type: "*int", Unreadable: errors.New("bad address")}
	for _, c := range []struct {
		v    event.Value
		want string
	}{
		{event.Value{Name: "n", Value: "7", Var: n}, "n=7"},
		{event.Value{Name: "n", Var: n}, "n=41"},
		{event.Value{Name: "x", Unavailable: "float register"}, "x=(unavailable: float register)"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
	if got := event.Text(n); got != "41" {
		t.Errorf("Text(n) = %q", got)
	}
	if got := event.Text(bad); got != "(unreadable bad address)" {
		t.Errorf("Text(bad) = %q", got)
	}
	if event.Call.String() != "call" || event.Return.String() != "return" {
		t.Errorf("kinds %q %q", event.Call, event.Return)
	}
}
