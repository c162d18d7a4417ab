package ebpf

import (
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// Capture plans say, for one probe kind of one function, which registers
// and memory the BPF program copies, at the locations package probe
// assigns by the Go internal ABI.

// paramCapture records how one parameter's captured bytes are found again.
type paramCapture struct {
	param       probe.Param
	valueOp     int    // op whose segment holds the value itself; -1 if none
	unavailable string // why nothing was captured
}

// probePlan is a capture plan plus what user space needs to decode it.
type probePlan struct {
	bpf    bpfPlan
	params []paramCapture
	// partial is set when the op budget ran out before every reachable
	// pointer was followed.
	partial bool
	// speculative marks operations whose failure or shortness says
	// nothing about the value (guesses at a dynamic type's layout).
	speculative [maxOps]bool
}

// add appends op to the plan and returns its index, or -1 when the
// operation budget is spent.
func (p *probePlan) add(op capOp) int {
	if p.bpf.NOps >= maxOps {
		p.partial = true
		return -1
	}
	p.bpf.Ops[p.bpf.NOps] = op
	p.bpf.NOps++
	return int(p.bpf.NOps - 1)
}

// guess appends an operation that copies a guessed layout.
func (p *probePlan) guess(op capOp) int {
	i := p.add(op)
	if i >= 0 {
		p.speculative[i] = true
	}
	return i
}

// Options bound what is captured per event.
type Options struct {
	// MaxStringBytes is the number of bytes copied from each string.
	MaxStringBytes int
	// MaxSliceBytes is the number of bytes copied from each slice's array.
	MaxSliceBytes int
	// PointerDepth is how many pointers are followed from an argument;
	// 0 means the default, negative means none.
	PointerDepth int
	// RingBufferBytes is the size of the kernel ring buffer (a power of two
	// multiple of the page size).
	RingBufferBytes int
	// NoUprobeMulti forces one perf-event uprobe per probe site, the
	// fallback used when the kernel lacks uprobe_multi links.
	NoUprobeMulti bool
	// Lossy never holds the program: an event that finds the ring buffer
	// full is lost, and counted for its function. By default the program
	// is stopped until the reader catches up, and nothing is lost.
	Lossy bool
}

// DefaultOptions captures enough to print arguments as Delve's trace does.
var DefaultOptions = Options{
	MaxStringBytes:  64,
	MaxSliceBytes:   256,
	PointerDepth:    1,
	RingBufferBytes: 8 << 20,
}

// buildPlan makes the capture plan for the given parameters, which are the
// arguments at an entry probe and the results at a return probe. locs holds
// their ABI locations.
func buildPlan(params []probe.Param, locs []probe.Location, opts Options) probePlan {
	var p probePlan
	add := p.add
	for i, prm := range params {
		pc := paramCapture{param: prm, valueOp: -1}
		loc := locs[i]
		size := prm.Type.Size()
		switch {
		case size == 0:
			pc.unavailable = ""
		case loc.InRegs && len(loc.Pieces) > maxPieces:
			pc.unavailable = "held in more registers than a probe captures"
		case loc.InRegs && size > maxValue:
			pc.unavailable = "register-held value too large to capture"
		case loc.InRegs && loc.HasFloat():
			pc.unavailable = "held in a floating-point register, which uprobes cannot read"
		case loc.InRegs:
			op := capOp{Kind: opRegs, Param: uint8(i), NPieces: uint8(len(loc.Pieces)), Size: uint32(size)}
			for j, pc := range loc.Pieces {
				op.Regs[j] = abiIntRegSlots[pc.Reg]
				op.PieceOff[j] = uint8(pc.Off)
				op.PieceSize[j] = uint8(pc.Size)
			}
			pc.valueOp = add(op)
		default:
			pc.valueOp = add(capOp{Kind: opStack, Param: uint8(i), StackOff: int32(loc.StackOff),
				Size: uint32(size), Max: uint32(min(size, maxSeg))})
		}
		if pc.valueOp < 0 && pc.unavailable == "" && size > 0 {
			pc.unavailable = "capture budget exhausted"
		}
		p.params = append(p.params, pc)
	}
	for i, pc := range p.params {
		if pc.valueOp >= 0 {
			addDerefs(&p, pc.param.Type, uint8(i), pc.valueOp, 0, 0, opts)
		}
	}
	return p
}

// addDerefs appends the operations that follow the strings, slices and
// pointers inside a value of type t lying at offset off of segment src.
// The loader prints a struct reached through PointerDepth pointers with its
// pointer fields followed once more (as print does), so pointers are
// captured one level deeper than PointerDepth.
func addDerefs(p *probePlan, t godwarf.Type, prm uint8, src int, off int64, depth int, opts Options) {
	if off+16 > 0xfffe {
		return
	}
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.StringType:
		p.add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: uint16(off + 8),
			Size: 1, Max: uint32(opts.MaxStringBytes)})
	case *godwarf.SliceType:
		if es := rt.Elem.Size(); es > 0 {
			p.add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: uint16(off + 8),
				Size: uint32(es), Max: uint32(opts.MaxSliceBytes)})
		}
	case *godwarf.PtrType:
		if rt.Elem == nil || depth > opts.PointerDepth {
			return
		}
		es := rt.Elem.Size()
		if es <= 0 {
			return
		}
		idx := p.add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: noLenOffset,
			Size: uint32(es), Max: uint32(min(es, maxSeg))})
		if idx >= 0 {
			addDerefs(p, rt.Elem, prm, idx, 0, depth+1, opts)
		}
	case *godwarf.InterfaceType:
		addIfaceDerefs(p, rt, prm, src, off, depth, opts)
	case *godwarf.StructType:
		for _, f := range rt.Fields {
			addDerefs(p, f.Type, prm, src, off+f.ByteOffset, depth, opts)
		}
	case *godwarf.ArrayType:
		for i := int64(0); i < rt.Count && i < 4; i++ {
			stride := rt.Stride
			if stride == 0 {
				stride = rt.Elem.Size()
			}
			addDerefs(p, rt.Elem, prm, src, off+i*stride, depth, opts)
		}
	}
}

// ifaceDataBytes is how much is copied from behind an interface's data
// word, whose type is known only at run time: enough for the small structs
// errors and other interface values usually point at.
const ifaceDataBytes = 64

// addIfaceDerefs captures what the loader needs to print a non-nil
// interface as its dynamic type and value. The type descriptor itself is
// read-only data the decoder reads from the executable (staticMemory);
// an itab may be built at run time, so its first two words (interface
// type, dynamic type) are copied. The value behind the data word is copied
// up to ifaceDataBytes, and, since its layout is unknown when the plan is
// built, its first two words are followed as a string's pointer and
// length: that prints the message of *errors.errorString, *fmt.wrapError
// and any value whose first field is a string, and costs one bounded read
// otherwise.
func addIfaceDerefs(p *probePlan, t *godwarf.InterfaceType, prm uint8, src int, off int64, depth int, opts Options) {
	if depth >= opts.PointerDepth {
		return
	}
	if layout, ok := godwarf.ResolveTypedef(t.Type).(*godwarf.StructType); ok && layout.Field("tab") != nil {
		p.add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: noLenOffset,
			Size: 16, Max: 16})
	}
	idx := p.guess(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off + 8), LenOff: noLenOffset,
		Size: ifaceDataBytes, Max: ifaceDataBytes})
	if idx >= 0 {
		p.guess(capOp{Kind: opDeref, Param: prm, Src: uint8(idx), PtrOff: 0, LenOff: 8,
			Size: 1, Max: uint32(opts.MaxStringBytes)})
	}
}
