// execcall runs /bin/true, a program without Go's debug information, when
// the debugger calls runTrue: a child that follow-exec cannot debug,
// spawned during an injected call.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

//go:noinline
func runTrue() int {
	if err := exec.Command("/bin/true").Run(); err != nil {
		return 1
	}
	return 0
}

//go:noinline
func stop() {
	fmt.Println("stop")
}

func main() {
	stop()
	if len(os.Args) > 5 {
		runTrue()
	}
	stop()
}
