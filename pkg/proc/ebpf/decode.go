package ebpf

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// captured is the bytes of one event presented as the target's memory at
// their original addresses, so the shared loader formats them exactly as it
// formats live memory; register-held values sit in the value overlay.
type captured struct {
	segs   []segmentView
	regs   value.Overlay
	static staticPages
	// missed is set when the loader asked for bytes the probe did not
	// capture: the value it printed is cut short where the plan or the
	// kernel's limits stopped.
	missed bool
	// faulted is set when a read fell in a segment the probe tried and
	// the kernel could not read (segfUnread): its page was not in memory.
	faulted bool
	// owner is the parameter being loaded, and foreign is set when a read
	// was served by a segment of another one (or a dynamic type's): only
	// a value read wholly from its own segments can be reused (memo.go).
	owner   int
	foreign bool
	// params holds, per parameter of the plan, what parseSegments found
	// of it in one pass over the segments.
	params []paramSegs
}

// paramSegs is what one event's segments say of one parameter.
type paramSegs struct {
	value int // index in segs of the segment holding the value; -1: none
	// cut is set when one of its segments was cut short or unreadable.
	cut bool
}

type segmentView struct {
	hdr   segmentHeader
	addr  uint64
	data  []byte
	param int // the plan's parameter the segment belongs to; -1: none
}

// served notes that s served a read of the value being loaded.
func (c *captured) served(s *segmentView) {
	if s.param != c.owner {
		c.foreign = true
	}
}

// servedSynthetic notes a read of a register-assembled value: foreign
// unless one of the owner's register segments holds it.
func (c *captured) servedSynthetic(addr uint64, size int) {
	for i := range c.segs {
		s := &c.segs[i]
		if s.param == c.owner && addr >= s.addr && addr-s.addr <= uint64(len(s.data)) && uint64(size) <= uint64(len(s.data))-(addr-s.addr) {
			return
		}
	}
	c.foreign = true
}

// ReadMemory implements value.MemoryReader: reads must fall entirely inside
// one captured segment, anything else was not captured.
func (c *captured) ReadMemory(buf []byte, addr uint64) (int, error) {
	if value.IsSynthetic(addr) {
		if n, err := c.regs.ReadMemory(buf, addr); err == nil {
			c.servedSynthetic(addr, len(buf))
			return n, nil
		}
		return 0, fmt.Errorf("%d bytes at %#x were not captured by the probe", len(buf), addr)
	}
	for i := range c.segs {
		s := &c.segs[i]
		if addr >= s.addr && addr-s.addr <= uint64(len(s.data)) && uint64(len(buf)) <= uint64(len(s.data))-(addr-s.addr) {
			c.served(s)
			return copy(buf, s.data[addr-s.addr:]), nil
		}
	}
	if n, err := c.static.ReadMemory(buf, addr); err == nil {
		return n, nil
	}
	c.missed = true
	if c.triedAt(addr) {
		c.faulted = true
		return 0, fmt.Errorf("the probe could not read %d bytes at %#x: unmapped, or not in memory at the call (a probe cannot fault pages in)", len(buf), addr)
	}
	return 0, fmt.Errorf("%d bytes at %#x were not captured by the probe", len(buf), addr)
}

// triedAt reports whether addr is in the bytes a segment wanted and the
// kernel refused to read: a bad pointer's, or a fresh allocation's page
// the program has not touched yet, which ptrace reads (as zeros) and a
// probe, which cannot take a page fault, cannot.
func (c *captured) triedAt(addr uint64) bool {
	for i := range c.segs {
		s := &c.segs[i]
		if s.hdr.Flags&segfUnread != 0 && addr >= s.addr && addr-s.addr < uint64(s.hdr.Want) {
			return true
		}
	}
	return false
}

// ViewMemory implements value.MemoryViewer: a read ReadMemory would serve
// from a segment is served in place, without copying.
func (c *captured) ViewMemory(addr uint64, size int) []byte {
	if value.IsSynthetic(addr) {
		b := c.regs.View(addr, size)
		if b != nil {
			c.servedSynthetic(addr, size)
		}
		return b
	}
	for i := range c.segs {
		s := &c.segs[i]
		if addr >= s.addr && addr-s.addr <= uint64(len(s.data)) && uint64(size) <= uint64(len(s.data))-(addr-s.addr) {
			c.served(s)
			off := addr - s.addr
			return s.data[off : off+uint64(size) : off+uint64(size)]
		}
	}
	return nil
}

// staticPages keeps the pages of the executable's read-only data that
// events have read: every interface in every event reads its dynamic
// type's flags there, and each read was a pread of the file.
type staticPages struct {
	mem   staticMemory
	pages map[uint64][]byte // by page address; nil: not readable whole
}

const staticPageSize = 4096

// ReadMemory implements value.MemoryReader, as mem does.
func (s *staticPages) ReadMemory(buf []byte, addr uint64) (int, error) {
	page := addr &^ (staticPageSize - 1)
	if len(buf) > 0 && addr-page+uint64(len(buf)) <= staticPageSize {
		data, ok := s.pages[page]
		if !ok {
			data = make([]byte, staticPageSize)
			if n, err := s.mem.ReadMemory(data, page); err != nil || n != len(data) {
				data = nil // straddles the end of the data: read piecewise
			}
			s.pages[page] = data
		}
		if data != nil {
			return copy(buf, data[addr-page:]), nil
		}
	}
	return s.mem.ReadMemory(buf, addr)
}

// decode turns one ring buffer record into an Event.
func (t *Tracer) decode(raw []byte) (event.Event, error) {
	var ev event.Event
	err := t.decodeInto(raw, &ev)
	return ev, err
}

// decodeInto is decode into *out, which must be the zero Event: the reader
// decodes in place in its batch, an event being too large to copy twice
// per call of a hot function.
func (t *Tracer) decodeInto(raw []byte, out *event.Event) error {
	if len(raw) < eventHeaderSize {
		return fmt.Errorf("short record of %d bytes", len(raw))
	}
	le := binary.LittleEndian
	h := eventHeader{
		Goid: le.Uint64(raw[0:]), TimeNs: le.Uint64(raw[8:]), StackOff: le.Uint64(raw[16:]),
		Tid: le.Uint32(raw[24:]), Cookie: le.Uint32(raw[28:]),
		DataLen: le.Uint16(raw[32:]), Kind: raw[34], Flags: raw[35],
	}
	fi := int(h.Cookie / 2)
	if fi >= len(t.funcs) {
		return fmt.Errorf("record for unknown probe cookie %d", h.Cookie)
	}
	// A slot's record reports one role of its address (inlined.go), and
	// its first the exits its roles imply.
	t.impliedExits(fi, &h)
	fi, kind, tail, stackOff := t.resolve(fi, &h)
	tf := t.funcs[fi]
	ev := out
	ev.Kind, ev.Function, ev.Goroutine, ev.Thread = kind, tf.name(), int64(h.Goid), int(h.Tid)
	ev.Time, ev.StackOffset = time.Duration(h.TimeNs), stackOff
	ev.Truncated, ev.TailCall, ev.Inlined = h.Flags&evfTruncated != 0, tail, tf.inl != nil
	if ev.Kind == event.Call {
		if t.loopHit(tf, fi, h.Goid, stackOff) {
			return errNoEvent
		}
		ev.Depth = t.pairs.call(h.Goid, fi, stackOff, h.TimeNs)
	} else {
		var ok bool
		var ns uint64
		ns, ev.Depth, ok = t.pairs.ret(h.Goid, fi, stackOff, h.TimeNs)
		ev.Duration, ev.Unpaired = time.Duration(ns), !ok
		if !ok && tf.inl != nil {
			// An exit of the copy reached from outside it.
			t.abandoned.Store(t.pairs.abandoned)
			return errNoEvent
		}
	}
	t.abandoned.Store(t.pairs.abandoned)
	data := raw[eventHeaderSize:]
	if int(h.DataLen) < len(data) {
		data = data[:h.DataLen]
	}
	plan := &tf.entry
	if ev.Kind == event.Return {
		plan = &tf.returns
	}
	if ev.TailCall {
		for _, pc := range plan.params {
			ev.Values = append(ev.Values, event.Value{Name: pc.param.Name,
				Unavailable: "returned by a tail call, whose callee computes the results"})
		}
		return nil
	}
	// The segments of one event are reused for the next: decoding copies
	// every value out of them, and only the reader goroutine decodes.
	mem := &t.scratch
	if err := parseSegments(data, plan, mem); err != nil {
		return err
	}
	if mem.static.pages == nil || mem.static.mem != t.static {
		mem.static = staticPages{mem: t.static, pages: map[uint64][]byte{}}
	}
	ev.Values = t.decodeValues(mem, plan, ev)
	switch {
	case mem.faulted:
		t.unread.Add(1)
	case ev.Truncated:
		t.cut.Add(1)
	}
	return nil
}

// parseSegments splits an event's data area into the segments of c,
// giving each register-assembled value its synthetic address.
func parseSegments(data []byte, plan *probePlan, c *captured) error {
	le := binary.LittleEndian
	c.segs = c.segs[:0]
	c.faulted = false
	c.regs.Reset()
	c.params = c.params[:0]
	for i := range plan.params {
		c.params = append(c.params, paramSegs{value: -1, cut: plan.partial[i]})
	}
	for off := 0; off+segmentHeaderSize <= len(data); {
		h := segmentHeader{Addr: le.Uint64(data[off:]), Want: le.Uint32(data[off+8:]),
			Len: le.Uint16(data[off+12:]), Op: data[off+14], Flags: data[off+15]}
		body := off + segmentHeaderSize
		if body+int(h.Len) > len(data) {
			return fmt.Errorf("corrupt segment at offset %d of event data", off)
		}
		// Filled in place: the view is copied often enough per event.
		c.segs = append(c.segs, segmentView{})
		sv := &c.segs[len(c.segs)-1]
		sv.hdr, sv.addr, sv.data, sv.param = h, h.Addr, data[body:body+int(h.Len)], -1
		// Operations past the plan's are those of dynamic types' plans,
		// which only follow pointers.
		if int(h.Op) < int(plan.bpf.NOps) {
			op := &plan.bpf.Ops[h.Op]
			sv.param = int(op.Param)
			if op.Kind == opRegs {
				var err error
				if sv.addr, err = c.regs.Alloc(sv.data); err != nil {
					return fmt.Errorf("segment at offset %d of event data: %w", off, err)
				}
			}
			if sv.param < len(c.params) {
				ps := &c.params[sv.param]
				if !plan.speculative[h.Op] && (uint32(h.Len) < h.Want || h.Flags&(segfUnread|segfBadSource) != 0) {
					ps.cut = true
				}
				if int(h.Op) == plan.params[sv.param].valueOp {
					ps.value = len(c.segs) - 1
				}
			}
		}
		off = body + (int(h.Len)+7)&^7
	}
	return nil
}

// decodeValues decodes every parameter of a plan from the captured memory.
func (t *Tracer) decodeValues(mem *captured, plan *probePlan, ev *event.Event) []event.Value {
	out := t.values(len(plan.params))
	t.memoPending = t.memoPending[:0]
	var arena *value.Arena
	switch {
	case t.convert != nil:
		arena = &t.convArena
	case t.batch != nil:
		arena = &t.batch.arena
	}
	// Set only when it changes: the loader's pointer fields cost a write
	// barrier each.
	if t.loader.Mem != mem || t.loader.Arena != arena || t.loader.Types != t.types {
		t.loader = value.Loader{Mem: mem, Types: t.types, RuntimeTypes: t.rtypes, Funcs: funcNames{t.bi}, Consts: t.types,
			Arena: arena}
	}
	for i, pc := range plan.params {
		v := event.Value{Name: pc.param.Name, Unavailable: pc.unavailable}
		var seg *segmentView
		if j := mem.params[i].value; j >= 0 {
			seg = &mem.segs[j]
		}
		switch {
		case pc.param.Type.Size() == 0:
			v.Var = value.Load(mem, value.SyntheticBase, pc.param.Type, value.DefaultLoadConfig)
		case pc.valueOp < 0:
		case seg == nil:
			v.Unavailable = "dropped: the event's data area was full"
			v.Truncated = true
		case pc.isScalar && t.textOnly() && t.batch != nil && len(seg.data) >= pc.scalar.Size():
			v.Truncated = mem.params[i].cut
			text := &t.batch.text
			start := len(*text)
			*text = pc.scalar.Append(*text, seg.data)
			b := (*text)[start:]
			v.Type, v.Value = pc.scalar.Type, unsafe.String(unsafe.SliceData(b), len(b))
			t.memoStats.Scalars++
			if t.opts.CheckReuse {
				mem.missed, mem.owner, mem.foreign = false, i, false
				kept := memoText{typ: v.Type, text: v.Value, truncated: v.Truncated}
				v.Type, v.Value = "", ""
				v.Var = t.loader.Load(pc.param.Name, seg.addr, pc.param.Type, loadConfig(t.opts))
				t.memoPending = append(t.memoPending, pendingMemo{index: len(out), check: true, kept: kept})
			}
		default:
			v.Truncated = mem.params[i].cut
			memo := t.memoFor(plan, i)
			var key []byte
			if memo != nil {
				var ok bool
				if key, ok = t.memoKey(mem, i); !ok {
					memo = nil
				}
			}
			var kept memoText
			var check bool
			if memo != nil {
				if e, ok := memo.lookup(key, &t.memoStats); ok {
					if !t.opts.CheckReuse {
						v.Type, v.Value, v.Truncated, v.Kept = e.typ, e.text, e.truncated, true
						break
					}
					kept, check = e, true
				}
			}
			mem.missed, mem.owner, mem.foreign = false, i, false
			v.Var = t.loader.Load(pc.param.Name, seg.addr, pc.param.Type, loadConfig(t.opts))
			v.Truncated = v.Truncated || mem.missed
			if check {
				t.memoPending = append(t.memoPending, pendingMemo{index: len(out), check: true, kept: kept})
			} else if memo != nil && !mem.missed && !mem.foreign && !memo.full() {
				t.memoPending = append(t.memoPending, pendingMemo{memo: memo, index: len(out), key: string(key)})
			}
		}
		if v.Truncated {
			ev.Truncated = true
		}
		out = append(out, v)
	}
	return out
}

// funcNames names func values for the loader, as the ptrace tracer does.
type funcNames struct{ bi *bininfo.BinaryInfo }

// FuncName implements value.FuncResolver.
func (r funcNames) FuncName(pc uint64) (string, bool) {
	if fn := r.bi.PCToFunc(pc); fn != nil {
		return fn.Name, true
	}
	return "", false
}
