//go:build !go1.23

package main

// ranged needs range-over-func (Go 1.23); older toolchains call nothing.
func ranged() {}
