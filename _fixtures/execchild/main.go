// execchild runs itself again as a child ("child" argument), waits for it
// and reports: a program that forks and execs, for follow-exec.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func childWork(n int) int {
	return n * 3
}

func parentDone(code int) {
	fmt.Println("parent: child exited with", code)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("child:", childWork(14))
		return
	}
	cmd := exec.Command(os.Args[0], "child")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = 1
	}
	parentDone(code)
}
