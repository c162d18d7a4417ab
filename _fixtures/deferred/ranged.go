//go:build go1.23

package main

// seq yields 0 and 1, for a range-over-func loop.
func seq(yield func(int) bool) {
	for i := 0; i < 2; i++ {
		if !yield(i) {
			return
		}
	}
}

// ranged defers from a range-over-func loop body: the runtime keeps those
// records on a list of their own, headed by a record of ranged's frame.
func ranged() {
	for i := range seq {
		defer note("ranged", i)
	}
	stop(0)
}
