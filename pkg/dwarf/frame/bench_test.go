package frame

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// buildCmdGo builds the go command (tens of thousands of functions) once
// per toolchain into the fixture cache, or skips the benchmark.
func buildCmdGo(b *testing.B) string {
	b.Helper()
	out := filepath.Join(os.TempDir(), "tinydbg-fixtures", "cmd-go-"+runtime.Version())
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		b.Skipf("cannot create the cache dir: %v", err)
	}
	cmd := exec.Command("go", "build", "-o", out+".tmp", "cmd/go")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("building cmd/go failed: %v\n%s", err, msg)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		b.Skip(err)
	}
	return out
}

// BenchmarkCmdGo measures, on cmd/go's .debug_frame, building the index and
// then answering 1000 lookups (FDEForPC + RulesAt) spread over the text.
func BenchmarkCmdGo(b *testing.B) {
	f, err := elf.Open(buildCmdGo(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".debug_frame")
	if sec == nil {
		b.Fatal("cmd/go has no .debug_frame")
	}
	data, err := sec.Data() // decompression is debug/elf's cost, not ours
	if err != nil {
		b.Fatal(err)
	}
	parse := func() *Table {
		tab, err := Parse(data, f.ByteOrder, 8, sec.Addr, false)
		if err != nil {
			b.Fatal(err)
		}
		return tab
	}
	tab := parse()
	pcs := make([]uint64, 1000)
	for i := range pcs {
		fde := tab.FDE(i * tab.Len() / len(pcs))
		pcs[i] = fde.Begin() + (fde.End()-fde.Begin())/2
	}
	lookups := func(tab *Table) {
		for _, pc := range pcs {
			fde, err := tab.FDEForPC(pc)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fde.RulesAt(pc); err != nil {
				b.Fatal(err)
			}
		}
	}

	b.Run("IndexAnd1000Lookups", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lookups(parse())
		}
		b.ReportMetric(float64(tab.Len()), "FDEs") // after the loop, which resets metrics
	})
	b.Run("Index", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			parse()
		}
	})
	b.Run("1000Lookups", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lookups(tab)
		}
	})
}
