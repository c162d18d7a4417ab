// Program inlinestart inlines trimLeftByte (as bytes.TrimLeft inlines its
// own) into TrimLeft, where the inlined code begins with an instruction
// that is no statement: a breakpoint on trimLeftByte goes at the start of
// the inlined range, where Delve puts it.
package main

import (
	"fmt"
	"os"
)

func trimLeftByte(s []byte, c byte) []byte {
	for len(s) > 0 && s[0] == c {
		s = s[1:]
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

//go:noinline
func TrimLeft(s []byte, cutset string) []byte {
	if len(s) == 0 {
		return nil
	}
	if len(cutset) == 1 && cutset[0] < 0x80 {
		return trimLeftByte(s, cutset[0])
	}
	return s
}

func main() {
	fmt.Println(string(TrimLeft([]byte("xxhello"), "x")), len(os.Args))
}
