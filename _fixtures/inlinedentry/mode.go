package main

var mode int

// setMode is small enough to be inlined into its caller.
func setMode(m int) {
	mode = m
}
