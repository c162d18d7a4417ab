package trace

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestEBPFMarksUntouchedPages: a pointer into pages the program has not
// touched yet, which a probe cannot fault in, shows each field as the
// probe could not read it and counts the event in the summary, while
// ptrace reads the zeros; once the program wrote there both agree.
func TestEBPFMarksUntouchedPages(t *testing.T) {
	requireBPF(t)
	ptext, psum := traceFixture(t, "untouched", fixture.Flavour{}, Options{Regexp: `^main\.peek$`, Depth: 1})
	etext, esum := traceFixture(t, "untouched", fixture.Flavour{}, Options{Regexp: `^main\.peek$`, Depth: 1, EBPF: true})
	calls := func(text string) []string {
		var out []string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "> ") {
				out = append(out, l)
			}
		}
		return out
	}
	p, e := calls(ptext), calls(etext)
	const first = `> goroutine(1): main.peek(*main.block {A: 0, B: 0, S: ""})`
	const second = `> goroutine(1): main.peek(*main.block {A: 7, B: 0, S: "seen"})`
	if len(p) != 2 || p[0] != first || p[1] != second || psum.Unread != 0 {
		t.Fatalf("ptrace: %q, summary %+v", p, psum)
	}
	unread := regexp.MustCompile(`^> goroutine\(1\): main\.peek\(\*main\.block \{A: \(unreadable reading 8 bytes at 0x[0-9a-f]+: ` +
		`the probe could not read 8 bytes at 0x[0-9a-f]+: unmapped, or not in memory at the call \(a probe cannot fault pages in\)\), B: \(unreadable `)
	if len(e) != 2 || !unread.MatchString(e[0]) || e[1] != second {
		t.Fatalf("ebpf: %q", e)
	}
	if esum.Unread != 1 || esum.Events != 4 || esum.Dropped != 0 ||
		!strings.Contains(esum.String(), "; 1 event with values the probe could not read;") {
		t.Errorf("ebpf summary %+v: %s", esum, esum)
	}
}

// TestBackendsAgreeOnManyInterfaces: a slice of 24 interfaces, more
// dynamic values than one event runs plans for (16), prints every element
// under eBPF as under ptrace; the elements past the 16th are captured
// without a plan of their own, which a *struct of ints does not need.
func TestBackendsAgreeOnManyInterfaces(t *testing.T) {
	requireBPF(t)
	ptext, _ := traceFixture(t, "manyifaces", fixture.Flavour{}, Options{Regexp: `^main\.show$`, Depth: 1})
	etext, esum := traceFixture(t, "manyifaces", fixture.Flavour{}, Options{Regexp: `^main\.show$`, Depth: 1, EBPF: true})
	var want strings.Builder
	want.WriteString("> goroutine(1): main.show([]interface {} len: 24, cap: 24, [")
	for i := 0; i < 24; i++ {
		if i > 0 {
			want.WriteString(",")
		}
		fmt.Fprintf(&want, "*main.point {X: %d, Y: %d}", i, -i)
	}
	want.WriteString("])\n>> goroutine(1): main.show => (24)\n")
	for _, c := range []struct{ name, text string }{{"ptrace", ptext}, {"ebpf", etext}} {
		if got := strings.Join(strings.SplitAfter(c.text, "\n")[:2], ""); got != want.String() {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, want.String())
		}
	}
	if esum.Cut != 0 || esum.Unread != 0 || esum.Events != 2 {
		t.Errorf("ebpf summary %+v", esum)
	}
}
