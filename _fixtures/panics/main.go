package main

import (
	"errors"
	"fmt"
)

func mayPanic(n int) {
	if n == 3 {
		panic(errors.New("boom"))
	}
}

func safe(n int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	mayPanic(n)
	return nil
}

func main() {
	for i := 0; i < 5; i++ {
		fmt.Println(i, safe(i))
	}
}
