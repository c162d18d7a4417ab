//go:build go1.23

package main

import "iter"

// numbers yields 1 and then waits, inside the coroutine iter.Pull runs
// it on, for the next call that never comes before stop.
func numbers(yield func(int) bool) {
	for i := 1; yield(i); i++ {
	}
}

func init() {
	startPull = func() func() {
		next, stop := iter.Pull(iter.Seq[int](numbers))
		next()
		return stop
	}
}
