package eval_test

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// TestResultUnwrittenAtEntry proves from the binary and the program's own
// memory that a result's stack slot at a -N -l function's entry is not the
// result yet: DWARF gives `out` one fbreg location for the whole function,
// the slot still holds what fill's frame left there (fill's loop counter
// and its array's length, which Delve shows as a slice of len 96 at 0x5f;
// in cmd/go's PackagesAndErrors, go1.22, a ~r0 of len 824634574816), and
// one `next` later, once the function has zeroed it
// before its first statement, the same slot holds the nil slice. Until
// then tinydbg shows the result's zero value, which by the language it is.
func TestResultUnwrittenAtEntry(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		t.Run("go"+tc, func(t *testing.T) {
			s := start(t, "results", fixture.Flavour{Toolchain: tc})
			if _, err := s.tg.SetBreakpointFunc("main.list"); err != nil {
				t.Fatal(err)
			}
			s.cont()
			slot := s.varSlot("main.list", "out")
			if got := s.words(slot, 3); got == [3]uint64{} {
				t.Fatalf("out's slot at entry holds zeros, want what fill's frame left there")
			}
			want := "n = 3\nout = []int len: 0, cap: 0, nil\n"
			if got := vars(t, s.scope("main.list"), true); got != want {
				t.Errorf("args at entry:\n got %q\nwant %q", got, want)
			}
			if _, err := s.tg.Next(); err != nil {
				t.Fatal(err)
			}
			if got := s.words(slot, 3); got != [3]uint64{} {
				t.Errorf("out's slot after the first next holds %#x, want zeros", got)
			}
			if got, want := vars(t, s.scope("main.list"), true), "n = 3\nout = []int len: 0, cap: 0, nil\n"; got != want {
				t.Errorf("args after next:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// varSlot returns the address of fn's variable name from its DWARF
// location in the session's fixture, which must be one DW_OP_fbreg (Go's
// frame base is the CFA).
func (s *session) varSlot(fn, name string) uint64 {
	s.t.Helper()
	f, err := elf.Open(fixture.Build(s.t, s.name, s.fl))
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		s.t.Fatal(err)
	}
	r := d.Reader()
	var loc []byte
	inFn := false
	for e, err := r.Next(); e != nil && err == nil; e, err = r.Next() {
		switch {
		case e.Tag == dwarf.TagSubprogram:
			inFn = e.Val(dwarf.AttrName) == fn
		case inFn && (e.Tag == dwarf.TagFormalParameter || e.Tag == dwarf.TagVariable) && e.Val(dwarf.AttrName) == name:
			loc, _ = e.Val(dwarf.AttrLocation).([]byte)
		}
	}
	if len(loc) < 2 || loc[0] != 0x91 { // DW_OP_fbreg
		s.t.Fatalf("%s's %s: location %x, want one DW_OP_fbreg", fn, name, loc)
	}
	return uint64(int64(s.frame0(fn).CFA) + sleb(loc[1:]))
}

// sleb decodes a signed LEB128 number.
func sleb(b []byte) int64 {
	var v int64
	var shift uint
	for _, c := range b {
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			break
		}
	}
	return v
}

// frame0 returns the innermost frame, which must be fn's.
func (s *session) frame0(fn string) stack.Frame {
	s.t.Helper()
	frames := s.generalFrames(2)
	if frames[0].Func.Name != fn {
		s.t.Fatalf("innermost frame is %s, want %s", frames[0].Func.Name, fn)
	}
	return frames[0]
}

// generalFrames unwinds up to depth frames of the stopped thread from its
// general registers only.
func (s *session) generalFrames(depth int) []stack.Frame {
	s.t.Helper()
	tid := s.tg.LastStop().ThreadID
	for _, th := range s.tg.Process().Threads() {
		if th.ID() != tid {
			continue
		}
		regs, err := th.Registers()
		if err != nil {
			s.t.Fatal(err)
		}
		frames, err := s.un.Unwind(s.tg.Process(), stack.FromRegisters(&regs), stack.Options{MaxDepth: depth})
		if len(frames) == 0 {
			s.t.Fatalf("unwind: %v", err)
		}
		return frames
	}
	s.t.Fatalf("no thread %d", tid)
	return nil
}

// words reads n (at most 3) words at addr.
func (s *session) words(addr uint64, n int) [3]uint64 {
	s.t.Helper()
	var out [3]uint64
	buf := make([]byte, 8*n)
	if _, err := s.tg.Process().ReadMemory(buf, addr); err != nil {
		s.t.Fatal(fmt.Errorf("reading %#x: %w", addr, err))
	}
	for i := 0; i < n && i < 3; i++ {
		out[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	return out
}

// TestEscapedArgAtEntry: keep's argument escapes (`return &i`), so DWARF
// describes i (a location list: the argument registers up to the spill,
// then its stack home) and &i, the slot of the heap copy's address, which
// the function fills only after runtime.newobject, before its first
// statement. At the entry stop tinydbg reads i from its list, 42, the value
// the caller passed; the &i slot does not hold the address it will (Delve
// reads i through it: sync.newEntry's i unreadable in the differential,
// gofumpt go1.22 -N -l).
func TestEscapedArgAtEntry(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		t.Run("go"+tc, func(t *testing.T) {
			s := start(t, "results", fixture.Flavour{Toolchain: tc})
			if _, err := s.tg.SetBreakpointFunc("main.keep"); err != nil {
				t.Fatal(err)
			}
			s.cont()
			slot := s.varSlot("main.keep", "&i")
			before := s.words(slot, 1)[0]
			want := "i = interface {}(int) 42\n~r0 = *interface {} nil\n"
			if got := vars(t, s.scope("main.keep"), true); got != want {
				t.Errorf("args at entry:\n got %q\nwant %q", got, want)
			}
			if _, err := s.tg.Next(); err != nil {
				t.Fatal(err)
			}
			after := s.words(slot, 1)[0]
			if after == 0 || after == before {
				t.Errorf("&i's slot: %#x at entry, %#x after the first next; want the heap copy's address written in between", before, after)
			}
			// From here the local &i, the heap copy, shadows the argument.
			want = "(i) = interface {}(int) 42\n~r0 = *interface {} nil\n"
			if got := vars(t, s.scope("main.keep"), true); got != want {
				t.Errorf("args after next:\n got %q\nwant %q", got, want)
			}
			expr(t, s.scope("main.keep"), "i", "interface {}(int) 42")
		})
	}
}

// TestLeafResultUnwrittenAtEntry: a one-line leaf method (os.(*fileStat).Size's
// shape) has no statement after its frame setup; its result's slot at the
// entry stop still holds an earlier call's bytes, and tinydbg shows 0.
func TestLeafResultUnwrittenAtEntry(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		t.Run("go"+tc, func(t *testing.T) {
			s := start(t, "results", fixture.Flavour{Toolchain: tc})
			if _, err := s.tg.SetBreakpointFunc("main.(*stat).Size"); err != nil {
				t.Fatal(err)
			}
			s.cont()
			if got := s.words(s.varSlot("main.(*stat).Size", "~r0"), 1); got[0] == 0 {
				t.Fatalf("~r0's slot at entry holds 0, want what fill's frame left there")
			}
			match(t, "Size args", vars(t, s.scope("main.(*stat).Size"), true), `st = \(\*main\.stat\)\(0x[0-9a-f]+\)\n\*main\.stat \{size: 9\}\n~r0 = 0\n`)
		})
	}
}
