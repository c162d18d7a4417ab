package trace

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestReusedTextIsFresh traces hotloop's main.big, whose arguments repeat
// from call to call, so that the eBPF reader reuses their text: with
// checkReuse every reused text must equal a fresh load's, and the trace
// must print the same lines as one that loads every value (an observer
// turns reuse off).
func TestReusedTextIsFresh(t *testing.T) {
	requireBPF(t)
	const perG = 2000
	t.Setenv("HOTLOOP_N", "2000")
	t.Setenv("HOTLOOP_FN", "big")
	call := regexp.MustCompile(`^> goroutine\(\d+\): main\.big\("0123456789012345678901234567890123456789", \*main\.Item \{Weight: [0-3], Tag: "tag", Next: \*main\.Item \{Weight: 8, Tag: "next", Next: \*main\.Item nil\}\}\)$`)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			opts := Options{Regexp: `^main\.big$`, Depth: 1, EBPF: true}
			checked := opts
			checked.checkReuse = true
			ctext, csum := traceFixture(t, "hotloop", fl, checked)
			if m := csum.memo; m.Mismatches != 0 || m.Hits*10 < m.Lookups*9 || m.Lookups < 2*4*perG {
				t.Errorf("reuse %+v: want no mismatch, and 90%% of %d lookups hit", m, 2*4*perG)
			}
			text, sum := traceFixture(t, "hotloop", fl, opts)
			fresh := opts
			fresh.observe = func(*Event) {}
			ftext, fsum := traceFixture(t, "hotloop", fl, fresh)
			if sum.memo.Hits == 0 || fsum.memo.Lookups != 0 {
				t.Errorf("reused %+v, with an observer %+v", sum.memo, fsum.memo)
			}
			for name, s := range map[string]Summary{"checked": csum, "reused": sum, "fresh": fsum} {
				if s.Events != 2*4*perG || s.Dropped != 0 {
					t.Errorf("%s: %d events, %d dropped", name, s.Events, s.Dropped)
				}
			}
			calls := func(text string) []string {
				var out []string
				for _, l := range strings.Split(text, "\n") {
					if strings.HasPrefix(l, "> ") {
						if !call.MatchString(l) {
							t.Errorf("call line %q", l)
						}
						out = append(out, l[strings.Index(l, ":"):])
					}
				}
				slices.Sort(out)
				return out
			}
			if c, r, f := calls(ctext), calls(text), calls(ftext); !slices.Equal(r, f) || !slices.Equal(c, f) || len(f) != 4*perG {
				t.Errorf("reused, checked and fresh traces differ: %d, %d, %d calls", len(r), len(c), len(f))
			}
		})
	}
}

// TestReusedTextOnHTTPServer checks reuse where the values are big and
// partly repeat: ServeHTTP's receiver is the same mux at every request.
func TestReusedTextOnHTTPServer(t *testing.T) {
	requireBPF(t)
	const re = `^net/http\.\(\*ServeMux\)\.ServeHTTP$`
	_, sum := traceFixture(t, "httpserve", fixture.Flavour{Optimized: true}, Options{Regexp: re, Depth: 1, EBPF: true, checkReuse: true})
	if m := sum.memo; m.Mismatches != 0 || m.Lookups == 0 || sum.Events != 6 {
		t.Errorf("reuse %+v, summary %+v", m, sum)
	}
	t.Logf("reuse on ServeHTTP: %+v", sum.memo)
}

// TestScalarTextIsFresh traces hotloop's main.hot, whose int argument and
// result are formatted from their bytes without a load: with checkReuse
// each must equal a fresh load's, and the trace must print every call and
// result exactly, as one that loads every value does.
func TestScalarTextIsFresh(t *testing.T) {
	requireBPF(t)
	const perG = 2000
	t.Setenv("HOTLOOP_N", "2000")
	t.Setenv("HOTLOOP_FN", "")
	line := regexp.MustCompile(`^(>>?) goroutine\(\d+\): main\.hot(?:\((-?\d+)\)| => \((-?\d+)\))$`)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			opts := Options{Regexp: `^main\.hot$`, Depth: 1, EBPF: true}
			checked := opts
			checked.checkReuse = true
			fresh := opts
			fresh.observe = func(*Event) {}
			want := make([]int, 0, 8*perG)
			for g := 0; g < 4; g++ {
				for i := 0; i < perG; i++ {
					want = append(want, i, -(i*3 + 1)) // a result as its negation
				}
			}
			slices.Sort(want)
			for name, o := range map[string]Options{"checked": checked, "direct": opts, "fresh": fresh} {
				text, sum := traceFixture(t, "hotloop", fl, o)
				if sum.Events != 8*perG || sum.Dropped != 0 {
					t.Errorf("%s: %d events, %d dropped", name, sum.Events, sum.Dropped)
				}
				m := sum.memo
				switch {
				case name == "fresh" && m.Scalars != 0:
					t.Errorf("fresh: %d scalars formatted without a load", m.Scalars)
				case name != "fresh" && (m.Scalars != 8*perG || m.Mismatches != 0):
					t.Errorf("%s: %+v, want %d scalars and no mismatch", name, m, 8*perG)
				}
				var got []int
				for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
					sm := line.FindStringSubmatch(l)
					if sm == nil {
						t.Fatalf("%s: line %q", name, l)
					}
					if sm[1] == ">" {
						got = append(got, atoi(t, sm[2]))
					} else {
						got = append(got, -atoi(t, sm[3]))
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %d values, not the %d calls and results hotloop made", name, len(got), len(want))
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
