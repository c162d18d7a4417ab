package api

import (
	"reflect"
	"testing"
)

func TestParseGoroutineArgs(t *testing.T) {
	l, err := ParseGoroutineArgs("-g -t 5 -with userloc main.work -wo running -group label k")
	if err != nil {
		t.Fatal(err)
	}
	if l.Loc != 'g' || !l.Stack || l.Depth != 5 || l.Group.GroupBy != GoroutineLabel || l.Group.GroupByKey != "k" {
		t.Errorf("parsed %+v", l)
	}
	want := []ListGoroutinesFilter{{Kind: GoroutineUserLoc, Arg: "main.work"}, {Kind: GoroutineRunning, Negated: true}}
	if !reflect.DeepEqual(l.Filters, want) {
		t.Errorf("filters %+v, want %+v", l.Filters, want)
	}
	// The long forms: -without begins with -with, and must still negate.
	l, err = ParseGoroutineArgs("-without label k=v -with user -w running")
	want = []ListGoroutinesFilter{{Kind: GoroutineLabel, Arg: "k=v", Negated: true}, {Kind: GoroutineUser}, {Kind: GoroutineRunning}}
	if err != nil || !reflect.DeepEqual(l.Filters, want) {
		t.Errorf("long forms: %+v, %v, want %+v", l.Filters, err, want)
	}
	for _, bad := range []string{"-x", "-with", "-with nowhere x", "-with userloc"} {
		if _, err := ParseGoroutineArgs(bad); err == nil {
			t.Errorf("ParseGoroutineArgs(%q) accepted", bad)
		}
	}
}
