package terminal_test

import (
	"strings"
	"testing"
)

// TestNextPrintsReturnValues: exactly as Delve 1.27.2 on the same script
// (its prompts aside), a
// next that returns from a function prints "Values returned:" with the
// results, the bare header for a function without any (here the deferred
// call note), and nothing for a next within a function.
func TestNextPrintsReturnValues(t *testing.T) {
	out, errOut := runREPL(t, "stepping", "config source-list-line-count 0\nbreak main.note\ncontinue\nnext\nnext\nnext\nnext\nnext\nexit\n")
	want := "Breakpoint 1 set at 0xPC for main.note() ./main.go:65\n" +
		"> [Breakpoint 1] main.note() ./main.go:65 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"=>  65:\tfunc note(s string) {\n" +
		"> main.note() ./main.go:66 (PC: 0xPC)\n" +
		"=>  66:\t\ttrail = append(trail, s)\n" +
		"> main.note() ./main.go:67 (PC: 0xPC)\n" +
		"=>  67:\t}\n" +
		"> main.deferring() ./main.go:73 (PC: 0xPC)\n" +
		"Values returned:\n" +
		"\n" +
		"=>  73:\t\treturn y\n" +
		"> main.deferring() ./main.go:74 (PC: 0xPC)\n" +
		"=>  74:\t}\n" +
		"> main.main() ./main.go:80 (PC: 0xPC)\n" +
		"Values returned:\n" +
		"\t~r0: 5\n" +
		"\n" +
		"=>  80:\t\tk := deferring()\n"
	got := hexRE.ReplaceAllString(out, "0xPC")
	if !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}
