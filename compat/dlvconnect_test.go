package compat

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// transcriptScript is the session fed to `dlv connect` on stdin. It steps
// once before `args` because at the function breakpoint (prologue_end, on
// the func line) the result slot is not yet zeroed and holds stack garbage;
// it lists user goroutines only because the runtime's goroutine ids change
// from run to run.
var transcriptScript = []string{
	"break main.add",
	"breakpoints",
	"continue",
	"goroutines -with user",
	"stack",
	"step",
	"args",
	"step",
	"locals",
	"stepout",
	"next",
	"print *&p",
	"set p.X = 9",
	"print p",
	"restart",
	"clear 1",
	"continue",
	"quit",
}

// headless is a headless server process and what it printed.
type headless struct {
	addr   string
	lines  chan string // stdout after the banner: the debugged program's
	exited chan error
}

// startHeadless runs argv, which must print Delve's banner first.
func startHeadless(t *testing.T, argv ...string) *headless {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &headless{lines: make(chan string, 64), exited: make(chan error, 1)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-h.exited
		h.exited <- nil
	})
	banner := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				banner <- sc.Text()
				first = false
				continue
			}
			h.lines <- sc.Text()
		}
		close(h.lines)
		close(banner)
		h.exited <- cmd.Wait()
	}()
	select {
	case line := <-banner:
		const prefix = "API server listening at: "
		if !strings.HasPrefix(line, prefix+"127.0.0.1:") {
			t.Fatalf("%s: first line %q", argv[0], line)
		}
		h.addr = strings.TrimPrefix(line, prefix)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no banner", argv[0])
	}
	return h
}

// wait returns the program's output once the server has exited.
func (h *headless) wait(t *testing.T, who string) []string {
	t.Helper()
	var out []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				select {
				case err := <-h.exited:
					h.exited <- err
					if err != nil {
						t.Fatalf("%s exited with %v", who, err)
					}
					return out
				case <-timeout:
					t.Fatalf("%s still running after quit", who)
				}
			}
			out = append(out, l)
		case <-timeout:
			t.Fatalf("%s still running after quit", who)
		}
	}
}

// connect runs `dlv connect addr` with the transcript script on stdin and
// returns what it printed.
func connect(t *testing.T, addr string) string {
	t.Helper()
	return connectScript(t, addr, transcriptScript)
}

// connectScript is connect with another script.
func connectScript(t *testing.T, addr string, script []string) string {
	t.Helper()
	out, err := run(t, strings.Join(script, "\n")+"\n", 60*time.Second, dlvBin, "connect", addr)
	if err != nil {
		t.Fatalf("dlv connect: %v\n%s", err, out)
	}
	return string(out)
}

var (
	ansiRE   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	threadRE = regexp.MustCompile(`\(thread \d+\)`)
	pidRE    = regexp.MustCompile(`(PID|Process) \d+`)
	hexRE    = regexp.MustCompile(`0x[0-9a-f]+`)
	addrsRE  = regexp.MustCompile(`0x[0-9a-f]+(?:,0x[0-9a-f]+)+`)
)

// normalize removes colours and masks thread ids and pids, which differ
// between any two runs, and sorts a breakpoint's address list: Delve lists
// a multi-address breakpoint's addresses in map order, which changes from
// run to run.
func normalize(s string) []string {
	s = ansiRE.ReplaceAllString(s, "")
	s = addrsRE.ReplaceAllStringFunc(s, func(list string) string {
		addrs := strings.Split(list, ",")
		slices.Sort(addrs)
		return strings.Join(addrs, ",")
	})
	s = threadRE.ReplaceAllString(s, "(thread TID)")
	s = pidRE.ReplaceAllString(s, "$1 PID")
	return strings.Split(s, "\n")
}

// TestDlvConnectTranscript drives `tinydbg exec --headless` with Delve's
// own terminal (`dlv connect`) and checks every line it prints: against
// fixed expectations, and against the transcript of the same script on
// `dlv exec --headless` of the same binary, which must be identical.
func TestDlvConnectTranscript(t *testing.T) {
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := filepath.Join(fixture.Dir(), "basic", "main.go")

	tiny := startHeadless(t, tinydbgBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	got := normalize(connect(t, tiny.addr))
	if out := tiny.wait(t, "tinydbg"); len(out) != 1 || out[0] != "pt(6,8) 7 14" {
		t.Fatalf("program output under tinydbg: %q", out)
	}

	// Fixed expectations, addresses masked: the transcript cannot be
	// right by merely matching Delve's if both went wrong the same way.
	want := []string{
		"Type 'help' for list of commands.",
		"(dlv) Breakpoint 1 set at 0xADDR for main.add() SRC:13",
		"(dlv) > [Breakpoint 1] main.add() SRC:13 (hits goroutine(1):1 total:1) (PC: 0xADDR)",
		"=>  13:\tfunc add(a, b int) int {",
		"(dlv) * Goroutine 1 - User: SRC:13 main.add (0xADDR) (thread TID)",
		"[1 goroutines]",
		"(dlv) 0  0xADDR in main.add",
		"   at SRC:13",
		"1  0xADDR in main.main",
		"   at SRC:32",
		"2  0xADDR in runtime.main",
		"3  0xADDR in runtime.goexit",
		"(dlv) > main.add() SRC:14 (PC: 0xADDR)",
		"=>  14:\t\tsum := a + b",
		"(dlv) a = 3",
		"b = 4",
		"~r0 = 0",
		"(dlv) > main.add() SRC:15 (PC: 0xADDR)",
		"=>  15:\t\treturn sum",
		"(dlv) sum = 7",
		"(dlv) > main.main() SRC:32 (PC: 0xADDR)",
		"Values returned:",
		"\t~r0: 7",
		"=>  32:\t\tn := add(p.X, p.Y)",
		"(dlv) > main.main() SRC:33 (PC: 0xADDR)",
		"=>  33:\t\tp.Scale(2)",
		`(dlv) main.Point {X: 3, Y: 4, Name: "pt"}`,
		`(dlv) (dlv) main.Point {X: 9, Y: 4, Name: "pt"}`,
		"(dlv) Process restarted with PID PID",
		"(dlv) Breakpoint 1 cleared at 0xADDR for main.add() SRC:13",
		"(dlv) Process PID has exited with status 0",
		"(dlv) ",
	}
	i := 0
	for _, l := range got {
		if i < len(want) && hexRE.ReplaceAllString(strings.ReplaceAll(l, src, "SRC"), "0xADDR") == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("tinydbg transcript lacks %q (in this order after the lines before it):\n%s", want[i], strings.Join(got, "\n"))
	}
	if last := got[len(got)-1]; last != "(dlv) " {
		t.Fatalf("transcript ends with %q", last)
	}

	ref := startHeadless(t, dlvBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	delve := normalize(connect(t, ref.addr))
	ref.wait(t, "dlv")
	sameTranscripts(t, got, delve)
}

// sameTranscripts requires two transcripts to be identical line for line,
// showing both in full when they are not.
func sameTranscripts(t *testing.T, got, delve []string) {
	t.Helper()
	for k := 0; k < max(len(got), len(delve)); k++ {
		var g, d string
		if k < len(got) {
			g = got[k]
		}
		if k < len(delve) {
			d = delve[k]
		}
		if g != d {
			t.Errorf("line %d differs:\ntinydbg: %q\ndelve:   %q", k+1, g, d)
		}
	}
	if t.Failed() {
		t.Logf("tinydbg transcript:\n%s\n\ndelve transcript:\n%s", strings.Join(got, "\n"), strings.Join(delve, "\n"))
	}
}
