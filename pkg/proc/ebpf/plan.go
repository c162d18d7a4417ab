package ebpf

import (
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Capture plans say, for one probe kind of one function, which registers
// and memory the BPF program copies. They follow the Go internal ABI
// (ABIInternal, amd64): integer-class pieces in RAX, RBX, RCX, RDI, RSI, R8,
// R9, R10, R11; floats in X0–X14; a value that does not fit entirely in the
// remaining registers goes on the stack, above the return address.

// piece is one register-held part of a value.
type piece struct {
	float bool
	reg   int   // index into the ABI's integer or float register sequence
	off   int64 // offset of the part within the value
	size  int64
}

// abiLoc is where one parameter lives at a probe.
type abiLoc struct {
	inRegs   bool
	pieces   []piece
	stackOff int64 // from the CFA (the caller's SP before the CALL pushed)
}

// abiAssigner implements the register-then-stack assignment of the ABI.
type abiAssigner struct {
	ints, floats int
	stack        int64
	pieces       []piece
}

// assign places one parameter, mutating the register and stack cursors.
func (a *abiAssigner) assign(t godwarf.Type) abiLoc {
	saveInts, saveFloats := a.ints, a.floats
	a.pieces = nil
	if a.regAssign(t, 0) {
		return abiLoc{inRegs: true, pieces: a.pieces}
	}
	a.ints, a.floats, a.pieces = saveInts, saveFloats, nil
	al := alignOf(t)
	a.stack = (a.stack + al - 1) / al * al
	loc := abiLoc{stackOff: a.stack}
	a.stack += t.Size()
	return loc
}

// endSection aligns the stack cursor to a pointer and frees the registers,
// as the ABI does between the arguments and the results.
func (a *abiAssigner) endSection() {
	a.stack = (a.stack + 7) / 8 * 8
	a.ints, a.floats = 0, 0
}

func (a *abiAssigner) intReg(off, size int64) bool {
	if a.ints >= len(abiIntRegSlots) {
		return false
	}
	a.pieces = append(a.pieces, piece{reg: a.ints, off: off, size: size})
	a.ints++
	return true
}

func (a *abiAssigner) floatReg(off, size int64) bool {
	if a.floats >= abiFloatRegs {
		return false
	}
	a.pieces = append(a.pieces, piece{float: true, reg: a.floats, off: off, size: size})
	a.floats++
	return true
}

// regAssign tries to give every part of t (at offset off) a register.
func (a *abiAssigner) regAssign(t godwarf.Type, off int64) bool {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch rt.Kind {
		case reflect.Float32, reflect.Float64:
			return a.floatReg(off, rt.Size())
		case reflect.Complex64, reflect.Complex128:
			half := rt.Size() / 2
			return a.floatReg(off, half) && a.floatReg(off+half, half)
		}
		return a.intReg(off, rt.Size())
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		return a.intReg(off, 8)
	case *godwarf.StringType:
		return a.intReg(off, 8) && a.intReg(off+8, 8)
	case *godwarf.SliceType:
		return a.intReg(off, 8) && a.intReg(off+8, 8) && a.intReg(off+16, 8)
	case *godwarf.InterfaceType:
		return a.intReg(off, 8) && a.intReg(off+8, 8)
	case *godwarf.StructType:
		for _, f := range rt.Fields {
			if !a.regAssign(f.Type, off+f.ByteOffset) {
				return false
			}
		}
		return true
	case *godwarf.ArrayType:
		switch rt.Count {
		case 0:
			return true
		case 1:
			return a.regAssign(rt.Elem, off)
		}
		return false
	}
	return false
}

// alignOf is the alignment of t on amd64.
func alignOf(t godwarf.Type) int64 {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch {
		case rt.Kind == reflect.Complex64:
			return 4
		case rt.Size() >= 8:
			return 8
		case rt.Size() > 0:
			return rt.Size()
		}
		return 1
	case *godwarf.StructType:
		al := int64(1)
		for _, f := range rt.Fields {
			al = max(al, alignOf(f.Type))
		}
		return al
	case *godwarf.ArrayType:
		return alignOf(rt.Elem)
	}
	return 8
}

// paramCapture records how one parameter's captured bytes are found again.
type paramCapture struct {
	param       param
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
func buildPlan(params []param, locs []abiLoc, opts Options) probePlan {
	var p probePlan
	add := func(op capOp) int {
		if p.bpf.NOps >= maxOps {
			p.partial = true
			return -1
		}
		p.bpf.Ops[p.bpf.NOps] = op
		p.bpf.NOps++
		return int(p.bpf.NOps - 1)
	}
	for i, prm := range params {
		pc := paramCapture{param: prm, valueOp: -1}
		loc := locs[i]
		size := prm.Type.Size()
		switch {
		case size == 0:
			pc.unavailable = ""
		case loc.inRegs && len(loc.pieces) > maxPieces:
			pc.unavailable = "held in more registers than a probe captures"
		case loc.inRegs && size > maxValue:
			pc.unavailable = "register-held value too large to capture"
		case loc.inRegs && hasFloat(loc.pieces):
			pc.unavailable = "held in a floating-point register, which uprobes cannot read"
		case loc.inRegs:
			op := capOp{Kind: opRegs, Param: uint8(i), NPieces: uint8(len(loc.pieces)), Size: uint32(size)}
			for j, pc := range loc.pieces {
				op.Regs[j] = abiIntRegSlots[pc.reg]
				op.PieceOff[j] = uint8(pc.off)
				op.PieceSize[j] = uint8(pc.size)
			}
			pc.valueOp = add(op)
		default:
			pc.valueOp = add(capOp{Kind: opStack, Param: uint8(i), StackOff: int32(loc.stackOff),
				Size: uint32(size), Max: uint32(min(size, maxSeg))})
		}
		if pc.valueOp < 0 && pc.unavailable == "" && size > 0 {
			pc.unavailable = "capture budget exhausted"
		}
		p.params = append(p.params, pc)
	}
	for i, pc := range p.params {
		if pc.valueOp >= 0 {
			addDerefs(add, pc.param.Type, uint8(i), pc.valueOp, 0, 0, opts)
		}
	}
	return p
}

func hasFloat(ps []piece) bool {
	for _, p := range ps {
		if p.float {
			return true
		}
	}
	return false
}

// addDerefs appends the operations that follow the strings, slices and
// pointers inside a value of type t lying at offset off of segment src.
func addDerefs(add func(capOp) int, t godwarf.Type, prm uint8, src int, off int64, depth int, opts Options) {
	if off+16 > 0xfffe {
		return
	}
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.StringType:
		add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: uint16(off + 8),
			Size: 1, Max: uint32(opts.MaxStringBytes)})
	case *godwarf.SliceType:
		if es := rt.Elem.Size(); es > 0 {
			add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: uint16(off + 8),
				Size: uint32(es), Max: uint32(opts.MaxSliceBytes)})
		}
	case *godwarf.PtrType:
		if rt.Elem == nil || depth >= opts.PointerDepth {
			return
		}
		es := rt.Elem.Size()
		if es <= 0 {
			return
		}
		idx := add(capOp{Kind: opDeref, Param: prm, Src: uint8(src), PtrOff: uint16(off), LenOff: noLenOffset,
			Size: uint32(es), Max: uint32(min(es, maxSeg))})
		if idx >= 0 {
			addDerefs(add, rt.Elem, prm, idx, 0, depth+1, opts)
		}
	case *godwarf.StructType:
		for _, f := range rt.Fields {
			addDerefs(add, f.Type, prm, src, off+f.ByteOffset, depth, opts)
		}
	case *godwarf.ArrayType:
		for i := int64(0); i < rt.Count && i < 4; i++ {
			stride := rt.Stride
			if stride == 0 {
				stride = rt.Elem.Size()
			}
			addDerefs(add, rt.Elem, prm, src, off+i*stride, depth, opts)
		}
	}
}
