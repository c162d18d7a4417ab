package main

import (
	"errors"
	"fmt"
)

var errBadConfig = errors.New("bad config")

func validate(level int) error {
	if level > 2 {
		return fmt.Errorf("level %d too deep: %w", level, errBadConfig)
	}
	return nil
}

func load(level int) {
	if err := validate(level); err != nil {
		panic(err)
	}
	load(level + 1)
}

func main() {
	fmt.Println("starting")
	load(0)
}
