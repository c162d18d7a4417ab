package terminal_test

import (
	"strings"
	"testing"
)

// TestCallCommand: the same script through dlv 1.27.2 prints the same
// (colours, addresses and the program's own output aside): each call shows where the goroutine is
// back and "Values returned:", a panic as ~panic, refused calls one
// "Command failed" line, and print refuses calls as Delve does.
func TestCallCommand(t *testing.T) {
	script := "config source-list-line-count 0\nbreak main.go:83\ncontinue\n" +
		"call add(40, 2)\ncall swap(*p)\ncall newPoint(k, 8)\ncall s.Area()\ncall nothing()\ncall boom(name)\n" +
		"call add(1)\ncall add(name, 1)\ncall p.Scale(2)\ncall -unsafe p.Scale(2)\ncall greet(\"x\", 1)\nprint add(1, 2)\ncall k\nexit\n"
	out, errOut := runREPL(t, "fncall", script)
	here := "> main.stop() ./main.go:83 (PC: 0xPC)\n"
	src := "=>  83:\t\tfmt.Println(\"stop\", p.X, s.Area(), name, k)\n"
	want := "Breakpoint 1 set at 0xPC for main.stop() ./main.go:83\n" +
		"> [Breakpoint 1] main.stop() ./main.go:83 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" + src +
		here + "Values returned:\n\t~r0: 42\n\n" + src +
		here + "Values returned:\n\t~r0: main.Point {X: 4, Y: 3}\n\t~r1: true\n\n" + src +
		here + "Values returned:\n\t~r0: (*main.Point)(0xPC)\n*main.Point {X: 7, Y: 8}\n\n" + src +
		here + "Values returned:\n\t~r0: 10\n\n" + src +
		here + "Values returned:\n\n" + src +
		here + "Values returned:\n\t~panic: interface {}(string) \"boom: gopher\"\n\n" + src +
		here + here + here +
		here + "Values returned:\n\t~r0: 14\n\n" + src +
		here + "Values returned:\n\t~r0: \"x!\"\n\n" + src +
		here + "Values returned:\n\tk: 7\n\n" + src
	if got := hexRE.ReplaceAllString(out, "0xPC"); !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	wantErr := "Command failed: not enough arguments\n" +
		"Command failed: can not convert value of type string to int\n" +
		"Command failed: could not set call receiver: cannot use p.Scale as argument p in function main.(*Point).Scale: stack object passed to escaping pointer: p\n" +
		"Command failed: function calls not allowed without using 'call'\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
}
