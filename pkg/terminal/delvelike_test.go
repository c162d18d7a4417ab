package terminal_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestDisabledBreakpointAndFuncLineOffset checks two outputs against what
// Delve 1.27 prints for the same script on basic: "func:line" counts from
// the func line (describe is declared at 23, so describe:1 is 24), and a
// disabled breakpoint is listed by the expression it was set with.
func TestDisabledBreakpointAndFuncLineOffset(t *testing.T) {
	out, errOut := runREPL(t, "basic", "break main.add\nbreak main.describe:1\ntoggle 1\nbreakpoints\ncontinue\nexit\n")
	want := `Breakpoint 1 set at 0xPC for main.add() ./main.go:13
Breakpoint 2 set at 0xPC for main.describe() ./main.go:24
Breakpoint 1 toggled at 0xPC for main.add() ./main.go:13
` + defaultBps + `Breakpoint 1 (disabled) at main.add
Breakpoint 2 (enabled) at 0xPC for main.describe() ./main.go:24 (0)
> [Breakpoint 2] main.describe() ./main.go:24 (hits goroutine(1):1 total:1) (PC: 0xPC)
`
	got := hexRE.ReplaceAllString(out, "0xPC")
	if !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

// TestRegsLikeDelve checks that regs lists Delve's 26 registers in its
// order and width, Rflags with its flags decoded, then an empty line.
func TestRegsLikeDelve(t *testing.T) {
	out, _ := runREPL(t, "basic", "break main.add\ncontinue\nregs\nexit\n")
	i := strings.Index(out, "    Rip = ")
	if i < 0 {
		t.Fatalf("no registers in:\n%s", out)
	}
	regs := out[i:]
	names := regexp.MustCompile(`(?m)^ *(\w+) = 0x[0-9a-f]{16}`).FindAllStringSubmatch(regs, -1)
	var got []string
	for _, n := range names {
		got = append(got, n[1])
	}
	want := "Rip Rsp Rax Rbx Rcx Rdx Rsi Rdi Rbp R8 R9 R10 R11 R12 R13 R14 R15 Rflags Es Cs Ss Ds Fs Gs Fs_base Gs_base"
	if strings.Join(got, " ") != want {
		t.Errorf("registers %q, want %q", strings.Join(got, " "), want)
	}
	if !regexp.MustCompile(`(?m)^ Rflags = 0x[0-9a-f]{16}\t\[(\w+ )*IF (\w+ )*IOPL=0\]$`).MatchString(regs) {
		t.Errorf("Rflags not decoded:\n%s", regs)
	}
	if !strings.HasSuffix(regs, "Gs_base = "+regexp.MustCompile(`Gs_base = (0x[0-9a-f]{16})`).FindStringSubmatch(regs)[1]+"\n\n") {
		t.Errorf("regs does not end with an empty line:\n%q", regs)
	}
}
