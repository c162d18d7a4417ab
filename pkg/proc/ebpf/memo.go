package ebpf

import (
	"encoding/binary"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// A value's text is a function of its type, the load limits and the bytes
// the loader read, at their addresses. A hot function is mostly called
// with the values it had before (its receiver, a configuration, a constant
// string), and loading and printing them again was most of what tinydbg
// spent per event. So, with a text-only converter (Options.ReuseText), the
// text of a parameter read wholly from its own segments is kept under
// those segments' headers, addresses and bytes, and an event whose
// segments for it are the same gets that text without a load.
//
// Equal keys give equal text because the loader is deterministic: it
// starts at the value segment's address and every read it makes depends
// only on bytes it read before, all of which are in the key. A read served
// by another parameter's segment, by a dynamic type's, or not served at
// all makes the value unfit to keep (captured.foreign, captured.missed).
// Static data (the executable's read-only pages) never changes.

// valueMemo is one parameter's kept texts (reader only).
type valueMemo struct {
	texts map[string]memoText
	bytes int // of keys and texts kept
	// tries and hits decide whether keeping is worth it: a parameter
	// whose bytes differ at every call stops being looked up.
	tries, hits int
	off         bool
}

type memoText struct {
	typ, text string
	truncated bool
}

const (
	// memoMaxKey skips values whose segments are larger: their key would
	// cost what a load does.
	memoMaxKey = 4 << 10
	// memoMaxBytes bounds one parameter's memo.
	memoMaxBytes = 1 << 20
	// memoProbation is how many lookups a parameter gets before a hit
	// rate under 1/8 turns its memo off.
	memoProbation = 512
)

// MemoStats counts how often a kept text was reused.
type MemoStats struct {
	Hits, Lookups uint64
	// Scalars counts the numbers and bools formatted from their bytes,
	// without a load (value.Scalar).
	Scalars uint64
	// Mismatches counts reused or scalar texts that differed from a
	// fresh load's, when Options.CheckReuse asks for both; it must stay 0.
	Mismatches uint64
}

// memoKey builds in t.memoBuf the key of parameter i: every segment of
// it, header and bytes. It reports false when there is none or the key is
// too large.
func (t *Tracer) memoKey(mem *captured, i int) ([]byte, bool) {
	k := t.memoBuf[:0]
	for j := range mem.segs {
		s := &mem.segs[j]
		if s.param != i {
			continue
		}
		if len(k)+24+len(s.data) > memoMaxKey {
			return nil, false
		}
		h := s.hdr
		k = binary.LittleEndian.AppendUint64(k, s.addr)
		k = binary.LittleEndian.AppendUint32(k, h.Want)
		k = binary.LittleEndian.AppendUint16(k, uint16(len(s.data)))
		k = append(k, h.Op, h.Flags)
		k = append(k, s.data...)
	}
	t.memoBuf = k
	return k, len(k) > 0
}

// memoFor is the memo of parameter i of plan, made on first use; nil when
// reusing text is off or was turned off for it.
func (t *Tracer) memoFor(plan *probePlan, i int) *valueMemo {
	if !t.textOnly() {
		return nil
	}
	if plan.memos == nil {
		plan.memos = make([]*valueMemo, len(plan.params))
	}
	m := plan.memos[i]
	if m == nil {
		// A number or a bool loads faster than its key is built.
		_, scalar := godwarf.ResolveTypedef(plan.params[i].param.Type).(*godwarf.BasicType)
		m = &valueMemo{texts: map[string]memoText{}, off: scalar}
		plan.memos[i] = m
	}
	if m.off {
		return nil
	}
	return m
}

// textOnly reports whether the converter wants nothing but each value's
// text (Options.ReuseText): then a value may be given its text without
// being loaded, from a memo or, for a scalar, straight from its bytes.
func (t *Tracer) textOnly() bool { return t.opts.ReuseText && t.convert != nil }

// lookup returns the kept text for key, counting the try.
func (m *valueMemo) lookup(key []byte, st *MemoStats) (memoText, bool) {
	m.tries++
	st.Lookups++
	e, ok := m.texts[string(key)]
	if ok {
		m.hits++
		st.Hits++
	}
	if m.tries >= memoProbation && m.hits*8 < m.tries {
		m.off, m.texts = true, nil
	}
	return e, ok
}

// full reports whether keep would refuse anything more.
func (m *valueMemo) full() bool { return m.off || m.bytes >= memoMaxBytes }

// keep stores text under key while the memo has room.
func (m *valueMemo) keep(key string, e memoText) {
	if m.off || e.text == "" {
		return
	}
	size := len(key) + len(e.typ) + len(e.text)
	if m.bytes+size > memoMaxBytes {
		return
	}
	// A copy: the text lives in a batch's buffer.
	m.texts[key] = memoText{typ: e.typ, text: string([]byte(e.text)), truncated: e.truncated}
	m.bytes += size
}

// pendingMemo is a value loaded on a miss, whose text is kept once the
// converter has printed it, or one whose kept text is checked against the
// fresh one (CheckReuse).
type pendingMemo struct {
	memo  *valueMemo
	index int // into the event's Values
	key   string
	// check (CheckReuse) says kept is the text the fresh one must equal.
	check bool
	kept  memoText
}

// settleMemos keeps or checks the texts of ev's pending values, after
// the converter printed them.
func (t *Tracer) settleMemos(values []event.Value) {
	for _, p := range t.memoPending {
		v := &values[p.index]
		got := memoText{typ: v.Type, text: v.Value, truncated: v.Truncated}
		if p.check {
			if p.kept != got {
				t.memoStats.Mismatches++
			}
			continue
		}
		p.memo.keep(p.key, got)
	}
	t.memoPending = t.memoPending[:0]
}
