package ebpf

import (
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Capture plans say, for one probe kind of one function, which registers
// and memory the BPF program copies, at the locations package probe
// assigns by the Go internal ABI. A plan mirrors what the shared loader
// reads of each value under the same LoadConfig as the ptrace tracer, so
// the decoder finds, at their original addresses, exactly the bytes the
// loader asks for: the two backends then print the same text.

// paramCapture records how one parameter's captured bytes are found again.
type paramCapture struct {
	param       probe.Param
	valueOp     int    // op whose segment holds the value itself; -1 if none
	unavailable string // why nothing was captured
	// scalar formats the value from its segment without a load, when
	// its type allows (value.ScalarOf) and the converter prints text.
	scalar   value.Scalar
	isScalar bool
}

// probePlan is a capture plan plus what user space needs to decode it.
type probePlan struct {
	bpf    bpfPlan
	params []paramCapture
	// partial is set, per parameter, when the plan could not follow every
	// read the loader makes (operation budget, offsets beyond a segment).
	partial []bool
	// speculative marks operations whose failure or shortness says
	// nothing about the value (guesses at a dynamic type's layout).
	speculative [maxOps]bool
	// maxBytes is the most one event of this plan can need, headers
	// included: how the plan sizes the event from DWARF.
	maxBytes int
	// memos are the parameters' kept texts (memo.go), made on first use.
	memos []*valueMemo
}

// Options bound what is captured per event.
type Options struct {
	// MaxStringBytes is the number of bytes copied from each string, the
	// loader's MaxStringLen.
	MaxStringBytes int
	// MaxSliceBytes bounds the bytes copied from each slice's array (the
	// first MaxArrayValues elements are asked for).
	MaxSliceBytes int
	// PointerDepth is how many pointers are followed from an argument;
	// 0 means the default, negative means none.
	PointerDepth int
	// ReuseText lets an event whose captured bytes for a parameter equal
	// an earlier event's take that event's text instead of being loaded
	// (memo.go). Set it only for a converter whose text for a value
	// depends on nothing but the value's tree, and that reads no Var of a
	// value already holding text.
	ReuseText bool
	// CheckReuse, for tests, loads every value ReuseText would have
	// reused, and counts in Stats.Memo where the two texts differ.
	CheckReuse bool
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
	// Condition, when set, is a Go expression over each function's
	// arguments (`trace --if`), compiled to BPF and evaluated at its entry:
	// calls where it is false, or faults, and their returns never leave
	// the kernel (Stats.Filtered, Stats.CondFaults count them).
	Condition string
}

// DefaultOptions captures what the ptrace tracer prints at the same depth,
// within Delve's string and element limits.
var DefaultOptions = Options{
	MaxStringBytes:  value.DefaultLoadConfig.MaxStringLen,
	MaxSliceBytes:   maxSeg,
	PointerDepth:    1,
	RingBufferBytes: 8 << 20,
}

// ifaceDataBytes is how much is copied from behind an interface's data
// word, whose type is known only when the event is decoded; ifaceGuessBytes
// is the part of it whose words are also followed as strings.
const (
	ifaceDataBytes  = 128
	ifaceGuessBytes = 64
)

// loadConfig is the loader configuration both the plan and the decoder
// use: the ptrace tracer's at the same depth (see nonstop.loadConfig).
func loadConfig(opts Options) value.LoadConfig {
	cfg := value.DefaultLoadConfig
	cfg.FollowPointers = opts.PointerDepth > 0
	cfg.MaxVariableRecurse = max(opts.PointerDepth, 0)
	cfg.MaxStringLen = opts.MaxStringBytes
	return cfg
}

// place says where a value lies: at off in each segment of operation src,
// or, with count > 0, in each of count elements stride bytes apart, and
// with count2 > 0 in each of count2 elements stride2 apart inside those.
type place struct {
	src             int
	off             int64
	stride, count   int64
	stride2, count2 int64
}

// at returns the place off bytes further into each element.
func (p place) at(off int64) place {
	p.off += off
	return p
}

// planner builds one plan.
type planner struct {
	p     *probePlan
	cfg   value.LoadConfig
	opts  Options
	param int
	limit int // operations the plan may hold
}

// buildPlan makes the capture plan for the given parameters, which are the
// arguments at an entry probe and the results at a return probe. locs holds
// their ABI locations.
func buildPlan(params []probe.Param, locs []probe.Location, opts Options) probePlan {
	var p probePlan
	p.partial = make([]bool, len(params))
	b := planner{p: &p, cfg: loadConfig(opts), opts: opts, limit: maxOps}
	for i, prm := range params {
		b.param = i
		pc := paramCapture{param: prm, valueOp: -1}
		pc.scalar, pc.isScalar = value.ScalarOf(prm.Type)
		loc := locs[i]
		size := prm.Type.Size()
		switch {
		case size == 0:
			pc.unavailable = ""
		case loc.InRegs && len(loc.Pieces) > maxPieces:
			pc.unavailable = "split into more pieces (registers, stack runs) than a probe captures"
		case loc.InRegs && size > maxValue:
			pc.unavailable = "register-held value too large to capture"
		case loc.InRegs && loc.HasFloat():
			pc.unavailable = "held in a floating-point register, which uprobes cannot read"
		case loc.InRegs:
			op := capOp{Kind: opRegs, Param: uint8(i), NPieces: uint8(len(loc.Pieces)), Size: uint32(size)}
			if !setPieces(&op, loc.Pieces) {
				pc.unavailable = "a piece on the stack is beyond what a probe addresses"
				break
			}
			pc.valueOp = b.add(op, false)
		default:
			pc.valueOp = b.add(capOp{Kind: opStack, Param: uint8(i), StackOff: int32(loc.StackOff),
				Size: uint32(size), Max: uint32(min(size, maxSeg))}, false)
			if size > maxSeg {
				p.partial[i] = true
			}
		}
		if pc.valueOp < 0 && pc.unavailable == "" && size > 0 {
			pc.unavailable = "capture budget exhausted"
		}
		p.params = append(p.params, pc)
	}
	// Values first, then what they point at: a parameter's own bytes are
	// never crowded out by another's pointees.
	for i, pc := range p.params {
		if pc.valueOp >= 0 {
			b.param = i
			b.value(pc.param.Type, place{src: pc.valueOp}, 0)
		}
	}
	p.maxBytes = eventHeaderSize + b.bytes()
	return p
}

// setPieces fills op's pieces: a register's pt_regs slot, or a stack
// piece's offset from SP+8 (at the probe, as a stack operation's).
func setPieces(op *capOp, pieces []probe.Piece) bool {
	for j, pc := range pieces {
		op.PieceOff[j] = uint8(pc.Off)
		op.PieceSize[j] = uint8(pc.Size)
		if !pc.Stack {
			op.Regs[j] = abiIntRegSlots[pc.Reg]
			continue
		}
		if pc.StackOff < -1<<15 || pc.StackOff >= 1<<15 {
			return false
		}
		op.Regs[j], op.PieceStack[j] = pieceStack, int16(pc.StackOff)
	}
	return true
}

// add appends op and returns its index, or -1 when the budget is spent.
func (b *planner) add(op capOp, guess bool) int {
	p := b.p
	if int(p.bpf.NOps) >= b.limit {
		p.partial[b.param] = true
		return -1
	}
	op.Param = uint8(b.param)
	p.bpf.Ops[p.bpf.NOps] = op
	p.speculative[p.bpf.NOps] = guess
	p.bpf.NOps++
	return int(p.bpf.NOps - 1)
}

// deref appends an operation following the pointer at at.off (plus
// lenOff for a counted one), copying size bytes, or size × the count
// found at lenOff, up to limit.
func (b *planner) deref(at place, lenOff int64, size, limit int64, guess bool) int {
	return b.derefKind(at, lenOff, lenCount, size, limit, guess)
}

// derefKind is deref with the count at lenOff stored as kind says.
func (b *planner) derefKind(at place, lenOff int64, kind uint8, size, limit int64, guess bool) int {
	end := at.off + 8
	if lenOff >= 0 {
		end = lenOff + 8
	}
	if end > 0xfffe || !at.fits() || limit <= 0 {
		b.p.partial[b.param] = true
		return -1
	}
	if limit > maxSeg {
		// The loader will ask for more than one segment holds.
		b.p.partial[b.param] = true
		limit = maxSeg
	}
	op := capOp{Kind: opDeref, Src: uint8(at.src), PtrOff: uint16(at.off), LenOff: noLenOffset,
		Size: uint32(size), Max: uint32(limit)}
	at.set(&op)
	if lenOff >= 0 {
		op.LenOff, op.LenKind = uint16(lenOff), kind
	}
	return b.add(op, guess)
}

// fits reports whether the element strides and counts fit a capOp.
func (p place) fits() bool {
	return p.stride <= 0xffff && p.count <= 0xffff && p.stride2 <= 0xffff && p.count2 <= 0xff
}

// set copies the place's element strides and counts into op.
func (p place) set(op *capOp) {
	op.Stride, op.Count, op.Stride2, op.Count2 = uint16(p.stride), uint16(p.count), uint16(p.stride2), uint8(p.count2)
}

// value appends the operations that capture what the loader reads of a
// value of type t lying at at, loaded at nesting level (as in value.Load:
// structs, maps and interfaces nest, pointers do not).
func (b *planner) value(t godwarf.Type, at place, level int) {
	cfg := b.cfg
	tooDeep := level > cfg.MaxVariableRecurse
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.StringType:
		b.deref(at, at.off+8, 1, int64(cfg.MaxStringLen), false)
	case *godwarf.SliceType:
		es := rt.Elem.Size()
		if es <= 0 || cfg.MaxArrayValues <= 0 {
			return
		}
		n := int64(cfg.MaxArrayValues)
		idx := b.deref(at, at.off+8, es, min(n*es, int64(b.opts.MaxSliceBytes)), false)
		if idx >= 0 {
			b.elems(rt.Elem, place{src: idx}, es, n, level+1)
		}
	case *godwarf.ArrayType:
		stride := rt.Stride
		if stride == 0 {
			stride = rt.Elem.Size()
		}
		n := min(rt.Count, int64(cfg.MaxArrayValues))
		if n > 0 && stride > 0 {
			b.elems(rt.Elem, at, stride, n, level+1)
		}
	case *godwarf.StructType:
		if tooDeep {
			return
		}
		for _, f := range rt.Fields {
			b.value(f.Type, at.at(f.ByteOffset), level+1)
		}
	case *godwarf.PtrType:
		b.pointer(rt, at, level)
	case *godwarf.InterfaceType:
		b.iface(rt, at, level)
	case *godwarf.ChanType:
		// The loader reads the whole hchan behind the pointer; its fields
		// give the "chan T n/m" line.
		if ptr, ok := godwarf.ResolveTypedef(rt.Type).(*godwarf.PtrType); ok && ptr.Elem != nil && ptr.Elem.Size() > 0 {
			b.deref(at, -1, ptr.Elem.Size(), ptr.Elem.Size(), false)
		}
	case *godwarf.FuncType:
		// A func value points at its funcval, whose first word is the PC.
		b.deref(at, -1, 8, 8, false)
	case *godwarf.MapType:
		b.mapValue(rt, at, level)
	}
}

// elems captures n elements of type elem, stride bytes apart, starting at
// at: as one fanned-out operation per read when at is a single place, or
// one element at a time inside an already fanned-out place.
func (b *planner) elems(elem godwarf.Type, at place, stride, n int64, level int) {
	switch {
	case at.count == 0:
		at.stride, at.count = stride, n
		b.value(elem, at, level)
		return
	case at.count2 == 0 && n <= 0xff:
		at.stride2, at.count2 = stride, n
		b.value(elem, at, level)
		return
	}
	for i := int64(0); i < n && int(b.p.bpf.NOps) < b.limit; i++ {
		b.value(elem, at.at(i*stride), level)
	}
}

// pointer mirrors the loader's loadPointer: the pointee is read when
// pointers are followed, at the same level, except that a pointer to a
// pointer or an interface nests.
func (b *planner) pointer(t *godwarf.PtrType, at place, level int) {
	if t.Elem == nil || !b.cfg.FollowPointers {
		return
	}
	next := level
	switch godwarf.ResolveTypedef(t.Elem).(type) {
	case *godwarf.VoidType:
		return
	case *godwarf.InterfaceType:
		next++
	case *godwarf.PtrType:
		if level > b.cfg.MaxVariableRecurse {
			return
		}
		next++
	case *godwarf.StructType:
		if next > b.cfg.MaxVariableRecurse {
			return // the loader stops before reading the struct
		}
	}
	es := t.Elem.Size()
	if es <= 0 {
		return
	}
	if idx := b.deref(at, -1, es, es, false); idx >= 0 {
		b.value(t.Elem, place{src: idx}, next)
	}
}

// iface captures what the loader needs to print a non-nil interface as its
// dynamic type and value. The type descriptor itself is read-only data the
// decoder reads from the executable (staticMemory); an itab may be built
// at run time, so its first two words (interface type, dynamic type) are
// copied. The dynamic value is captured by the plan of its type, which the
// probe looks up by the type word (see dynPlans). A type without one gets
// the bytes behind the data word copied up to ifaceDataBytes, whose words
// are also followed as strings' pointers and lengths: that still prints
// the message of most errors.
func (b *planner) iface(t *godwarf.InterfaceType, at place, level int) {
	layout, ok := godwarf.ResolveTypedef(t.Type).(*godwarf.StructType)
	if !ok {
		return
	}
	itab := layout.Field("tab") != nil
	if itab {
		b.deref(at, -1, 16, 16, false)
	}
	if level > b.cfg.MaxVariableRecurse || level > 0xff || at.off+16 > 0xfffe || !at.fits() {
		return // the loader shows the data as an address only
	}
	op := capOp{Kind: opIface, Src: uint8(at.src), PtrOff: uint16(at.off), LenOff: noLenOffset,
		NPieces: uint8(level), Size: ifaceDataBytes, Max: ifaceDataBytes}
	at.set(&op)
	if itab {
		op.LenOff = 0
	}
	idx := b.add(op, true)
	if idx < 0 {
		return
	}
	words := place{src: idx, stride: 8, count: ifaceGuessBytes/8 - 1}
	b.deref(words, 8, 1, int64(b.cfg.MaxStringLen), true)
	if t.Name == "error" {
		// An error usually wraps another (fmt.wrapError, os.PathError):
		// each word is also followed as a pointer to a string header, so
		// the wrapped error's message shows too.
		if inner := b.deref(words, -1, 16, 16, true); inner >= 0 {
			b.deref(place{src: inner}, 8, 1, int64(b.cfg.MaxStringLen), true)
		}
	}
}

// bytes bounds the data area one event of the plan can fill: a root
// operation's value, or a deref's limit times the segments of its source
// it can apply to, each with its header.
func (b *planner) bytes() int {
	p := b.p
	segs := make([]int, p.bpf.NOps)
	total := 0
	for i := 0; i < int(p.bpf.NOps); i++ {
		op := p.bpf.Ops[i]
		n := 1
		if op.Kind == opDeref || op.Kind == opIface {
			n = segs[op.Src] * max(int(op.Count), 1) * max(int(op.Count2), 1)
		}
		segs[i] = min(n, maxSegs)
		total += segs[i] * (segmentHeaderSize + (int(max(op.Max, op.Size))+7)&^7)
	}
	return min(total, maxData)
}
