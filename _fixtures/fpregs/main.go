// Program fpregs passes floating-point values in XMM registers with bit
// patterns a test can check exactly: float64s, a float32 and a complex128.
package main

import (
	"fmt"
	"math"
	"os"
)

//go:noinline
func fpArgs(a, b float64) float64 {
	return a + b
}

//go:noinline
func mixed(n int, f float32, c complex128) float64 {
	return float64(n)*float64(f) + real(c) - imag(c)
}

func main() {
	a := math.Float64frombits(0x400921fb54442d18) // pi
	b := -2.5
	if len(os.Args) > 1 {
		a, b = 1, 2
	}
	fmt.Printf("%#x\n", math.Float64bits(fpArgs(a, b)))
	fmt.Println(mixed(3, 1.5, complex(0.25, -4)))
}
