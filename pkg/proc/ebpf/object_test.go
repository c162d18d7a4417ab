package ebpf

import (
	"github.com/tinydbg/tinydbg/internal/testenv"

	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestObjectMatchesSource fails when trace.bpf.c, a header it includes or
// the build script changed and trace.bpf.o was not rebuilt:
// bpf/trace.bpf.o.sum, written by build.sh, records the hashes of them all
// and of the object, and the compiler build.sh pins. A C file or header in
// bpf/ that the sum does not name fails too, so a new header cannot escape
// the check.
func TestObjectMatchesSource(t *testing.T) {
	sum, err := os.ReadFile("bpf/trace.bpf.o.sum")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("bpf/build.sh")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`(?m)^COMPILER="([^"]+)"$`).FindSubmatch(script)
	if pinned == nil {
		t.Fatal("build.sh pins no compiler (COMPILER=...)")
	}
	lines := strings.Split(strings.TrimSpace(string(sum)), "\n")
	if len(lines) < 4 || lines[0] != "compiler: "+string(pinned[1]) {
		t.Fatalf("trace.bpf.o.sum:\n%s\nwant the compiler line %q and the hashes", sum, "compiler: "+string(pinned[1]))
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		hash, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("trace.bpf.o.sum line %q", l)
		}
		b, err := os.ReadFile(filepath.Join("bpf", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "trace.bpf.o" && !bytes.Equal(b, traceObject) || name == "trace_bounded.bpf.o" && !bytes.Equal(b, boundedObject) {
			t.Fatalf("the embedded object is not bpf/%s", name)
		}
		got := sha256.Sum256(b)
		switch {
		case hex.EncodeToString(got[:]) == hash:
		case strings.HasSuffix(name, ".o"):
			t.Errorf("bpf/%s is not the object build.sh recorded: run make bpf", name)
		default:
			t.Errorf("bpf/%s changed since trace.bpf.o was built: run make bpf and commit the object and its sum", name)
		}
		seen[name] = true
	}
	sources, err := filepath.Glob("bpf/*.[ch]")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"build.sh", "trace.bpf.o", "trace_bounded.bpf.o"}
	for _, p := range sources {
		want = append(want, filepath.Base(p))
	}
	if !slices.Contains(want, "trace.bpf.c") {
		t.Fatal("bpf/trace.bpf.c is missing")
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("trace.bpf.o.sum has no hash of %s", name)
		}
	}
}

// TestObjectHasNoBuildPath: strings in the object (BTF names, line info)
// are NUL-terminated; none may be an absolute path, which would make the
// object depend on where it was built.
func TestObjectHasNoBuildPath(t *testing.T) {
	for _, obj := range [][]byte{traceObject, boundedObject} {
		if m := regexp.MustCompile(`\x00/[[:alnum:]_.-]+/[^\x00]*`).Find(obj); m != nil {
			t.Fatalf("the object embeds the absolute path %q", m[1:])
		}
		if !bytes.Contains(obj, []byte("\x00./trace.bpf.c\x00")) {
			t.Fatal("the object's line info does not name ./trace.bpf.c")
		}
	}
}

// TestObjectRebuilds rebuilds the object with the pinned compiler, where it
// is installed, and requires the committed bytes.
func TestObjectRebuilds(t *testing.T) {
	for _, tool := range []string{"clang-14", "llvm-strip-14"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, "%s is not installed: the object cannot be rebuilt here (.ci/run installs it)", tool)
		}
	}
	out, err := exec.Command("bpf/build.sh", "--check").CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh --check: %v\n%s", err, out)
	}
}

// TestBoundedLoopObject runs the traces of the edge cases and of kernel
// conditions with the object built for kernels without bpf_loop, which
// this kernel would otherwise never load; and checks that only the
// default object has bpf_loop's callback.
func TestBoundedLoopObject(t *testing.T) {
	if !haveLoop() {
		testenv.SkipOrFail(t, "this kernel lacks bpf_loop: the default object is not loaded here")
	}
	if !bytes.Contains(traceObject, []byte("capture_cb")) || bytes.Contains(boundedObject, []byte("capture_cb")) {
		t.Fatal("trace.bpf.o should have capture_cb, bpf_loop's callback, and trace_bounded.bpf.o should not")
	}
	useBoundedLoop = true
	t.Cleanup(func() { useBoundedLoop = false })
	t.Run("edge", TestTraceEdgeCases)
	t.Run("cond", TestTraceCondition)
}
