package eval_test

import (
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// garbage is a target memory made of one pattern repeated over the whole
// address space: every pointer leads somewhere, lengths are whatever the
// bytes say, and lists are cyclic — the worst a corrupt process can do.
type garbage []byte

func (g garbage) ReadMemory(buf []byte, addr uint64) (int, error) {
	if len(g) == 0 {
		return len(buf), nil
	}
	for i := range buf {
		buf[i] = g[(addr+uint64(i))%uint64(len(g))]
	}
	return len(buf), nil
}

// fuzzScope builds a scope in main.shadow of the scopes fixture over
// memory mem; registers come from the same bytes.
func fuzzScope(f *testing.F, bi *bininfo.BinaryInfo, prog *eval.Program, mem garbage, pcOff uint64) *eval.Scope {
	fn, err := bi.LookupFunc("main.shadow")
	if err != nil {
		f.Fatal(err)
	}
	var r arch.Registers
	w := func(i uint64) uint64 {
		var b [8]byte
		mem.ReadMemory(b[:], i*8)
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	}
	r.Rax, r.Rbx, r.Rcx, r.Rdi, r.Rsi, r.Rsp = w(0), w(1), w(2), w(3), w(4), w(5)
	r.Rip = fn.Entry + pcOff%(fn.End-fn.Entry)
	regs := op.NewDwarfRegistersFrom(&r)
	regs.CFA = int64(w(6))
	regs.FrameBase = regs.CFA
	sc, err := prog.PCScope(mem, regs, r.Rip)
	if err != nil {
		f.Fatal(err)
	}
	return sc
}

func fuzzProgram(f *testing.F) (*bininfo.BinaryInfo, *eval.Program) {
	path := fixture.Build(f, "scopes", fixture.Flavour{Optimized: true})
	bi, err := bininfo.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { bi.Close() })
	prog, err := eval.NewProgram(bi)
	if err != nil {
		f.Fatal(err)
	}
	return bi, prog
}

// FuzzEval evaluates arbitrary expressions over corrupt memory: every
// outcome must be a value or an error, quickly.
func FuzzEval(f *testing.F) {
	bi, prog := fuzzProgram(f)
	for _, e := range []string{"counter", "named.Loc.X", "byName[\"two\"]", "byPoint[main.Point{1,2}]", "nums[1:3]",
		"greeting + greeting", "string(raw)", "[]byte(greeting)", "*ppt", "cyclic.Next.Next.V", "shape.(main.Rect)",
		"len(byName) * 2", "x", "(*main.List)(0x1000)", "1 << 70", "uint8(300)", "a == 3 && y > 1", "-(1.5 + 2i)"} {
		f.Add(e, []byte{0x10, 0, 0, 0, 0, 0, 0, 0}, uint64(20))
	}
	f.Add("nums", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, uint64(40))
	f.Fuzz(func(t *testing.T, expr string, mem []byte, pcOff uint64) {
		if len(expr) > 200 {
			return
		}
		sc := fuzzScope(f, bi, prog, garbage(mem), pcOff)
		start := time.Now()
		if v, err := sc.Eval(expr, value.DefaultLoadConfig); err == nil {
			_ = api.FormatVarMultiline(v)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("evaluating %q took %v", expr, d)
		}
	})
}

// FuzzLocals lists a frame's variables over corrupt memory and registers.
func FuzzLocals(f *testing.F) {
	bi, prog := fuzzProgram(f)
	f.Add([]byte{0x10, 0, 0, 0, 0, 0, 0, 0}, uint64(30))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1}, uint64(90))
	f.Fuzz(func(t *testing.T, mem []byte, pcOff uint64) {
		sc := fuzzScope(f, bi, prog, garbage(mem), pcOff)
		vars, err := sc.Variables(value.DefaultLoadConfig)
		if err == nil {
			_ = formatVars(vars, "locals", true)
		}
	})
}
