package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// main waits for SIGUSR1 when asked, then exits with the code given as its
// first argument, so tests check signal delivery and exit-code reporting.
func main() {
	if len(os.Args) > 2 && os.Args[2] == "wait-signal" {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		fmt.Println("waiting")
		<-ch
		fmt.Println("got SIGUSR1")
	}
	code := 0
	if len(os.Args) > 1 {
		fmt.Sscan(os.Args[1], &code)
	}
	os.Exit(code)
}
