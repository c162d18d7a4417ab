package terminal_test

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/terminal"
)

// TestColouredListing: with colours on, the listed source has Delve's
// default escapes (yellow arrow, blue line numbers, green strings, bright
// black tabs, keywords and numbers in the normal colour), configured ones
// replace them, and stack names are bold; show-raw-strings prints strings
// unquoted, nested ones too.
func TestColouredListing(t *testing.T) {
	script := "config source-list-line-count 1\nbreak main.describe\ncontinue\n" +
		"config source-list-line-color 31\nconfig source-list-keyword-color \"\\x1b[35m\"\nlist main.go:24\n" +
		"stack 1\nconfig show-raw-strings true\nprint p\nprint p.Name\nexit\n"
	out, errOut := runREPLWith(t, "basic", fixture.Flavour{}, terminal.Config{Color: "always"}, script)
	got := hexRE.ReplaceAllString(out, "0xPC")
	const (
		y, b, r, g, tab, n = "\x1b[33m", "\x1b[34m", "\x1b[0m", "\x1b[32m", "\x1b[90m\t", "\x1b[0m\n"
	)
	want := "Breakpoint 1 set at 0xPC for main.describe() ./main.go:23\n" +
		"> [Breakpoint 1] main.describe() ./main.go:23 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		y + "  " + b + "  22:\t" + n +
		y + "=>" + b + "  23:\t" + r + "func describe(p Point) string {" + n +
		y + "  " + b + "  24:\t" + tab + r + "s := fmt.Sprintf(" + g + "\"%s(%d,%d)\"" + r + ", p.Name, p.X, p.Y)" + n +
		"Showing ./main.go:24 (PC: 0xPC)\n" +
		y + "  " + "\x1b[31m" + "  23:\t" + "\x1b[35m" + "func" + r + " describe(p Point) string {" + n +
		y + "  " + "\x1b[31m" + "  24:\t" + tab + r + "s := fmt.Sprintf(" + g + "\"%s(%d,%d)\"" + r + ", p.Name, p.X, p.Y)" + n +
		y + "  " + "\x1b[31m" + "  25:\t" + tab + "\x1b[35m" + "return" + r + " s" + n +
		"0  0xPC in \x1b[1mmain.describe\x1b[0m\n" +
		"   at ./\x1b[1mmain.go:23\x1b[0m\n" +
		"1  0xPC in \x1b[1mmain.main\x1b[0m\n" +
		"   at ./\x1b[1mmain.go:34\x1b[0m\n" +
		"(truncated)\n" +
		"main.Point {X: 6, Y: 8, Name: pt}\n" +
		"pt\n"
	if got != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
	plain, _ := runREPLWith(t, "basic", fixture.Flavour{}, terminal.Config{}, "config source-list-line-count 0\nbreak main.describe\ncontinue\nexit\n")
	if strings.Contains(plain, "\x1b") {
		t.Errorf("colours when output is not a terminal:\n%q", plain)
	}
}
