package ebpf

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// Inlined copies (package probe gives the rules of their entries, exits
// and pairing) are more uprobe sites with plans of their own. One address
// can have several roles: a copy ending where the next begins, a copy
// beginning at a function's entry. A probe reports at most two records
// per hit (a PROBE_BOTH cookie runs a plan for each), so an address whose
// roles are not one function's call or return gets a slot: an entry of
// Tracer.funcs whose two plans are those of its first two roles, in the
// order they happen (exits of copies, innermost first; the function's
// call, then its return; entries of copies, outermost first). A third
// role at one address (two nested traced copies ending where a third
// begins) is reported without a record of its own when it is an exit of
// a copy: the slot's first record reports it (splitImplied). Only a third
// role that is a call or a function's return is not reported; its call
// then stays open until superseded.

// role is one event an address reports.
type role struct {
	fn   int // index into Tracer.funcs of the function or copy
	ret  bool
	tail bool
	// frameOff is CFA-SP at the address, for a copy's role.
	frameOff int64
}

// errNoEvent is returned by decode for a record that reports nothing: an
// exit of an inlined copy reached from outside it, or its entry hit again
// by a loop inside the copy.
var errNoEvent = errors.New("no event")

// name is the traced function's name.
func (tf *tracedFunc) name() string {
	if tf.inl != nil {
		return tf.inl.Func
	}
	return tf.fn.Name
}

// prepareInlined finds a copy's sites and builds its entry plan; its
// returns carry no values.
func (t *Tracer) prepareInlined(frames *probe.Frames, inst bininfo.InlinedInstance, opts Options) (*tracedFunc, error) {
	in, err := probe.FindInlined(t.bi, t.types, frames, inst)
	if err != nil {
		return nil, err
	}
	// The BPF program reads stack values at SP+8+off; the copy's are at
	// CFA+off, and the CFA is SP+FrameOff at the entry.
	var params []probe.Param
	var locs []probe.Location
	var orig []int
	for i, p := range in.Args {
		if in.ArgErr[i] != "" {
			continue
		}
		loc := in.ArgLocs[i].Shift(in.FrameOff[in.Entry] - 8)
		params, locs, orig = append(params, p), append(locs, loc), append(orig, i)
	}
	plan := renumberInlined(buildPlan(params, locs, opts), in.Args, in.ArgErr, orig)
	return &tracedFunc{inl: in, entry: plan}, nil
}

// renumberInlined turns the plan built for the located arguments only
// into one indexed by every argument of the copy: orig[k] is the argument
// the k-th located one is. Everything per parameter moves with it, or the
// decoder reads one argument's marks for another's (and past the end).
func renumberInlined(located probePlan, args []probe.Param, argErr []string, orig []int) probePlan {
	plan := located
	for i := uint32(0); i < plan.bpf.NOps; i++ {
		plan.bpf.Ops[i].Param = uint8(orig[plan.bpf.Ops[i].Param])
	}
	plan.params = make([]paramCapture, len(args))
	plan.partial = make([]bool, len(args))
	for i, p := range args {
		plan.params[i] = paramCapture{param: p, valueOp: -1, unavailable: argErr[i]}
	}
	for k, i := range orig {
		plan.params[i] = located.params[k]
		plan.partial[i] = located.partial[k]
	}
	return plan
}

// layout assigns every probe address its cookie, adding slots to t.funcs
// where an address has inlined roles or roles of several functions.
func (t *Tracer) layout() error {
	exits, calls, rets, enters := map[uint64][]role{}, map[uint64][]role{}, map[uint64][]role{}, map[uint64][]role{}
	addrs := map[uint64]bool{}
	for i, tf := range t.funcs {
		if tf.inl != nil {
			in := tf.inl
			enters[in.Entry] = append(enters[in.Entry], role{fn: i, frameOff: in.FrameOff[in.Entry]})
			addrs[in.Entry] = true
			for _, x := range in.Exits {
				exits[x] = append(exits[x], role{fn: i, ret: true, frameOff: in.FrameOff[x]})
				addrs[x] = true
			}
			continue
		}
		calls[tf.sites.Entry] = append(calls[tf.sites.Entry], role{fn: i})
		addrs[tf.sites.Entry] = true
		for _, r := range tf.sites.Returns {
			rets[r] = append(rets[r], role{fn: i, ret: true})
			addrs[r] = true
		}
		for _, j := range tf.sites.TailJumps {
			rets[j] = append(rets[j], role{fn: i, ret: true, tail: true})
			addrs[j] = true
		}
	}
	depth := func(r role) int { return t.funcs[r.fn].inl.Depth }
	sorted := make([]uint64, 0, len(addrs))
	for a := range addrs {
		sorted = append(sorted, a)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, a := range sorted {
		x, e := exits[a], enters[a]
		sort.SliceStable(x, func(i, j int) bool { return depth(x[i]) > depth(x[j]) })
		sort.SliceStable(e, func(i, j int) bool { return depth(e[i]) < depth(e[j]) })
		roles := append(append(append(append([]role{}, x...), calls[a]...), rets[a]...), e...)
		off, err := probe.FileOffset(t.bi, a)
		if err != nil {
			return fmt.Errorf("%s: %w", t.funcs[roles[0].fn].name(), err)
		}
		var implied []role
		if len(roles) > 2 {
			roles, implied = t.splitImplied(roles)
		}
		t.addrs = append(t.addrs, off)
		t.cookies = append(t.cookies, t.cookie(roles, implied))
	}
	return nil
}

// splitImplied moves the exits of copies out of an address's roles,
// innermost first, until two roles are left. Their records would carry
// nothing (copies' exits have no values), and the record of any role at
// the address says the hit happened: each copy still open in the frame
// there has ended (impliedExits). Exits come first in the order of roles,
// so reporting them before the records' events keeps that order.
func (t *Tracer) splitImplied(roles []role) (kept, implied []role) {
	kept = roles
	for len(kept) > 2 && kept[0].ret && t.funcs[kept[0].fn].inl != nil {
		implied, kept = append(implied, kept[0]), kept[1:]
	}
	return kept, implied
}

// cookie returns the attach cookie of an address with roles and the exits
// they imply.
func (t *Tracer) cookie(roles, implied []role) uint64 {
	r := roles[0]
	if t.funcs[r.fn].inl == nil && len(implied) == 0 {
		switch {
		case len(roles) == 1 && r.tail:
			return uint64(r.fn)<<2 | probeTail
		case len(roles) == 1 && r.ret:
			return uint64(r.fn)<<2 | probeReturn
		case len(roles) == 1:
			return uint64(r.fn)<<2 | probeCall
		case len(roles) == 2 && roles[1].fn == r.fn && !r.ret && roles[1].ret && !roles[1].tail:
			// An empty function: its entry is its RET (see trace.bpf.c).
			return uint64(r.fn)<<2 | probeBoth
		}
	}
	slot := &tracedFunc{implied: implied}
	kind := uint64(probeBoth)
	switch {
	case len(roles) == 1 && r.ret:
		slot.roles[1], kind = &roles[0], probeReturn
	case len(roles) == 1:
		slot.roles[0], kind = &roles[0], probeCall
	default:
		slot.roles[0], slot.roles[1] = &roles[0], &roles[1]
	}
	for half, sr := range slot.roles {
		if sr == nil || sr.tail {
			continue
		}
		plan := t.funcs[sr.fn].entry
		if sr.ret {
			plan = t.funcs[sr.fn].returns
		}
		if half == 0 {
			slot.entry = plan
		} else {
			slot.returns = plan
		}
	}
	t.funcs = append(t.funcs, slot)
	return uint64(len(t.funcs)-1)<<2 | kind
}

// resolve turns the record of plan index fi and kind recKind into the
// function or copy it reports, its event kind, whether it is a tail call,
// and the stack offset its call and return are paired by: for a copy, the
// caller's CFA below the stack top plus the inlining depth, which puts it
// inside its caller's activation and outside its callees'.
func (t *Tracer) resolve(fi int, h *eventHeader) (int, event.Kind, bool, uint64) {
	kind := event.Call
	if h.Kind == evReturn {
		kind = event.Return
	}
	slot := t.funcs[fi]
	r := slot.roles[h.Kind&1]
	if r == nil {
		return fi, kind, h.Flags&evfTail != 0, h.StackOff
	}
	kind = event.Call
	if r.ret {
		kind = event.Return
	}
	return r.fn, kind, r.tail, t.pairingOff(h.StackOff, r)
}

// pairingOff is the stack offset the record of role r, at stackOff, is
// paired by (see resolve).
func (t *Tracer) pairingOff(stackOff uint64, r *role) uint64 {
	if in := t.funcs[r.fn].inl; in != nil {
		return stackOff - uint64(r.frameOff) + 8 + uint64(in.Depth)
	}
	return stackOff
}

// impliedExits appends to t.impliedEvents the returns of the copies that
// the record (of plan index fi, header h) implies have ended, each that is
// open: they come before the record's own event. Only a slot's first
// record reports them, once per hit.
func (t *Tracer) impliedExits(fi int, h *eventHeader) {
	slot := t.funcs[fi]
	if len(slot.implied) == 0 || h.Kind&1 != 0 && slot.roles[0] != nil {
		return
	}
	for i := range slot.implied {
		r := &slot.implied[i]
		off := t.pairingOff(h.StackOff, r)
		if !t.pairs.isOpen(h.Goid, r.fn, off) {
			continue // entered before the probes were, or never
		}
		ns, depth, ok := t.pairs.ret(h.Goid, r.fn, off, h.TimeNs)
		t.impliedEvents = append(t.impliedEvents, event.Event{Kind: event.Return, Function: t.funcs[r.fn].name(),
			Goroutine: int64(h.Goid), Thread: int(h.Tid), Time: time.Duration(h.TimeNs), StackOffset: off,
			Duration: time.Duration(ns), Unpaired: !ok, Depth: depth, Inlined: true})
	}
}

// loopHit reports whether a call record of tf is its entry hit again by
// a loop inside the copy: the copy is already open in the same frame.
func (t *Tracer) loopHit(tf *tracedFunc, fi int, goid, stackOff uint64) bool {
	return tf.inl != nil && tf.inl.LoopEntry && t.pairs.isOpen(goid, fi, stackOff)
}
