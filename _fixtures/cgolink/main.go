// Command cgolink is linked externally (it uses cgo), so its TLS layout
// comes from the system linker rather than Go's.
package main

// int twice(int x) { return 2 * x; }
import "C"

import "fmt"

func main() {
	fmt.Println(int(C.twice(21)))
}
