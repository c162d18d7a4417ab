// deferred: a function with three pending deferred calls (a closure
// capturing by value and by reference, and two calls with arguments),
// stopped in a callee so that `stack -defer` and `deferred N` see them.
package main

import "fmt"

var trail []string

func note(s string, n int) {
	trail = append(trail, fmt.Sprint(s, n))
}

func stop(n int) int {
	return n + 1
}

func work(a int) (r int) {
	name := "cleanup"
	count := a * 2
	defer note("plain", a)
	defer func() {
		trail = append(trail, name)
		count++
		r += count
	}()
	defer note("second", a+1)
	return stop(count)
}

func main() {
	fmt.Println(work(20), trail)
	ranged()
	fmt.Println(trail)
}
