package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	s := summarize([]float64{5, 1, 3})
	if s.med != 3 || s.min != 1 || s.max != 5 || s.n != 3 {
		t.Errorf("odd count: got %+v", s)
	}
	s = summarize([]float64{4, 1, 3, 10})
	if s.med != 3.5 || s.min != 1 || s.max != 10 {
		t.Errorf("even count: got %+v", s)
	}
	if s := summarize(nil); !math.IsNaN(s.med) || s.n != 0 {
		t.Errorf("empty: got %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	if got := percentile(xs, 10); got != 1 {
		t.Errorf("p10 = %v, want 1", got)
	}
	if got := percentile(xs, 90); got != 9 {
		t.Errorf("p90 = %v, want 9", got)
	}
}

func TestFormatting(t *testing.T) {
	cases := map[float64]string{1.5: "1.5 s", 0.0123: "12.3 ms", 4.56e-6: "4.56 µs", 3.9e-7: "390 ns"}
	for v, want := range cases {
		if got := secs(v); got != want {
			t.Errorf("secs(%v) = %q, want %q", v, got, want)
		}
	}
	if got := ratio(1, 4); got != "0.25×" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(math.NaN(), 4); got != "n/a" {
		t.Errorf("ratio with NaN = %q", got)
	}
	if got := verdict(0.4, 0.5) + "/" + verdict(0.6, 0.5) + "/" + verdict(math.NaN(), 0.5); got != "met/NOT met/not measured" {
		t.Errorf("verdicts = %q", got)
	}
}

// TestCaptureCountsSplitLines feeds lines cut at arbitrary points, as a pipe
// delivers them, and checks that only entry lines are counted.
func TestCaptureCountsSplitLines(t *testing.T) {
	c := &capture{match: "main.hot("}
	text := "> goroutine(7): main.hot(0)\n>> goroutine(7): main.hot => (1)\n> goroutine(4): main.hot(2)\nsum 5\n"
	for i := 0; i < len(text); i += 5 {
		c.Write([]byte(text[i:min(i+5, len(text))]))
	}
	if c.count != 2 {
		t.Errorf("counted %d entry lines, want 2", c.count)
	}
	if c.String() != text {
		t.Errorf("kept %q", c.String())
	}
}

// TestRunMeasuresRealProcess runs a real child and checks exit code, output
// and that rusage reported a resident size.
func TestRunMeasuresRealProcess(t *testing.T) {
	r, err := run(spec{path: "/bin/sh", args: []string{"-c", "read x; echo got $x; exit 3"}, stdin: "hello\n", timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.exitCode != 3 || strings.TrimSpace(r.output) != "got hello" || r.maxRSS <= 0 || r.wall <= 0 {
		t.Errorf("got %+v", r)
	}
	_, err = run(spec{path: "/bin/sleep", args: []string{"5"}, timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("timeout: err = %v", err)
	}
}

func TestStoppedAt(t *testing.T) {
	re := stoppedAt("main.main")
	for _, s := range []string{
		"(dlv) > [Breakpoint 1] main.main() /usr/local/go/src/cmd/go/main.go:90 (hits goroutine(1):1 total:1)",
		"> main.main() ./main.go:5 (PC: 0x1)",
	} {
		if !re.MatchString(s) {
			t.Errorf("no match: %q", s)
		}
	}
	if re.MatchString("Breakpoint 1 set at 0x4a2520 for main.main() main.go:23") {
		t.Error("matched the breakpoint-set line, which is not a stop")
	}
}
