package trace

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

// In a container tinydbg knows its target by the container's pids. The
// BPF programs compared them with the initial namespace's, so an eBPF
// trace (events, holds and --stats, --exec and --pid alike) saw nothing.
func TestEBPFInPidNamespace(t *testing.T) {
	requireBPF(t)
	testenv.RunInPidNamespace(t, "TestBackendsAgree", "TestEBPFPidLosslessSlowConsumer", "TestStatsAttached")
}
