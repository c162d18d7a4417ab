package terminal_test

import (
	"regexp"
	"strings"
	"testing"
)

// stopLines drops the source listings and Delve's two default breakpoints
// from a REPL transcript, and masks addresses, leaving what a watchpoint
// session says.
func stopLines(out string) string {
	listing := regexp.MustCompile(`^(=>| ) *\d+:\t`)
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if listing.MatchString(l) || strings.HasPrefix(l, "Breakpoint runtime-fatal-throw ") ||
			strings.HasPrefix(l, "Breakpoint unrecovered-panic ") || l == "\tprint runtime.curg._panic.arg" {
			continue
		}
		keep = append(keep, l)
	}
	return hexRE.ReplaceAllString(strings.Join(keep, "\n"), "0xPC")
}

// watchSession runs script on the watch fixture and requires exactly want
// (through stopLines) on stdout and wantErr on stderr.
func watchSession(t *testing.T, script, want, wantErr string) {
	t.Helper()
	out, errOut := runREPL(t, "watch", script)
	if got := stopLines(out); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
}

// TestWatchGlobals watches package variables: the write stops after the
// instruction (on the next line) with the old and new values, hits are
// counted, -rw stops on the read and on the write of small += 2, a fifth
// watchpoint and toggling are refused with Delve's messages, clear works.
// Delve 1.27.2 prints the same lines but for the two value lines, and
// misses the read of small that follows a stop on counter.
func TestWatchGlobals(t *testing.T) {
	script := `break main.loop
continue
watch counter
watch -w counter
watch -rw small
watch -w sink
watch -w readme
watch -w late
breakpoints
continue
print counter
continue
continue
clear small
toggle counter
continue
continue
breakpoints
exit
`
	want := `Breakpoint 1 set at 0xPC for main.loop() ./main.go:17
> [Breakpoint 1] main.loop() ./main.go:17 (hits goroutine(1):1 total:1) (PC: 0xPC)
Watchpoint counter set at 0xPC
Watchpoint small set at 0xPC
Watchpoint sink set at 0xPC
Watchpoint readme set at 0xPC
Breakpoint 1 (enabled) at 0xPC for main.loop() ./main.go:17 (1)
Watchpoint counter (enabled) at 0xPC (0)
Watchpoint small (enabled) at 0xPC (0)
Watchpoint sink (enabled) at 0xPC (0)
Watchpoint readme (enabled) at 0xPC (0)
> watchpoint on [counter] main.loop() ./main.go:22 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 0
	new value: 1
1
> watchpoint on [small] main.loop() ./main.go:22 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 0
	new value: 0
> watchpoint on [small] main.loop() ./main.go:22 (hits goroutine(1):2 total:2) (PC: 0xPC)
	old value: 0
	new value: 2
Watchpoint small cleared at 0xPC
> watchpoint on [counter] main.loop() ./main.go:22 (hits goroutine(1):2 total:2) (PC: 0xPC)
	old value: 1
	new value: 2
> watchpoint on [counter] main.loop() ./main.go:22 (hits goroutine(1):3 total:3) (PC: 0xPC)
	old value: 2
	new value: 3
Breakpoint 1 (enabled) at 0xPC for main.loop() ./main.go:17 (1)
Watchpoint counter (enabled) at 0xPC (3)
Watchpoint sink (enabled) at 0xPC (0)
Watchpoint readme (enabled) at 0xPC (0)
`
	watchSession(t, script, want, `Command failed: wrong number of arguments: watch [-r|-w|-rw] <expr>
Command failed: hardware breakpoints exhausted
Command failed: can not disable watchpoints
`)
}

// TestWatchRead stops on reads with -r, which x86 can only do as a
// read-or-write watch that passes over accesses changing the value:
// counter++ (one read-modify-write instruction) does not stop, reading
// readme (sink = readme) and counter (the Println argument) do. Delve
// 1.27.2 refuses: "break on read only not supported".
func TestWatchRead(t *testing.T) {
	want := `Breakpoint 1 set at 0xPC for main.loop() ./main.go:17
> [Breakpoint 1] main.loop() ./main.go:17 (hits goroutine(1):1 total:1) (PC: 0xPC)
Watchpoint readme set at 0xPC
Watchpoint counter set at 0xPC
> watchpoint on [readme] main.loop() ./main.go:24 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 7
	new value: 7
> watchpoint on [counter] main.loop() ./main.go:25 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 3
	new value: 3
3
`
	watchSession(t, "break main.loop\ncontinue\nwatch -r readme\nwatch -r counter\ncontinue\ncontinue\nprint counter\nexit\n", want, "")
}

// TestWatchStackScope watches a local: three writes, then the function
// returns and the watchpoint is cleared with Delve's message, the stop
// shown where the frame returned to. Delve 1.27.2 prints the same lines
// but for the value lines.
func TestWatchStackScope(t *testing.T) {
	want := `Breakpoint 1 set at 0xPC for main.loop() ./main.go:19
> [Breakpoint 1] main.loop() ./main.go:19 (hits goroutine(1):1 total:1) (PC: 0xPC)
Watchpoint local set at 0xPC
> watchpoint on [local] main.loop() ./main.go:21 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 0
	new value: 10
> watchpoint on [local] main.loop() ./main.go:21 (hits goroutine(1):2 total:2) (PC: 0xPC)
	old value: 10
	new value: 20
> watchpoint on [local] main.loop() ./main.go:21 (hits goroutine(1):3 total:3) (PC: 0xPC)
	old value: 20
	new value: 30
> main.main() ./main.go:99 (PC: 0xPC)
Watchpoint local went out of scope and was cleared
Breakpoint 1 (enabled) at 0xPC for main.loop() ./main.go:19 (1)
`
	watchSession(t, "break main.go:19\ncontinue\nwatch -w local\ncontinue\ncontinue\ncontinue\ncontinue\nbreakpoints\nexit\n", want, "")
}

// TestWatchFollowsStackCopy watches x in a goroutine whose stack grow(200)
// copies: the write after the copy still stops, at the new address, and
// the watchpoint ends with mover. Delve 1.27.2 stops inside
// runtime.copystack instead and the program dies ("racy sudog adjustment").
func TestWatchFollowsStackCopy(t *testing.T) {
	out, errOut := runREPL(t, "watch", "break main.go:40\ncontinue\nwatch -rw x\nwatch -w x\ncontinue\ncontinue\nbreakpoints\ncontinue\ncontinue\nexit\n")
	set := regexp.MustCompile(`Watchpoint x set at (0x[0-9a-f]+)`).FindStringSubmatch(out)
	moved := regexp.MustCompile(`Watchpoint x \(enabled\) at (0x[0-9a-f]+) \(2\)`).FindStringSubmatch(out)
	if set == nil || moved == nil || set[1] == moved[1] {
		t.Errorf("watchpoint address when set %v, after the stack copy %v: want two different addresses", set, moved)
	}
	got := regexp.MustCompile(`goroutine\(\d+\)`).ReplaceAllString(stopLines(out), "goroutine(G)")
	want := `Breakpoint 1 set at 0xPC for main.mover() ./main.go:40
> [Breakpoint 1] main.mover() ./main.go:40 (hits goroutine(G):1 total:1) (PC: 0xPC)
Watchpoint x set at 0xPC
> watchpoint on [x] main.mover() ./main.go:41 (hits goroutine(G):1 total:1) (PC: 0xPC)
	old value: 1
	new value: 2
> watchpoint on [x] main.mover() ./main.go:42 (hits goroutine(G):2 total:2) (PC: 0xPC)
	old value: 2
	new value: 20102
Breakpoint 1 (enabled) at 0xPC for main.mover() ./main.go:40 (1)
Watchpoint x (enabled) at 0xPC (2)
> watchpoint on [x] main.mover() ./main.go:43 (hits goroutine(G):3 total:3) (PC: 0xPC)
	old value: 20102
	new value: 3
> main.main.func1() ./main.go:104 (PC: 0xPC)
Watchpoint x went out of scope and was cleared
`
	if got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if errOut != "Command failed: can not watch stack allocated variable for reads\n" {
		t.Errorf("stderr: %q", errOut)
	}
}

// TestWatchFollowsStackShrink watches y in a goroutine whose stack grows
// (copied by the goroutine itself) and is then shrunk by the collector
// while it is parked (copied by another goroutine): the write after both
// copies still stops, and the watchpoint ends with shrinker.
func TestWatchFollowsStackShrink(t *testing.T) {
	out, errOut := runREPL(t, "watch", "break main.go:73\ncontinue\nwatch -w y\ncontinue\ncontinue\ncontinue\nexit\n")
	got := regexp.MustCompile(`goroutine\(\d+\)`).ReplaceAllString(stopLines(out), "goroutine(G)")
	want := `Breakpoint 1 set at 0xPC for main.shrinker() ./main.go:73
> [Breakpoint 1] main.shrinker() ./main.go:73 (hits goroutine(G):1 total:1) (PC: 0xPC)
Watchpoint y set at 0xPC
> watchpoint on [y] main.shrinker() ./main.go:74 (hits goroutine(G):1 total:1) (PC: 0xPC)
	old value: 1
	new value: 43081
> watchpoint on [y] main.shrinker() ./main.go:77 (hits goroutine(G):2 total:2) (PC: 0xPC)
	old value: 43081
	new value: 5
> main.shrink.func1() ./main.go:87 (PC: 0xPC)
Watchpoint y went out of scope and was cleared
`
	if !strings.HasSuffix(got, want) {
		t.Errorf("stdout:\n%s\nwant suffix:\n%s", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

// TestWatchRestart: a restart drops watchpoints, whose addresses belonged
// to the old process, with Delve's words.
func TestWatchRestart(t *testing.T) {
	out, errOut := runREPL(t, "watch", "break main.loop\ncontinue\nwatch -w counter\nrestart\ncontinue\ncontinue\nexit\n")
	got := regexp.MustCompile(`PID \d+`).ReplaceAllString(stopLines(out), "PID N")
	want := `Breakpoint 1 set at 0xPC for main.loop() ./main.go:17
> [Breakpoint 1] main.loop() ./main.go:17 (hits goroutine(1):1 total:1) (PC: 0xPC)
Watchpoint counter set at 0xPC
Discarded breakpoint counter at 0xPC for :0: breakpoint 2 can not be enabled
Process restarted with PID N
> [Breakpoint 1] main.loop() ./main.go:17 (hits goroutine(1):1 total:1) (PC: 0xPC)
`
	if !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	if !strings.Contains(errOut, "has exited with status 0") {
		t.Errorf("stderr: %q, want the program to run to its end", errOut)
	}
}

// TestWatchWriteSteppedOver: continuing from a breakpoint on counter++
// first steps over that instruction alone; its write must stop the
// program there, before it runs on. Delve 1.27.2 prints the same lines but
// for the value lines.
func TestWatchWriteSteppedOver(t *testing.T) {
	want := `Breakpoint 1 set at 0xPC for main.loop() ./main.go:21
> [Breakpoint 1] main.loop() ./main.go:21 (hits goroutine(1):1 total:1) (PC: 0xPC)
Watchpoint counter set at 0xPC
> watchpoint on [counter] main.loop() ./main.go:22 (hits goroutine(1):1 total:1) (PC: 0xPC)
	old value: 0
	new value: 1
> [Breakpoint 1] main.loop() ./main.go:21 (hits goroutine(1):2 total:2) (PC: 0xPC)
> watchpoint on [counter] main.loop() ./main.go:22 (hits goroutine(1):2 total:2) (PC: 0xPC)
	old value: 1
	new value: 2
`
	watchSession(t, "break main.go:21\ncontinue\nwatch -w counter\ncontinue\ncontinue\ncontinue\nexit\n", want, "")
}
