package debugger

// SetCheckBPF replaces the BPF permission check for a test; the returned
// function restores it.
func SetCheckBPF(f func() error) func() {
	old := checkBPF
	checkBPF = f
	return func() { checkBPF = old }
}
