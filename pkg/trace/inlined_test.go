package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// inlinedRe selects main.add, called at nine sites of which an optimized
// build inlines five, and the functions of the hard cases of inlining.
const inlinedRe = `^main\.(add|clamp|sumTo|scale|twice|leaf|grow)$`

// wantInlinedNoopt is the whole trace of _fixtures/inlinesites built with
// -N -l, where nothing is inlined: every value is known.
const wantInlinedNoopt = `> goroutine(1): main.add(3, 6)
>> goroutine(1): main.add => (36)
> goroutine(1): main.add(3, 1)
>> goroutine(1): main.add => (31)
> goroutine(1): main.add(67, 4)
>> goroutine(1): main.add => (674)
> goroutine(1): main.add(6, 2)
>> goroutine(1): main.add => (62)
> goroutine(1): main.add(3, 3)
>> goroutine(1): main.add => (33)
> goroutine(1): main.add(7, 3)
>> goroutine(1): main.add => (73)
> goroutine(1): main.add(9, 5)
>> goroutine(1): main.add => (95)
> goroutine(1): main.add(3, 6)
>> goroutine(1): main.add => (36)
> goroutine(1): main.add(10, 6)
>> goroutine(1): main.add => (106)
> goroutine(1): main.clamp(5, 12)
>> goroutine(1): main.clamp => (5)
> goroutine(1): main.clamp(11, 12)
>> goroutine(1): main.clamp => (11)
> goroutine(1): main.clamp(24, 12)
>> goroutine(1): main.clamp => (12)
> goroutine(1): main.sumTo(3)
>> goroutine(1): main.sumTo => (14)
> goroutine(1): main.twice(3)
> goroutine(1): main.scale(3)
>> goroutine(1): main.scale => (10)
> goroutine(1): main.scale(10)
>> goroutine(1): main.scale => (101)
>> goroutine(1): main.twice => (101)
> goroutine(1): main.leaf(15)
> goroutine(1): main.clamp(15, 10)
>> goroutine(1): main.clamp => (10)
>> goroutine(1): main.leaf => (10)
> goroutine(1): main.grow(900)
>> goroutine(1): main.grow => (107598)
`

// traceInlined traces inlinedRe in _fixtures/inlinesites into sink.
func traceInlined(t *testing.T, fl fixture.Flavour, ebpf bool, sink Sink) Summary {
	t.Helper()
	testenv.RequirePtrace(t)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	opts := Options{Exec: fixture.Build(t, "inlinesites", fl), Regexp: inlinedRe, Depth: 1, Stdout: devnull, EBPF: ebpf}
	sum, err := Run(context.Background(), opts, sink)
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	return sum
}

// TestInlinedEveryCallSite: both backends report every call of a function
// at each of its call sites, inlined or not, on every toolchain, with the
// arguments the -N -l build shows or "unreadable" where the optimized
// build's DWARF has no place for them, never another value; the return of
// an inlined call pairs with it and is marked; both backends print the
// same text.
func TestInlinedEveryCallSite(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Optimized: true, PIE: true}} {
			fl.Toolchain = tc
			t.Run(fl.Name(), func(t *testing.T) {
				var ptext bytes.Buffer
				psum := traceInlined(t, fl, false, NewTextWriter(&ptext))
				if !fl.Optimized {
					if ptext.String() != wantInlinedNoopt {
						t.Fatalf("ptrace trace:\n%s", ptext.String())
					}
				} else {
					checkInlined(t, ptext.String())
				}
				if psum.Events != 38 || psum.Funcs != 7 {
					t.Errorf("ptrace summary %+v", psum)
				}
				requireBPF(t)
				var etext bytes.Buffer
				esum := traceInlined(t, fl, true, NewTextWriter(&etext))
				if etext.String() != ptext.String() {
					t.Fatalf("ebpf:\n%s\nptrace:\n%s", etext.String(), ptext.String())
				}
				if esum.Events != 38 || esum.Probes != psum.Probes || esum.Dropped != 0 || esum.Funcs != 7 {
					t.Errorf("ebpf summary %+v, ptrace %+v", esum, psum)
				}
			})
		}
	}
}

// checkInlined compares an optimized build's trace with the -N -l one:
// line for line, a call shows each argument the same or unreadable, an
// inlined return shows no results, and main.add is inlined at five of its
// nine call sites.
func checkInlined(t *testing.T, got string) {
	t.Helper()
	want := strings.Split(wantInlinedNoopt, "\n")
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), got)
	}
	inlinedAdds, known := 0, 0
	for i, line := range lines {
		base, inlined := strings.CutSuffix(line, " (inlined)")
		if !inlined {
			if line != want[i] {
				t.Fatalf("line %d: %q, want %q\n%s", i, line, want[i], got)
			}
			continue
		}
		if strings.HasPrefix(base, ">> ") {
			head, _, _ := strings.Cut(want[i], " => ")
			if base != head+" => ()" {
				t.Fatalf("line %d: %q, want the return of %q", i, line, want[i])
			}
			continue
		}
		gname, gargs := splitCall(base)
		wname, wargs := splitCall(want[i])
		g, w := strings.Split(gargs, ", "), strings.Split(wargs, ", ")
		if gname != wname || len(g) != len(w) {
			t.Fatalf("line %d: %q, want %q", i, line, want[i])
		}
		for j := range g {
			switch {
			case g[j] == w[j]:
				known++
			case !strings.HasPrefix(g[j], "(unreadable "):
				t.Fatalf("line %d: argument %d is %s, want %s or unreadable", i, j, g[j], w[j])
			}
		}
		if gname == "main.add" {
			inlinedAdds++
		}
	}
	if inlinedAdds != 5 || known == 0 {
		t.Fatalf("%d inlined calls of main.add, %d arguments known:\n%s", inlinedAdds, known, got)
	}
}

// splitCall splits a call line into the function and its arguments.
func splitCall(line string) (name, args string) {
	_, call, _ := strings.Cut(line, "): ")
	name, args, _ = strings.Cut(strings.TrimSuffix(call, ")"), "(")
	return name, args
}

// TestInlinedJSON: the JSON output marks exactly the inlined events.
func TestInlinedJSON(t *testing.T) {
	var out bytes.Buffer
	traceInlined(t, fixture.Flavour{Optimized: true}, false, NewJSONWriter(&out))
	var text bytes.Buffer
	traceInlined(t, fixture.Flavour{Optimized: true}, false, NewTextWriter(&text))
	wantInlined := strings.Count(text.String(), " (inlined)")
	n, marked := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		n++
		if v, ok := ev["inlined"]; ok {
			if v != true {
				t.Fatalf("inlined is %v in %s", v, line)
			}
			marked++
			if ev["kind"] == "return" && ev["duration_ns"] == nil {
				t.Fatalf("inlined return without its call's duration: %s", line)
			}
		}
	}
	if n != 38 || marked != wantInlined || marked < 10 {
		t.Fatalf("%d events, %d marked inlined, text marks %d:\n%s", n, marked, wantInlined, out.String())
	}
}

// TestOnlyMain: the regexps that can match only package main's names are
// told from those that may match others.
func TestOnlyMain(t *testing.T) {
	for re, want := range map[string]bool{
		`^main\.hot$`: true, inlinedRe: true, `^main\.`: true, `^main\.(a|b)`: true,
		`main\.hot`: false, `^mai`: false, `^(?i)main\.hot`: false, `^main\.a|^b`: false,
		`^main.x`: false, `(?m)^main\.hot`: false, `^net/http\.`: false, `^main[.]x`: true, `[`: false,
	} {
		if got := onlyMain(re); got != want {
			t.Errorf("onlyMain(%q) = %v, want %v", re, got, want)
		}
	}
}
