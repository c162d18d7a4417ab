// Command cgocall calls C functions compiled without optimisation and with
// frame pointers, so their .eh_frame rows follow the classic
// push rbp / mov rbp,rsp / pop rbp pattern that tests can predict.
package main

/*
#cgo CFLAGS: -O0 -fno-omit-frame-pointer -g

int c_sum(int *xs, int n) {
	int s = 0;
	for (int i = 0; i < n; i++) {
		s += xs[i];
	}
	return s;
}

int c_leaf_noframe(int x) __attribute__((optimize("omit-frame-pointer", "O2")));
int c_leaf_noframe(int x) {
	return x * 3 + 1;
}
// c_bigframe keeps a large array on the stack without a frame pointer, so
// its CFA is expressed relative to rsp after a "sub $N, %rsp".
int c_bigframe(int n) __attribute__((optimize("omit-frame-pointer", "O1"), noinline));
int c_bigframe(int n) {
	volatile char buf[512];
	for (int i = 0; i < 512; i++) {
		buf[i] = (char)(i + n);
	}
	return buf[n & 511] + c_leaf_noframe(n);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {
	xs := []C.int{1, 2, 3, 4}
	s := C.c_sum((*C.int)(unsafe.Pointer(&xs[0])), C.int(len(xs)))
	fmt.Println("sum", int(s), "leaf", int(C.c_leaf_noframe(5)), "big", int(C.c_bigframe(7)))
}
