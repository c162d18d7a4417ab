package trace

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// piecesRe selects, in the optimized httpserve, functions whose arguments
// are neither one register run nor one stack run at the probe: the inlined
// copy of the router's (*mapping).find in matchPath gets its string key
// with the pointer in RAX and the length in a stack slot; the inlined copy
// of http.Serve in main's go wrapper gets its listener as a stack word and
// RCX, its handler as two stack slots 16 bytes apart; dialConn gets its
// connectMethod, a pointer, two strings and a bool, in six registers.
const piecesRe = `^net/http\.(\(\*mapping\[go\.shape\.string,go\.shape\.\*uint8\]\)\.find|Serve|\(\*Transport\)\.dialConn)$`

// TestBackendsAgreeOnPieces: both backends print the same text for
// arguments assembled from pieces in registers and on the stack, and the
// values are the program's own.
func TestBackendsAgreeOnPieces(t *testing.T) {
	requireBPF(t)
	fl := fixture.Flavour{Optimized: true}
	ptext, psum := traceFixture(t, "httpserve", fl, Options{Regexp: piecesRe, Depth: 1})
	etext, esum := traceFixture(t, "httpserve", fl, Options{Regexp: piecesRe, Depth: 1, EBPF: true})
	plines, elines := normPieces(ptext), normPieces(etext)
	if strings.Join(plines, "\n") != strings.Join(elines, "\n") {
		t.Errorf("ebpf:\n%s\nptrace:\n%s", strings.Join(elines, "\n"), strings.Join(plines, "\n"))
	}
	if len(plines) != 14 || esum.Events != psum.Events || esum.Dropped != 0 {
		t.Errorf("ebpf summary %+v, ptrace %+v", esum, psum)
	}
	const find = `> goroutine(N): net/http.(*mapping[go.shape.string,go.shape.*uint8]).find((unreadable optimized out), `
	const cm = `, net/http.connectMethod {_: net/http.incomparable [], proxyURL: *net/url.URL nil, targetScheme: "http", targetAddr: "127.0.0.1:PORT", onlyH1: false}, false, nil)`
	counts := map[string]int{}
	for _, l := range plines {
		switch {
		case strings.HasPrefix(l, find):
			counts[strings.TrimPrefix(l, find)]++
		case strings.HasPrefix(l, "> goroutine(N): net/http.(*Transport).dialConn(") && strings.HasSuffix(l, cm):
			counts["cm"]++
		case strings.HasPrefix(l, "> goroutine(N): net/http.Serve(net.Listener(*net.TCPListener) *{fd: *net.netFD {pfd: ") &&
			strings.Contains(l, `net: "tcp", laddr: net.Addr(*net.TCPAddr) ..., raddr: net.Addr nil}`) &&
			strings.Contains(l, `}}, net/http.Handler(*net/http.ServeMux) *{mu: sync.RWMutex {`) && strings.HasSuffix(l, ") (inlined)"):
			counts["serve"]++
		}
	}
	// "hello" is looked up once when the handler is registered and once per
	// request; the pointer of the key of each request's lookup is in RAX.
	want := map[string]int{`"hello") (inlined)`: 4, `"GET") (inlined)`: 3, `"127.0.0.1") (inlined)`: 3, "cm": 3, "serve": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d lines of %s, want %d; ptrace:\n%s", counts[k], k, n, strings.Join(plines, "\n"))
		}
	}
}

// normPieces returns a trace's call lines sorted, with goroutine numbers,
// heap addresses and ports, which differ from run to run, normalized.
// Returns are left out: dialConn's result holds a fresh bufio buffer,
// which a probe cannot read before its pages are faulted in (see
// TestEBPFShowsHTTPRequest).
func normPieces(text string) []string {
	gid := regexp.MustCompile(`goroutine\(\d+\)`)
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	hex := regexp.MustCompile(`0x[0-9a-f]+`)
	text = hex.ReplaceAllString(port.ReplaceAllString(gid.ReplaceAllString(text, "goroutine(N)"), "127.0.0.1:PORT"), "0x?")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "> ") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// wantInlinePieces is the trace of the copies of find and describe in
// the optimized inlinepieces: find's key is assembled from a stack slot
// and a register, describe's span is read from match's frame.
const wantInlinePieces = `> goroutine(1): main.(*node).find(*main.node {name: "root", list: []main.entry len: 2, cap: 2, [(*main.entry)(0x?),(*main.entry)(0x?)]}, "a") (inlined)
>> goroutine(1): main.(*node).find => () (inlined)
> goroutine(1): main.(*node).find(*main.node {name: "mid", list: []main.entry len: 2, cap: 2, [(*main.entry)(0x?),(*main.entry)(0x?)]}, "b") (inlined)
>> goroutine(1): main.(*node).find => () (inlined)
> goroutine(1): main.describe(main.span {Seg: "b", Depth: 3, Rest: ""}) (inlined)
>> goroutine(1): main.describe => () (inlined)
> goroutine(1): main.describe(main.span {Seg: "a", Depth: 2, Rest: "b"}) (inlined)
>> goroutine(1): main.describe => () (inlined)
> goroutine(1): main.(*node).find(*main.node {name: "root", list: []main.entry len: 2, cap: 2, [(*main.entry)(0x?),(*main.entry)(0x?)]}, "a") (inlined)
>> goroutine(1): main.(*node).find => () (inlined)
> goroutine(1): main.(*node).find(*main.node {name: "mid", list: []main.entry len: 2, cap: 2, [(*main.entry)(0x?),(*main.entry)(0x?)]}, "c") (inlined)
>> goroutine(1): main.(*node).find => () (inlined)
> goroutine(1): main.describe(main.span {Seg: "c", Depth: 3, Rest: ""}) (inlined)
>> goroutine(1): main.describe => () (inlined)
> goroutine(1): main.describe(main.span {Seg: "a", Depth: 2, Rest: "c"}) (inlined)
>> goroutine(1): main.describe => () (inlined)
> goroutine(1): main.(*node).find(*main.node {name: "root", list: []main.entry len: 2, cap: 2, [(*main.entry)(0x?),(*main.entry)(0x?)]}, "x") (inlined)
>> goroutine(1): main.(*node).find => () (inlined)
> goroutine(1): main.describe(main.span {Seg: "x", Depth: 1, Rest: ""}) (inlined)
>> goroutine(1): main.describe => () (inlined)
`

// TestInlinedPiecesExact: both backends print exactly the program's
// values for the copies' arguments, the key split between a register and
// a stack slot included (probe's TestInlinedArgumentInPieces checks it is).
func TestInlinedPiecesExact(t *testing.T) {
	requireBPF(t)
	hex := regexp.MustCompile(`0x[0-9a-f]+`)
	opts := Options{Regexp: `^main\.(\(\*node\)\.find|describe)$`, Depth: 1}
	fl := fixture.Flavour{Optimized: true}
	ptext, _ := traceFixture(t, "inlinepieces", fl, opts)
	if got := hex.ReplaceAllString(ptext, "0x?"); got != wantInlinePieces {
		t.Fatalf("ptrace:\n%s", got)
	}
	opts.EBPF = true
	etext, esum := traceFixture(t, "inlinepieces", fl, opts)
	if got := hex.ReplaceAllString(etext, "0x?"); got != wantInlinePieces || esum.Dropped != 0 {
		t.Fatalf("ebpf (%+v):\n%s", esum, got)
	}
}

// threeRolesRe selects, in the goprinter fixture (go/format), an inlined
// copy of token.Pos.IsValid that ends where a copy of (*printer).setPos
// begins with a copy of IsValid nested at its start, and (*printer).lineFor
// ending at the same kind of place: addresses with three roles, one more
// than a probe's records.
const threeRolesRe = `^go/token\.Pos\.IsValid$|^go/printer\.\(\*printer\)\.(setPos|lineFor)$`

// TestBackendsAgreeOnThreeRoles: both backends report every call and
// return of copies whose addresses have three roles, the same lines in
// the same order, and every call of the eBPF trace is paired.
func TestBackendsAgreeOnThreeRoles(t *testing.T) {
	requireBPF(t)
	fl := fixture.Flavour{Optimized: true}
	ptext, psum := traceFixture(t, "goprinter", fl, Options{Regexp: threeRolesRe, Depth: 1})
	etext, esum := traceFixture(t, "goprinter", fl, Options{Regexp: threeRolesRe, Depth: 1, EBPF: true})
	norm := func(text string) []string {
		gid, hex := regexp.MustCompile(`goroutine\(\d+\)`), regexp.MustCompile(`0x[0-9a-f]+`)
		var lines []string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, ">") {
				lines = append(lines, hex.ReplaceAllString(gid.ReplaceAllString(l, "goroutine(N)"), "0x?"))
			}
		}
		return lines
	}
	plines, elines := norm(ptext), norm(etext)
	if strings.Join(plines, "\n") != strings.Join(elines, "\n") {
		t.Errorf("ebpf %d lines, ptrace %d; first difference:\n%s", len(elines), len(plines), firstDiff(elines, plines))
	}
	calls, rets := 0, 0
	for _, l := range elines {
		switch {
		case strings.HasPrefix(l, ">> ") && !strings.Contains(l, "unpaired"):
			rets++
		case strings.HasPrefix(l, "> "):
			calls++
		}
	}
	if esum.Events != psum.Events || esum.Dropped != 0 || calls != rets || calls < 300 {
		t.Errorf("ebpf summary %+v (%d calls, %d paired returns), ptrace %+v", esum, calls, rets, psum)
	}
}

// firstDiff shows where two traces' lines part.
func firstDiff(a, b []string) string {
	i := 0
	for i < min(len(a), len(b)) && a[i] == b[i] {
		i++
	}
	at := func(s []string) string {
		if i < len(s) {
			return s[i]
		}
		return "(end)"
	}
	return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, at(a), at(b))
}
