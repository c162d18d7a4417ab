package api

// DumpState is the progress of a core dump (DumpStart, DumpWait), with
// Delve's field names.
type DumpState struct {
	Dumping bool // the dump is being written
	AllDone bool // the dump finished (possibly incomplete, see MemDone)

	ThreadsDone, ThreadsTotal int
	MemDone, MemTotal         uint64

	Err string // why the dump failed, empty if it did not
}
