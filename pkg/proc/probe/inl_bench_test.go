package probe

import (
	"regexp"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

func BenchmarkFindInlinedHTTP(b *testing.B) {
	path := fixture.Build(b, "ebpfhttp", fixture.Flavour{Optimized: true})
	rx := regexp.MustCompile(`^net/http\.`)
	for i := 0; i < b.N; i++ {
		bi, types := openB(b, path)
		names, _ := bi.InlinedFuncNames()
		frames, _ := LoadFrames(bi)
		n := 0
		for _, name := range names {
			if !rx.MatchString(name) {
				continue
			}
			insts, _ := bi.InlinedInstances(name)
			for _, inst := range insts {
				if _, err := FindInlined(bi, types, frames, inst); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.ReportMetric(float64(n), "copies")
		bi.Close()
	}
}

func openB(b *testing.B, path string) (*bininfo.BinaryInfo, *godwarf.Types) {
	bi, err := bininfo.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	d, err := bi.DWARF()
	if err != nil {
		b.Fatal(err)
	}
	return bi, godwarf.New(d)
}
