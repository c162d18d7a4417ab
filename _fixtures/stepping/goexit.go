package main

import "runtime"

// spun is made by spin, which runs finish as a goroutine's whole function
// (no arguments, so no go-statement wrapper): leaving finish returns into
// runtime.goexit. spin waits for the goroutine to be gone, so that the
// program cannot end before finish has returned.
var spun = spin()

var finished int

func spin() int {
	n := runtime.NumGoroutine()
	go finish()
	for runtime.NumGoroutine() > n {
		runtime.Gosched()
	}
	return finished
}

//go:noinline
func finish() {
	finished++
}
