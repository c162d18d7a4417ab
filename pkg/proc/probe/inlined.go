package probe

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/frame"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// An inlined call has no entry, no frame and no RET of its own, so the
// tracers probe it by these rules (one place, so both backends agree):
//
//   - Entry: the lowest address of the copy's ranges, where Delve's break
//     also stops: Go lays out an inlined body in source order, so its
//     first block comes first.
//   - Exits: every address outside the ranges that control reaches from
//     inside: the address after a range's last instruction when that
//     instruction can fall through, the target of every direct jump from
//     inside to outside, and a RET inside (the copy ends with its caller).
//     An exit address may also be reached from code outside the copy (a
//     join after an if); such a hit returns nothing, because it has no
//     open call to pair with. An indirect jump out (a jump table) cannot
//     be followed, nor a jump that leaves the caller (a tail call made
//     from inlined code): the call then stays open until the next call of
//     the copy in the same frame supersedes it.
//   - A copy the compiler reduced to no instructions of its own has no
//     ranges in DWARF and is not probed (bininfo lists no such copy).
//   - Pairing: the copy runs in its caller's frame, so its calls pair by
//     goroutine and the caller's CFA (constant for the whole activation,
//     whatever SP does around an epilogue) as a distance below the
//     goroutine's stack top (which survives the stack being copied to
//     grow it), plus the inlining depth to order nested copies inside one
//     frame. FrameOff gives CFA-SP at every site for that.

// Inlined is one inlined copy of a function as the tracers probe it.
type Inlined struct {
	Func  string // the inlined function
	Depth int    // 1 when inlined straight into a concrete function
	Entry uint64
	Exits []uint64 // address order
	// LoopEntry is set when a jump inside the copy targets Entry: a hit
	// of Entry while the copy is open in the same frame is then its own
	// loop, not a new call.
	LoopEntry bool
	// FrameOff is CFA-SP at each probe site (Entry and Exits).
	FrameOff map[uint64]int64
	// Args are the copy's arguments at Entry and ArgLocs their locations,
	// relative to the CFA; where ArgErr[i] is not empty DWARF has no place
	// for argument i there and it is reported unavailable for that reason.
	Args    []Param
	ArgLocs []Location
	ArgErr  []string
}

// Frames reads call frame information: the CFA of a PC inside a caller's
// body, which inlined copies' stack arguments and pairing are relative to.
// It also keeps each caller's decoded code, which all the copies in one
// caller share. It is not safe for concurrent use.
type Frames struct {
	t    *frame.Table
	code map[uint64][]instr
}

// LoadFrames parses the executable's .debug_frame.
func LoadFrames(bi *bininfo.BinaryInfo) (*Frames, error) {
	data, err := bi.Section(".debug_frame")
	if err != nil {
		return nil, fmt.Errorf("reading .debug_frame: %w", err)
	}
	t, err := frame.Parse(data, binary.LittleEndian, bi.PtrSize(), 0, false)
	if err != nil {
		return nil, fmt.Errorf("parsing .debug_frame: %w", err)
	}
	return &Frames{t: t, code: map[uint64][]instr{}}, nil
}

// cfaOffset returns CFA-SP at the link-time address pc.
func (f *Frames) cfaOffset(pc uint64) (int64, error) {
	fde, err := f.t.FDEForPC(pc)
	if err != nil {
		return 0, err
	}
	r, err := fde.RulesAt(pc)
	if err != nil {
		return 0, err
	}
	if r.CFA.Expr != nil || r.CFA.Reg != regnum.Rsp {
		return 0, fmt.Errorf("CFA at %#x is not SP-relative", pc)
	}
	return r.CFA.Offset, nil
}

// FindInlined finds the probe sites of an inlined copy in its caller's
// code and its arguments' locations at the entry.
func FindInlined(bi *bininfo.BinaryInfo, types *godwarf.Types, frames *Frames, inst bininfo.InlinedInstance) (*Inlined, error) {
	caller := inst.Caller
	if caller.End <= caller.Entry || caller.End-caller.Entry > maxFuncBytes {
		return nil, fmt.Errorf("%s has an invalid code range [%#x, %#x)", caller.Name, caller.Entry, caller.End)
	}
	bias := bi.Bias()
	code, ok := frames.code[caller.Entry]
	if !ok {
		raw, err := readCode(bi.ELF(), caller.Entry-bias, caller.End-bias)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caller.Name, err)
		}
		code = decodeAll(raw, caller.Entry)
		frames.code[caller.Entry] = code
	}
	in := &Inlined{Func: inst.Func, Depth: inst.Depth, FrameOff: map[uint64]int64{}}
	in.Entry, in.Exits, in.LoopEntry = decodeExits(code, caller.Entry, caller.End, inst.Ranges)
	for _, pc := range append([]uint64{in.Entry}, in.Exits...) {
		off, err := frames.cfaOffset(pc - bias)
		if err != nil {
			return nil, fmt.Errorf("inlined %s in %s: %w", inst.Func, caller.Name, err)
		}
		in.FrameOff[pc] = off
	}
	if err := in.readArgs(bi, types, inst); err != nil {
		return nil, fmt.Errorf("inlined %s in %s: %w", inst.Func, caller.Name, err)
	}
	return in, nil
}

// instr is what the exit rules need of one instruction.
type instr struct {
	pc, next uint64
	op       x86asm.Op
	target   uint64 // of a direct jump; 0 otherwise
}

// decodeAll decodes code, a function's body at run-time address start,
// up to its first undecodable byte (the padding after it).
func decodeAll(code []byte, start uint64) []instr {
	var out []instr
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			break
		}
		in := instr{pc: start + uint64(off), op: inst.Op}
		in.next = in.pc + uint64(inst.Len)
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && (inst.Op == x86asm.JMP || isJcc(inst.Op)) {
			in.target = in.next + uint64(int64(rel))
		}
		out = append(out, in)
		off += inst.Len
	}
	return out
}

// decodeExits applies the rules above to code, the decoded body of the
// caller spanning [start, end).
func decodeExits(code []instr, start, end uint64, ranges [][2]uint64) (entry uint64, exits []uint64, loop bool) {
	inside := func(a uint64) bool {
		for _, r := range ranges {
			if a >= r[0] && a < r[1] {
				return true
			}
		}
		return false
	}
	entry = ranges[0][0]
	for _, r := range ranges {
		entry = min(entry, r[0])
	}
	set := map[uint64]bool{}
	for _, in := range code {
		if !inside(in.pc) {
			continue
		}
		if in.op == x86asm.RET {
			set[in.pc] = true
			continue
		}
		switch t := in.target; {
		case in.target == 0:
		case t == entry:
			loop = true
		case !inside(t) && t >= start && t < end:
			set[t] = true
		}
		if fallsThrough(in.op) && !inside(in.next) && in.next < end {
			set[in.next] = true
		}
	}
	for a := range set {
		exits = append(exits, a)
	}
	sort.Slice(exits, func(i, j int) bool { return exits[i] < exits[j] })
	return entry, exits, loop
}

// isJcc reports whether op is a conditional jump with a relative target.
func isJcc(op x86asm.Op) bool {
	switch op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO,
		x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ:
		return true
	}
	return false
}

// fallsThrough reports whether execution can go on to the next
// instruction after op.
func fallsThrough(op x86asm.Op) bool {
	switch op {
	case x86asm.JMP, x86asm.RET, x86asm.UD2, x86asm.INT, x86asm.HLT:
		return false
	}
	return true
}

// readArgs reads the copy's arguments: names, types and order from the
// inlined function's abstract subprogram, locations from the copy's own
// parameter entries at Entry. The compiler leaves out the entry of an
// argument it has no location for anywhere in the copy: that argument is
// optimized out.
func (in *Inlined) readArgs(bi *bininfo.BinaryInfo, types *godwarf.Types, inst bininfo.InlinedInstance) error {
	d := types.Data()
	concrete := map[dwarf.Offset]*dwarf.Entry{}
	if err := eachChild(d, inst.Offset, dwarf.TagInlinedSubroutine, func(c *dwarf.Entry) error {
		if ao, ok := c.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok && c.Tag == dwarf.TagFormalParameter {
			concrete[ao] = c
		}
		return nil
	}); err != nil {
		return err
	}
	locs := newLocator(bi, inst.Caller.CU)
	return eachChild(d, inst.AbstractOrigin, dwarf.TagSubprogram, func(a *dwarf.Entry) error {
		if a.Tag != dwarf.TagFormalParameter {
			return nil
		}
		var p Param
		p.Name, _ = a.Val(dwarf.AttrName).(string)
		if p.Result, _ = a.Val(dwarf.AttrVarParam).(bool); p.Result || p.Name == dictName {
			return nil
		}
		toff, ok := a.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return fmt.Errorf("parameter %s has no type", p.Name)
		}
		var err error
		if p.Type, err = types.Type(toff); err != nil {
			return fmt.Errorf("type of parameter %s: %w", p.Name, err)
		}
		p.Type = unshape(p.Type)
		loc, why := Location{}, errOptimizedOut.Error()
		if c := concrete[a.Offset]; c != nil {
			if loc, err = locs.at(c, in.Entry, p.Type.Size()); err == nil {
				why = ""
			} else {
				why = err.Error()
			}
		}
		in.Args, in.ArgLocs, in.ArgErr = append(in.Args, p), append(in.ArgLocs, loc), append(in.ArgErr, why)
		return nil
	})
}

// eachChild calls fn for each direct child of the entry at off, which
// must have tag.
func eachChild(d *dwarf.Data, off dwarf.Offset, tag dwarf.Tag, fn func(*dwarf.Entry) error) error {
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil || e.Tag != tag {
		return fmt.Errorf("no %v at %#x: %v", tag, off, err)
	}
	if !e.Children {
		return nil
	}
	for {
		c, err := r.Next()
		if err != nil {
			return fmt.Errorf("reading the children of %#x: %w", off, err)
		}
		if c == nil || c.Tag == 0 {
			return nil
		}
		if c.Children {
			r.SkipChildren()
		}
		if err := fn(c); err != nil {
			return err
		}
	}
}

// errOptimizedOut is why a value DWARF gives no place for is unavailable.
var errOptimizedOut = errors.New("optimized out")
