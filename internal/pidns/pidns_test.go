package pidns

import (
	"os"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

// Outside a container the test process is in the initial namespace; in
// the one RunInPidNamespace makes, Self must say it is not.
func TestSelf(t *testing.T) {
	ns, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	if want := link == "pid:[4026531836]"; ns.Initial() != want {
		t.Fatalf("Initial() = %v for %s", ns.Initial(), link)
	}
	if testenv.InPidNamespace() && ns.Initial() {
		t.Fatalf("a new pid namespace taken for the initial one: %s", link)
	}
	if ns.Dev == 0 {
		t.Fatalf("no nsfs device: %+v", ns)
	}
	testenv.RunInPidNamespace(t, "TestSelf")
}
