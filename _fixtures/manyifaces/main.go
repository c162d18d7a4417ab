// Command manyifaces passes a slice of 24 interfaces, each holding a
// pointer to a struct: more dynamic values than one eBPF event captures
// (MAX_JOBS, 16), so the probe's capture is cut and must be reported as
// cut, while ptrace shows every element.
package main

import "fmt"

type point struct{ X, Y int }

//go:noinline
func show(xs []any) int { return len(xs) }

func main() {
	xs := make([]any, 24)
	for i := range xs {
		xs[i] = &point{i, -i}
	}
	fmt.Println(show(xs))
}
