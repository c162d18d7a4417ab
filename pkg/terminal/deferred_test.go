package terminal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
)

// runREPLFlavour is runREPL on a fixture built as f.
func runREPLFlavour(t *testing.T, name string, f fixture.Flavour, script string) (string, string) {
	t.Helper()
	return runREPLWith(t, name, f, terminal.Config{}, script)
}

// runREPLWith is runREPL on a fixture built as f, with a terminal
// configured as conf (its input and outputs replaced).
func runREPLWith(t *testing.T, name string, f fixture.Flavour, conf terminal.Config, script string) (string, string) {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, f)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(filepath.Join(fixture.Dir(), name)); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	t.Setenv("PWD", filepath.Join(fixture.Dir(), name))
	c := startSession(t, bin)
	var out, errOut strings.Builder
	conf.Stdin, conf.Stdout, conf.Stderr, conf.HistoryFile = strings.NewReader(script), &out, &errOut, "-"
	term := terminal.New(c, conf)
	if _, err := term.Run(); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

// TestStackDeferAndDeferred: stack -defer lists a frame's pending deferred
// calls newest first, as Delve prints them (a deferwrap shown as the
// function it calls); deferred N runs args, locals and print in the N-th
// call's scope, where a closure's captured variables are read from the
// closure the defer record holds. Go 1.22 does not say where a captured
// variable lives in its closure (DW_AT_go_closure_offset is 1.23+): the
// closure's setup code's copies from DX do, for name (by value); count
// and r, captured by reference, are declared on the closure's line and
// not listed there, as in Delve.
func TestStackDeferAndDeferred(t *testing.T) {
	frame1 := "1  0xPC in main.work\n" +
		"   at ./main.go:28\n" +
		"       defer 1: 0xPC in main.note\n" +
		"                at ./main.go:10\n" +
		"                deferred by main.work at ./main.go:27\n" +
		"       defer 2: 0xPC in main.work.func1\n" +
		"                at ./main.go:22\n" +
		"                deferred by main.work at ./main.go:22\n" +
		"       defer 3: 0xPC in main.note\n" +
		"                at ./main.go:10\n" +
		"                deferred by main.work at ./main.go:21\n" +
		"\n2  0xPC in main.main\n"
	scoped := "(no args)\ncount = 40\nr = 0\nname = \"cleanup\"\n\"cleanup\"\n.autotmp_5 = 21\n.autotmp_4 = 20\n"
	old := "(no args)\nname = \"cleanup\"\n\"cleanup\"\n(no locals)\n(no locals)\n"
	wantErr := "Command failed: Frame 1 only has 3 deferred calls\n" +
		"Command failed: argument of deferred must be a number greater than 0 (use 'stack -defer' to see the list of deferred calls)\n" +
		"Command failed: command not available\n" +
		"Command failed: not enough arguments\n"
	script := "config source-list-line-count 0\nbreak main.stop\ncontinue\nstack -defer\nup\n" +
		"deferred 2 args\ndeferred 2 locals\ndeferred 2 print name\ndeferred 1 locals\ndeferred 3 locals\n" +
		"deferred 4 locals\ndeferred 0 locals\ndeferred 2 next\ndeferred 2\nexit\n"
	for _, tc := range fixture.Toolchains {
		f := fixture.Flavour{Toolchain: tc}
		t.Run(f.Name(), func(t *testing.T) {
			out, errOut := runREPLFlavour(t, "deferred", f, script)
			got := hexRE.ReplaceAllString(out, "0xPC")
			if !strings.Contains(got, frame1) {
				t.Errorf("stack -defer: no\n%s\nin:\n%s", frame1, got)
			}
			want := scoped
			if tc == "go1.22.12" {
				want = old
			}
			_, after, _ := strings.Cut(got, "=>  28:\t\treturn stop(count)\n")
			if after != want {
				t.Errorf("deferred output:\n%q\nwant:\n%q", after, want)
			}
			if errOut != wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
			}
		})
	}
}

// TestRangeFuncDefers: calls deferred in a range-over-func loop body (Go
// 1.23+) sit on a list of their own that a record of the enclosing frame
// heads; stack -defer lists them under that frame, newest first, deferred
// by the line of the head record's return address (the loop on Go 1.26,
// the function's closing brace on 1.24), and deferred N reads their
// arguments.
func TestRangeFuncDefers(t *testing.T) {
	deferLine := map[string]string{"": "17", "go1.24.13": "21"}
	want := "1  0xPC in main.ranged\n" +
		"   at ./ranged.go:20\n" +
		"       defer 1: 0xPC in main.note\n" +
		"                at ./main.go:10\n" +
		"                deferred by main.ranged at ./ranged.go:17\n" +
		"       defer 2: 0xPC in main.note\n" +
		"                at ./main.go:10\n" +
		"                deferred by main.ranged at ./ranged.go:17\n" +
		"\n2  0xPC in main.main\n"
	for _, tc := range fixture.Toolchains {
		if tc == "go1.22.12" {
			continue // no range-over-func before Go 1.23
		}
		f := fixture.Flavour{Toolchain: tc}
		t.Run(f.Name(), func(t *testing.T) {
			out, errOut := runREPLFlavour(t, "deferred", f, "config source-list-line-count 0\nbreak main.stop\ncontinue\ncontinue\n"+
				"stack -defer 2\nup\ndeferred 1 locals\ndeferred 2 locals\nexit\n")
			got := hexRE.ReplaceAllString(out, "0xPC")
			want := strings.ReplaceAll(want, "ranged.go:17", "ranged.go:"+deferLine[tc])
			if !strings.Contains(got, "0  0xPC in main.stop\n   at ./main.go:14\n\n"+want) {
				t.Errorf("stack -defer: no\n%s\nin:\n%s", want, got)
			}
			if !strings.HasSuffix(got, "=>  20:\t\tstop(0)\n.autotmp_3 = 1\n.autotmp_3 = 0\n") {
				t.Errorf("deferred locals:\n%s", got)
			}
			if errOut != "" {
				t.Errorf("stderr: %q", errOut)
			}
		})
	}
}
