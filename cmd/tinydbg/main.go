// Command tinydbg is a debugger and tracer for Go programs on linux/amd64.
package main

func main() {
	if err := newRootCommand().Execute(); err != nil {
		exitWith(err)
	}
}
