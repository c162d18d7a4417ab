package compat

import (
	"debug/dwarf"
	"debug/elf"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// inlinedCopy is one DW_TAG_inlined_subroutine: the function inlined, its
// code ranges and the copy it was inlined into (nil: the function itself).
type inlinedCopy struct {
	fn     string
	ranges [][2]uint64
	parent *inlinedCopy
}

func (c *inlinedCopy) contains(pc uint64) bool {
	for _, r := range c.ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

func (c *inlinedCopy) end() uint64 {
	var e uint64
	for _, r := range c.ranges {
		e = max(e, r[1])
	}
	return e
}

// TestDelveStepOutOfInlinedCall proves class D10 from gofumpt's optimized
// binary (the differential's gofumpt/opt build). In applyPre, Line calls
// Position calls token.(*File).PositionFor, all inlined (format.go 257,
// 253). Right after a PositionFor copy's code, the first is_stmt row of the
// line table lies in another Position copy: the next Line call's, whose
// first instruction the compiler moved up there. Delve 1.27.2's stepout of
// that PositionFor stops on it (by hand: 0x5d8b2b, "format.go:253", with
// the other call's frames), so it stops in a call that has not begun;
// tinydbg goes on to the statement of the frame it returns to (Line's, 257).
func TestDelveStepOutOfInlinedCall(t *testing.T) {
	b := buildDiffProgram(t, "gofumpt", fixture.Flavour{Optimized: true})
	f, err := elf.Open(b.bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	cu, copies := inlinedCopies(t, d, "mvdan.cc/gofumpt/format.(*fumpter).applyPre")
	stmts := stmtRows(t, d, cu)
	innermost := func(pc uint64) *inlinedCopy {
		var in *inlinedCopy
		for _, c := range copies {
			if c.contains(pc) && (in == nil || isInside(c, in)) {
				in = c
			}
		}
		return in
	}
	found := 0
	for _, c := range copies {
		if c.fn != "go/token.(*File).PositionFor" || c.parent == nil || c.parent.fn != "mvdan.cc/gofumpt/format.(*fumpter).Position" {
			continue
		}
		end := c.end()
		var next uint64
		for _, pc := range stmts {
			if pc >= end {
				next = pc
				break
			}
		}
		in := innermost(next)
		if in == nil || in == c.parent || in.fn != c.parent.fn || !c.parent.hasCodeFrom(end) {
			continue
		}
		found++
		t.Logf("PositionFor copy ends at %#x; the next statement, %#x, is in another Position copy (%#x); this one's code goes on at %#x",
			end, next, in.ranges, c.parent.ranges)
	}
	if found == 0 {
		t.Fatal("no PositionFor copy in applyPre is followed by a statement of another Position copy")
	}
}

// hasCodeFrom reports whether c has code at or after pc.
// buildDiffProgram builds the differential's program named name one way,
// for a proof that looks at one of its stops again.
func buildDiffProgram(t *testing.T, name string, f fixture.Flavour) diffBuild {
	t.Helper()
	for _, p := range diffPrograms() {
		if p.name == name {
			b, err := buildDiff(p, f)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no differential program %q", name)
	return diffBuild{}
}

func (c *inlinedCopy) hasCodeFrom(pc uint64) bool {
	for _, r := range c.ranges {
		if r[1] > pc {
			return true
		}
	}
	return false
}

// isInside reports whether a was inlined, directly or not, into b.
func isInside(a, b *inlinedCopy) bool {
	for p := a.parent; p != nil; p = p.parent {
		if p == b {
			return true
		}
	}
	return false
}

// inlinedCopies returns the compile unit of function fn and every inlined
// copy inside it, named by their abstract origins.
func inlinedCopies(t *testing.T, d *dwarf.Data, fn string) (*dwarf.Entry, []*inlinedCopy) {
	t.Helper()
	r := d.Reader()
	var cu *dwarf.Entry
	for e, err := r.Next(); e != nil; e, err = r.Next() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Tag == dwarf.TagCompileUnit:
			cu = e
		case e.Tag == dwarf.TagSubprogram && e.Val(dwarf.AttrName) == fn:
			return cu, walkInlined(t, d, r)
		case e.Tag != dwarf.TagCompileUnit && e.Children:
			r.SkipChildren()
		}
	}
	t.Fatalf("no DWARF function %s", fn)
	return nil, nil
}

// walkInlined reads the children of the entry r has just returned.
func walkInlined(t *testing.T, d *dwarf.Data, r *dwarf.Reader) []*inlinedCopy {
	var out []*inlinedCopy
	var stack []*inlinedCopy // nil for a lexical block
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			t.Fatalf("reading DWARF: %v", err)
		}
		if e.Tag == 0 {
			if len(stack) == 0 {
				return out
			}
			stack = stack[:len(stack)-1]
			continue
		}
		var parent *inlinedCopy
		for i := len(stack) - 1; i >= 0 && parent == nil; i-- {
			parent = stack[i]
		}
		var c *inlinedCopy
		if e.Tag == dwarf.TagInlinedSubroutine {
			ranges, err := d.Ranges(e)
			if err != nil {
				t.Fatal(err)
			}
			c = &inlinedCopy{fn: originName(t, d, e), parent: parent}
			for _, rg := range ranges {
				c.ranges = append(c.ranges, [2]uint64{rg[0], rg[1]})
			}
			out = append(out, c)
		}
		if e.Children {
			stack = append(stack, c)
		}
	}
}

func originName(t *testing.T, d *dwarf.Data, e *dwarf.Entry) string {
	off, _ := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	r := d.Reader()
	r.Seek(off)
	o, err := r.Next()
	if err != nil || o == nil {
		t.Fatalf("abstract origin %#x: %v", off, err)
	}
	name, _ := o.Val(dwarf.AttrName).(string)
	return name
}

// stmtRows returns the addresses of cu's is_stmt rows, ascending within
// each sequence.
func stmtRows(t *testing.T, d *dwarf.Data, cu *dwarf.Entry) []uint64 {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		t.Fatalf("line table: %v", err)
	}
	var out []uint64
	var le dwarf.LineEntry
	for lr.Next(&le) == nil {
		if le.IsStmt && !le.EndSequence {
			out = append(out, le.Address)
		}
	}
	return out
}
