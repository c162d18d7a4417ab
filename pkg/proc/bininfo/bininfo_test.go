package bininfo

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

func openFixture(t *testing.T, name string, f fixture.Flavour) *BinaryInfo {
	t.Helper()
	bi, err := Open(fixture.Build(t, name, f))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { bi.Close() })
	return bi
}

// allFlavours are the four compilations of the same toolchain.
var allFlavours = []fixture.Flavour{{}, {Optimized: true}, {PIE: true}, {Optimized: true, PIE: true}}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello, not an executable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csrc := filepath.Join(dir, "c.c")
	if err := os.WriteFile(csrc, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cbin := filepath.Join(dir, "cprog")
	if out, err := exec.Command("gcc", "-g", "-o", cbin, csrc).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	// An arm64 "Go binary": the basic fixture with e_machine patched.
	b, err := os.ReadFile(fixture.Build(t, "basic", fixture.Flavour{}))
	if err != nil {
		t.Fatal(err)
	}
	b[18], b[19] = byte(elf.EM_AARCH64), 0
	arm := filepath.Join(dir, "arm64")
	if err := os.WriteFile(arm, b, 0o755); err != nil {
		t.Fatal(err)
	}
	nodwarf := fixture.Build(t, "basic", fixture.Flavour{NoDWARF: true})

	for _, tc := range []struct {
		path string
		want error
		msg  string
	}{
		{filepath.Join(dir, "missing"), ErrNotExist, "no such file"},
		{text, ErrNotELF, "not an ELF executable"},
		{cbin, ErrNotGo, "not a Go program"},
		{arm, ErrWrongArch, "unsupported architecture"},
		{nodwarf, ErrNoDWARF, "no DWARF debug information (was it built with -ldflags=-w?)"},
	} {
		bi, err := Open(tc.path)
		if err == nil {
			bi.Close()
			t.Errorf("Open(%s) succeeded, want %v", tc.path, tc.want)
			continue
		}
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%s) = %q, want one line wrapping %q", tc.path, err, tc.want)
		}
		var arch *ArchError
		if isArch := errors.As(err, &arch); isArch != (tc.want == ErrWrongArch) || isArch && arch.Machine != elf.EM_AARCH64 {
			t.Errorf("Open(%s) = %#v: an *ArchError only for arm64, naming EM_AARCH64", tc.path, err)
		}
	}
}

func TestGoVersionAndCompressedSections(t *testing.T) {
	bi := openFixture(t, "basic", fixture.Flavour{})
	if got := bi.GoVersion(); got != runtime.Version() || got != "go1.26.8" {
		t.Errorf("GoVersion = %q, want go1.26.8 (%s)", got, runtime.Version())
	}
	if bi.Arch() != "amd64" || bi.PtrSize() != 8 || bi.IsPIE() {
		t.Errorf("Arch/PtrSize/IsPIE = %s/%d/%v", bi.Arch(), bi.PtrSize(), bi.IsPIE())
	}
	sec := bi.ELF().Section(".debug_info")
	if sec.Flags&elf.SHF_COMPRESSED == 0 {
		t.Fatalf(".debug_info is not compressed; the test no longer covers decompression")
	}
	info, err := bi.Section(".debug_info")
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(info)) != sec.Size || info[4] != 5 || info[5] != 0 {
		t.Errorf(".debug_info: %d bytes (header says %d), version bytes %v", len(info), sec.Size, info[4:6])
	}
	for _, name := range []string{".debug_frame", ".debug_loclists", ".debug_addr", ".debug_rnglists"} {
		if b, err := bi.Section(name); err != nil || len(b) == 0 {
			t.Errorf("Section(%s) = %d bytes, %v", name, len(b), err)
		}
	}
	if _, err := bi.Section(".debug_nonexistent"); err == nil {
		t.Errorf("Section of a missing section succeeded")
	}
	cu := bi.CompileUnitByName("main")
	if cu == nil {
		t.Fatal("no unit named main")
	}
	if cu.Version != 5 || cu.AddrBase == 0 || cu.LowPC() == 0 || cu.Optimized() {
		t.Errorf("main unit: version %d addr_base %d low_pc %#x optimized %v", cu.Version, cu.AddrBase, cu.LowPC(), cu.Optimized())
	}
}

func TestBasicFunctionsAndLines(t *testing.T) {
	for _, f := range allFlavours {
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "basic", f)
			if f.PIE {
				if !bi.IsPIE() {
					t.Fatal("PIE fixture is not ET_DYN")
				}
				bi.SetLoadBias(0x555555554000)
			}
			main, err := bi.LookupFunc("main.main")
			if err != nil {
				t.Fatal(err)
			}
			sym, ok := bi.Symbol("main.main")
			if !ok || sym.Addr != main.Entry || main.End != main.Entry+sym.Size {
				t.Errorf("main.main [%#x,%#x), symbol %+v", main.Entry, main.End, sym)
			}
			raw := elfSymbol(t, bi, "main.main")
			if main.Entry-bi.Bias() != raw.Value || f.PIE && main.Entry < 0x555555554000 {
				t.Errorf("main.main entry %#x is not the link-time %#x plus bias %#x", main.Entry, raw.Value, bi.Bias())
			}
			if !strings.HasSuffix(main.DeclFile, "/_fixtures/basic/main.go") || main.DeclLine != 30 {
				t.Errorf("main.main declared at %s:%d", main.DeclFile, main.DeclLine)
			}
			if got := bi.PCToFunc(main.Entry + 5); got != main {
				t.Errorf("PCToFunc(main.main+5) = %v", got)
			}
			if s, ok := bi.SymbolAt(main.Entry + 5); !ok || s.Name != "main.main" {
				t.Errorf("SymbolAt(main.main+5) = %+v", s)
			}
			// Optimized, lines 31 and 32 fold into constants: the body's
			// first code is the (inlined) p.Scale(2) on line 33.
			first := 31
			if f.Optimized {
				first = 33
			}
			// Delve stops a function breakpoint at prologue_end, the frame
			// setup on the func line, in both builds.
			if _, line, fn := bi.PCToLine(bi.FirstPCAfterPrologue(main)); line != 30 || fn != main {
				t.Errorf("main.main breakpoint at line %d in %v, want 30", line, fn)
			}
			pcs, err := bi.LineToPCs("basic/main.go", first)
			if err != nil || len(pcs) == 0 {
				t.Fatalf("LineToPCs(basic/main.go, %d) = %v, %v", first, pcs, err)
			}
			for _, pc := range pcs {
				file, line, fn := bi.PCToLine(pc)
				if line != first || fn != main || !strings.HasSuffix(file, "basic/main.go") {
					t.Errorf("pc %#x maps to %s:%d in %v", pc, file, line, fn)
				}
			}
			if f.Optimized {
				return
			}
			add, err := bi.LookupFunc("main.add")
			if err != nil {
				t.Fatal(err)
			}
			if add.DeclLine != 13 || !strings.HasSuffix(add.DeclFile, "basic/main.go") {
				t.Errorf("main.add declared at %s:%d, want basic/main.go:13", add.DeclFile, add.DeclLine)
			}
			if _, line, _ := bi.PCToLine(bi.FirstPCAfterPrologue(add)); line != 13 {
				t.Errorf("main.add breakpoint at line %d, want 13 (prologue_end, as Delve)", line)
			}
			scale, err := bi.LookupFunc("main.(*Point).Scale")
			if err != nil || scale.DeclLine != 18 {
				t.Errorf("main.(*Point).Scale: %+v, %v", scale, err)
			}
			v, err := bi.LookupPackageVar("main.counter")
			vs, ok := bi.Symbol("main.counter")
			if err != nil || !ok || v.Addr != vs.Addr || v.CU.Name != "main" {
				t.Errorf("main.counter: %+v, %v; symbol %+v", v, err, vs)
			}
		})
	}
}

// elfSymbol returns the executable's ELF symbol called name.
func elfSymbol(t *testing.T, bi *BinaryInfo, name string) elf.Symbol {
	t.Helper()
	syms, err := bi.ELF().Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no symbol %s", name)
	return elf.Symbol{}
}

// TestLaziness proves that Open reads no DWARF and that a function lookup
// parses only the compile unit holding the function.
func TestLaziness(t *testing.T) {
	bi := openFixture(t, "basic", fixture.Flavour{})
	if bi.dwarf != nil || len(bi.sections) != 0 {
		t.Fatalf("Open loaded DWARF (%d sections cached)", len(bi.sections))
	}
	if _, err := bi.LookupFunc("main.describe"); err != nil {
		t.Fatal(err)
	}
	units, _ := bi.CompileUnits()
	var parsed []string
	for _, cu := range units {
		if cu.funcsDone {
			parsed = append(parsed, cu.Name)
		}
	}
	if len(units) < 20 || len(parsed) != 1 || parsed[0] != "main" {
		t.Errorf("after one lookup, parsed functions of %v out of %d units", parsed, len(units))
	}
	for _, name := range []string{".debug_loclists", ".debug_frame"} {
		if _, ok := bi.sections[name]; ok {
			t.Errorf("%s decompressed without being asked for", name)
		}
	}
}

// TestPrologueFallback checks that decoding the stack check finds the same
// breakpoint address as the compiler's prologue_end marker.
func TestPrologueFallback(t *testing.T) {
	for _, f := range fixture.Flavours {
		bi := openFixture(t, "basic", f)
		for _, name := range []string{"main.main", "main.describe"} {
			fn, err := bi.LookupFunc(name)
			if err != nil {
				if f.Optimized && name == "main.describe" {
					continue // inlined away
				}
				t.Fatal(err)
			}
			end := bi.stackCheckEnd(fn.Entry-bi.Bias(), fn.End-bi.Bias()) + bi.Bias()
			if end == fn.Entry {
				t.Errorf("%s %s: no stack check recognised", f.Name(), name)
			}
			// Without prologue_end the stop is just past the stack check:
			// the frame setup, before the marked instruction, on the same
			// func line.
			marked, fallback := bi.afterPrologue(fn, true), bi.afterPrologue(fn, false)
			if fallback != end || fallback >= marked {
				t.Errorf("%s %s: fallback %#x, stack check ends %#x, marker %#x", f.Name(), name, fallback, end, marked)
			}
			if _, a, _ := bi.PCToLine(marked); a != fn.DeclLine {
				t.Errorf("%s %s: marker on line %d, want func line %d", f.Name(), name, a, fn.DeclLine)
			}
			if _, b, _ := bi.PCToLine(fallback); b != fn.DeclLine {
				t.Errorf("%s %s: fallback on line %d, want func line %d", f.Name(), name, b, fn.DeclLine)
			}
		}
	}
	// main.add is a leaf without a stack check: with no marker, Delve's
	// rule takes its first is_stmt row, the entry on the func line.
	bi := openFixture(t, "basic", fixture.Flavour{})
	add, err := bi.LookupFunc("main.add")
	if err != nil {
		t.Fatal(err)
	}
	if got := bi.afterPrologue(add, false); got != add.Entry {
		t.Errorf("main.add fallback %#x, want entry %#x", got, add.Entry)
	}
	if got := bi.afterPrologue(add, true); got != add.Entry+4 {
		t.Errorf("main.add marker %#x, want %#x (after PUSHQ BP; MOVQ SP, BP)", got, add.Entry+4)
	}
}

func TestLookupErrors(t *testing.T) {
	bi := openFixture(t, "basic", fixture.Flavour{})
	_, err := bi.LookupFunc("main.ad")
	if !errors.Is(err, ErrFuncNotFound) || !strings.Contains(err.Error(), "main.add") {
		t.Errorf("LookupFunc(main.ad) = %v, want suggestion main.add", err)
	}
	_, err = bi.LookupFunc("main.Scal")
	if !errors.Is(err, ErrFuncNotFound) || !strings.Contains(err.Error(), "main.(*Point).Scale") {
		t.Errorf("LookupFunc(main.Scal) = %v, want suggestion main.(*Point).Scale", err)
	}
	_, err = bi.LineToPCs("basic/main.go", 28)
	if !errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), "nearest lines with code: 25, 30") {
		t.Errorf("LineToPCs(basic/main.go, 28) = %v", err)
	}
	_, err = bi.LineToPCs("mian.go", 3)
	if !errors.Is(err, ErrFileNotFound) || !strings.Contains(err.Error(), "basic/main.go") {
		t.Errorf("LineToPCs(mian.go) = %v, want suggestion basic/main.go", err)
	}
	if got, err := bi.ResolveFile("main.go"); err != nil || !strings.HasSuffix(got, "/_fixtures/basic/main.go") {
		t.Errorf("ResolveFile(main.go) = %q, %v", got, err)
	}
	_, err = bi.ResolveFile("print.go") // fmt/print.go and runtime/print.go
	if !errors.Is(err, ErrFileNotFound) || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ResolveFile(print.go) = %v, want ambiguity", err)
	}
	if _, err := bi.LookupPackageVar("main.nosuch"); !errors.Is(err, ErrVarNotFound) {
		t.Errorf("LookupPackageVar(main.nosuch) = %v", err)
	}
	got := map[string]bool{}
	for _, fn := range bi.FuncsMatching(regexp.MustCompile(`^main\.`)) {
		got[fn.Name] = true
	}
	for _, want := range []string{"main.main", "main.add", "main.describe", "main.(*Point).Scale"} {
		if !got[want] {
			t.Errorf("FuncsMatching(^main\\.) lacks %s (got %v)", want, got)
		}
	}
}

func TestInlinedCalls(t *testing.T) {
	bi := openFixture(t, "inlining", fixture.Flavour{Optimized: true})
	pcs, err := bi.LineToPCs("inlining/main.go", 6) // square's body
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range pcs {
		calls := bi.InlinedCallsAt(pc)
		if len(calls) != 2 {
			t.Fatalf("InlinedCallsAt(%#x) = %+v, want square inside sumSquares", pc, calls)
		}
		sq, ss := calls[0], calls[1]
		if sq.Func != "main.square" || sq.CallLine != 12 || !strings.HasSuffix(sq.CallFile, "inlining/main.go") {
			t.Errorf("innermost call %+v, want main.square called at main.go:12", sq)
		}
		if ss.Func != "main.sumSquares" || ss.CallLine != 18 {
			t.Errorf("outer call %+v, want main.sumSquares called at main.go:18", ss)
		}
		if !inRanges(pc, sq.Ranges) || !inRanges(pc, ss.Ranges) {
			t.Errorf("pc %#x outside the ranges %v / %v", pc, sq.Ranges, ss.Ranges)
		}
		if fn := bi.PCToFunc(pc); fn == nil || fn.Name != "main.main" {
			t.Errorf("PCToFunc(%#x) = %v, want main.main", pc, fn)
		}
	}
	// Line 12 is sumSquares' own code: one level of inlining only.
	pcs, err = bi.LineToPCs("inlining/main.go", 12)
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range pcs {
		if calls := bi.InlinedCallsAt(pc); len(calls) != 1 || calls[0].Func != "main.sumSquares" {
			t.Errorf("InlinedCallsAt(%#x) on line 12 = %+v", pc, calls)
		}
	}
	main, _ := bi.LookupFunc("main.main")
	if calls := bi.InlinedCallsAt(main.Entry); len(calls) != 0 {
		t.Errorf("InlinedCallsAt(main.main entry) = %+v, want none", calls)
	}
}

func inRanges(pc uint64, rs [][2]uint64) bool {
	for _, r := range rs {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

func TestOlderToolchain(t *testing.T) {
	bi := openFixture(t, "basic", fixture.Flavour{Toolchain: "go1.24.13"})
	if bi.GoVersion() != "go1.24.13" {
		t.Errorf("GoVersion = %q", bi.GoVersion())
	}
	if cu := bi.CompileUnitByName("main"); cu == nil || cu.Version != 4 {
		t.Errorf("main unit %+v, want DWARF 4", cu)
	}
	if b, err := bi.Section(".debug_loc"); err != nil || len(b) == 0 {
		t.Errorf(".debug_loc: %d bytes, %v", len(b), err)
	}
	add, err := bi.LookupFunc("main.add")
	if err != nil || add.DeclLine != 13 || !strings.HasSuffix(add.DeclFile, "basic/main.go") {
		t.Fatalf("main.add = %+v, %v", add, err)
	}
	if _, line, _ := bi.PCToLine(bi.FirstPCAfterPrologue(add)); line != 13 {
		t.Errorf("main.add breakpoint on line %d, want 13 (prologue_end, as Delve)", line)
	}
	rt, err := bi.RuntimeLayout()
	if err != nil {
		t.Fatal(err)
	}
	checkRuntimeAgainstTypes(t, bi, rt)
}

func TestConcurrentLookups(t *testing.T) {
	bi := openFixture(t, "goroutines", fixture.Flavour{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn, err := bi.LookupFunc("main.main")
			if err != nil {
				errs <- err
				return
			}
			if _, line, _ := bi.PCToLine(fn.Entry); line != fn.DeclLine {
				errs <- errors.New("entry line differs from declaration line")
			}
			if _, err := bi.RuntimeLayout(); err != nil {
				errs <- err
			}
			if _, err := bi.Sources(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
