// Command results returns a slice from a function whose frame lies where
// an earlier call left a pattern, so that the result's stack slot holds
// that pattern when the function is entered (-N -l builds); keep's
// argument escapes, as sync.newEntry's.
package main

import "fmt"

//go:noinline
func fill() uintptr {
	var junk [96]uintptr
	for i := range junk {
		junk[i] = 0xdead0000 + uintptr(i)
	}
	return junk[len(junk)-1]
}

//go:noinline
func list(n int) (out []int) {
	for i := 0; i < n; i++ {
		out = append(out, i)
	}
	return out
}

type stat struct{ size int64 }

//go:noinline
func (st *stat) Size() int64 { return st.size }

//go:noinline
func keep(i any) *any {
	return &i
}

func main() {
	x := fill()
	fmt.Println(x, list(3))
	fill()
	fmt.Println(*keep(42))
	fill()
	fmt.Println((&stat{size: 9}).Size())
}
