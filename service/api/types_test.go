package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestWireNames pins the JSON names Delve's clients decode.
func TestWireNames(t *testing.T) {
	st := DebuggerState{
		CurrentThread:     &Thread{ID: 1, Breakpoint: &Breakpoint{ID: 2, Tracepoint: true}, Function: &Function{Name_: "main.main"}},
		SelectedGoroutine: &Goroutine{ID: 3},
		Exited:            true, ExitStatus: 4,
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"currentThread":{"id":1`, `"breakPoint":{"id":2`, `"continue":true`,
		`"function":{"name":"main.main"`, `"currentGoroutine":{"id":3`, `"exited":true`, `"exitStatus":4`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s missing from %s", want, b)
		}
	}
}

// TestInvalidUTF8String round-trips a string that JSON would mangle.
func TestInvalidUTF8String(t *testing.T) {
	v := Variable{Name: "s", Kind: reflect.String, Value: "a\xffb"}
	b, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"StringValueBytes":"Yf9i"`) {
		t.Fatalf("encoded %s", b)
	}
	var back Variable
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Value != "a\xffb" || back.StringValueBytes != nil {
		t.Fatalf("decoded %+v", back)
	}
	if v.StringValueBytes != nil {
		t.Fatal("marshalling changed the value")
	}
}
