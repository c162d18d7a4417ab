package nonstop

import (
	"sort"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// inlineKey is one activation of an inlined copy: the copy runs in its
// caller's frame, whose CFA is fixed for the caller's whole activation
// (package probe states the rules).
type inlineKey struct {
	goid int64
	cfa  uint64
	in   *probe.Inlined
}

// addInlined adds the entry and exit sites of insts.
func (pt *Tracer) addInlined(insts []bininfo.InlinedInstance) error {
	if len(insts) == 0 {
		return nil
	}
	frames, err := probe.LoadFrames(pt.bi)
	if err != nil {
		return err
	}
	for _, inst := range insts {
		in, err := probe.FindInlined(pt.bi, pt.types, frames, inst)
		if err != nil {
			return err
		}
		s := pt.siteAt(in.Entry, nil)
		s.enters = append(s.enters, in)
		for _, x := range in.Exits {
			s := pt.siteAt(x, nil)
			s.exits = append(s.exits, in)
		}
	}
	for _, s := range pt.sites {
		sort.SliceStable(s.exits, func(i, j int) bool { return s.exits[i].Depth > s.exits[j].Depth })
		sort.SliceStable(s.enters, func(i, j int) bool { return s.enters[i].Depth < s.enters[j].Depth })
	}
	return nil
}

// inlinedCall reports entering copy in at addr, or nothing when the copy
// is already open in this frame and the hit is its own loop.
func (pt *Tracer) inlinedCall(in *probe.Inlined, addr uint64, th *hitThread, now time.Duration) *event.Event {
	cfa := th.regs.SP() + uint64(in.FrameOff[addr])
	key := inlineKey{goid: th.goid, cfa: cfa, in: in}
	if _, open := pt.inl[key]; open && in.LoopEntry {
		return nil
	}
	pt.inl[key] = now
	ev := pt.inlinedEvent(event.Call, in, th, now)
	if pt.needs.Values {
		ev.Values = pt.load(in.Args, in.ArgLocs, in.ArgErr, th, cfa)
	}
	return ev
}

// inlinedReturn reports control leaving copy in at addr; an exit reached
// while the copy is not open in this frame came from outside the copy and
// reports nothing.
func (pt *Tracer) inlinedReturn(in *probe.Inlined, addr uint64, th *hitThread, now time.Duration) *event.Event {
	key := inlineKey{goid: th.goid, cfa: th.regs.SP() + uint64(in.FrameOff[addr]), in: in}
	at, open := pt.inl[key]
	if !open {
		return nil
	}
	delete(pt.inl, key)
	ev := pt.inlinedEvent(event.Return, in, th, now)
	ev.Duration = now - at
	return ev
}

func (pt *Tracer) inlinedEvent(kind event.Kind, in *probe.Inlined, th *hitThread, now time.Duration) *event.Event {
	pt.events++
	ev := &event.Event{Kind: kind, Goroutine: th.goid, Thread: th.id, Function: in.Func, Time: now, Inlined: true}
	if pt.needs.Stack > 0 {
		ev.Stack = pt.stack(th, pt.needs.Stack+1)
		if len(ev.Stack) > pt.needs.Stack {
			ev.Stack, ev.StackTruncated = ev.Stack[:pt.needs.Stack], true
		}
	}
	return ev
}
