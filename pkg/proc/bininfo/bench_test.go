package bininfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	cmdGoOnce sync.Once
	cmdGoPath string
	cmdGoErr  error
)

// largeBinary builds cmd/go from GOROOT (about 20 MB with DWARF) once per
// machine; its size makes any eager walk of .debug_info visible.
func largeBinary(b *testing.B) string {
	cmdGoOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "tinydbg-bench-cmdgo")
		cmdGoPath = filepath.Join(dir, "go")
		if _, err := os.Stat(cmdGoPath); err == nil {
			return
		}
		if cmdGoErr = os.MkdirAll(dir, 0o755); cmdGoErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", cmdGoPath+".tmp", "cmd/go").CombinedOutput()
		if err != nil {
			cmdGoErr = err
			b.Logf("%s", out)
			return
		}
		cmdGoErr = os.Rename(cmdGoPath+".tmp", cmdGoPath)
	})
	if cmdGoErr != nil {
		b.Fatalf("building cmd/go: %v", cmdGoErr)
	}
	return cmdGoPath
}

// BenchmarkOpenLookupLarge measures what a "break main.main" costs on a
// large binary: open, find the function, its line, and that line's PCs.
func BenchmarkOpenLookupLarge(b *testing.B) {
	path := largeBinary(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		bi, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		fn, err := bi.LookupFunc("main.main")
		if err != nil {
			b.Fatal(err)
		}
		// The breakpoint address must map to a line; the declaration
		// line is then looked up by file.
		if file, line, _ := bi.PCToLine(bi.FirstPCAfterPrologue(fn)); file == "" || line == 0 {
			b.Fatalf("main.main body at %s:%d", file, line)
		}
		file, line := fn.DeclFile, fn.DeclLine
		if !strings.HasSuffix(file, "cmd/go/main.go") {
			b.Fatalf("main.main declared at %s:%d", file, line)
		}
		pcs, err := bi.LineToPCs("cmd/go/main.go", line)
		if err != nil || len(pcs) == 0 {
			b.Fatalf("LineToPCs(%s, %d) = %v, %v", file, line, pcs, err)
		}
		bi.Close()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time in ns. The machine is
// shared, so wall-clock ns/op alone overstates the cost under load; CPU
// time per op shows the work done (it exceeds ns/op when sections are
// inflated in parallel).
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkOpenOnly measures Open alone, which must not touch DWARF.
func BenchmarkOpenOnly(b *testing.B) {
	path := largeBinary(b)
	b.ReportAllocs()
	for b.Loop() {
		bi, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		bi.Close()
	}
}
