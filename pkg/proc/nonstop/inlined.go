package nonstop

import (
	"encoding/binary"
	"sort"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// An inlined copy runs in its caller's frame (package probe states the
// rules), so its calls pair by goroutine and the caller's CFA, taken as a
// distance below the goroutine's stack top: copying a growing stack moves
// the CFA, not the distance. The inlining depth is added so that a copy
// nested in another sits deeper than its parent, inside the caller's
// frame and above its callees'. As with the eBPF pairer, a hit at
// distance d proves every open copy deeper than d gone (a panic unwound
// it), so none of them can pair with a later exit.

// openInlined is a call of an inlined copy whose exit was not seen yet.
type openInlined struct {
	in   *probe.Inlined
	dist uint64
	at   time.Duration
}

// addInlined adds the entry and exit sites of insts.
func (pt *Tracer) addInlined(insts []bininfo.InlinedInstance) error {
	if len(insts) == 0 {
		return nil
	}
	rt, err := pt.bi.RuntimeLayout()
	if err != nil {
		return err
	}
	pt.stackHi = rt.G.StackHi
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

// distance is where copy in pairs at probe address addr (see above).
func (pt *Tracer) distance(in *probe.Inlined, addr uint64, th *hitThread) uint64 {
	var hi uint64
	var buf [8]byte
	// Inlined code is Go code of the register ABI: R14 holds the g.
	if pt.stackHi >= 0 {
		if n, err := th.mem.ReadMemory(buf[:], th.regs.R14+uint64(pt.stackHi)); err == nil && n == 8 {
			hi = binary.LittleEndian.Uint64(buf[:])
		}
	}
	return hi - (th.regs.SP() + uint64(in.FrameOff[addr])) + uint64(in.Depth)
}

// unwindInlined drops the goroutine's open copies deeper than dist and
// returns those left.
func (pt *Tracer) unwindInlined(goid int64, dist uint64) []openInlined {
	calls := pt.inl[goid][:0]
	for _, c := range pt.inl[goid] {
		if c.dist <= dist {
			calls = append(calls, c)
		}
	}
	return calls
}

// inlinedCall reports entering copy in at addr, or nothing when the copy
// is already open in this frame and the hit is its own loop.
func (pt *Tracer) inlinedCall(in *probe.Inlined, addr uint64, th *hitThread, now time.Duration) *event.Event {
	cfa := th.regs.SP() + uint64(in.FrameOff[addr])
	dist := pt.distance(in, addr, th)
	calls := pt.unwindInlined(th.goid, dist)
	for i, c := range calls {
		if c.in == in && c.dist == dist {
			if in.LoopEntry {
				pt.inl[th.goid] = calls
				return nil
			}
			calls = append(calls[:i], calls[i+1:]...) // superseded: its exit was missed
			break
		}
	}
	pt.inl[th.goid] = append(calls, openInlined{in: in, dist: dist, at: now})
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
	dist := pt.distance(in, addr, th)
	calls := pt.unwindInlined(th.goid, dist)
	for i, c := range calls {
		if c.in == in && c.dist == dist {
			pt.inl[th.goid] = append(calls[:i], calls[i+1:]...)
			if len(pt.inl[th.goid]) == 0 {
				delete(pt.inl, th.goid)
			}
			ev := pt.inlinedEvent(event.Return, in, th, now)
			ev.Duration = now - c.at
			return ev
		}
	}
	pt.inl[th.goid] = calls
	if len(calls) == 0 {
		delete(pt.inl, th.goid)
	}
	return nil
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
