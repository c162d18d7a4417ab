package ebpf

// Calls and returns are paired in user space by the activation they belong
// to: the goroutine and the distance of SP below the goroutine's stack top
// at the probe. Both probe kinds sit where the frame is not set up (the
// entry) or already torn down (a RET), so a call and its return see the
// same distance, and copying a growing stack preserves it. Stacks grow
// down, so the open calls of a goroutine are ordered by distance: a new
// call at distance d, or a return at d, proves every open call deeper than
// d (and, for a call, at d) is gone without returning — a panic or
// runtime.Goexit unwound it. Those are dropped, so they can never be
// matched by a later return and shift the pairing of every call after.

// openCall is a call whose return has not been seen.
type openCall struct {
	fn       int // index into Tracer.funcs
	stackOff uint64
	timeNs   uint64
	gen      uint32 // the function's drop count when the call was recorded
}

// pairer tracks the open calls of every goroutine. It is used only by the
// reader goroutine.
type pairer struct {
	open map[uint64][]openCall // by goid, shallowest first
	// spare holds emptied slices of open for goroutines' next calls: a
	// goroutine calling a traced function in a loop empties its slice at
	// every return, and making it anew cost an allocation per call.
	spare     [][]openCall
	abandoned uint64
	// gen is the drop count of the current event's function, set by the
	// reader before it decodes the event: if it changed between a call and
	// a return, events of the function were lost in between, and the call
	// open at the return's position may not be its own.
	gen uint32
}

func newPairer() *pairer { return &pairer{open: map[uint64][]openCall{}} }

// call records a call and returns its depth: how many calls of the same
// function are still open below it on the goroutine (recursion).
func (p *pairer) call(goid uint64, fn int, stackOff, timeNs uint64) int {
	calls := p.unwind(goid, stackOff, true)
	depth := 0
	for _, c := range calls {
		if c.fn == fn {
			depth++
		}
	}
	if calls == nil && len(p.spare) > 0 {
		calls, p.spare = p.spare[len(p.spare)-1], p.spare[:len(p.spare)-1]
	}
	p.open[goid] = append(calls, openCall{fn: fn, stackOff: stackOff, timeNs: timeNs, gen: p.gen})
	return depth
}

// ret pairs a return with its call. ok is false when the call was not seen
// (the probes were attached during it, or its event was dropped).
func (p *pairer) ret(goid uint64, fn int, stackOff, timeNs uint64) (durationNs uint64, depth int, ok bool) {
	calls := p.unwind(goid, stackOff, false)
	n := len(calls)
	if n > 0 && calls[n-1].stackOff == stackOff && calls[n-1].fn == fn {
		c := calls[n-1]
		calls = calls[:n-1]
		for _, o := range calls {
			if o.fn == fn {
				depth++
			}
		}
		if c.gen == p.gen {
			durationNs, ok = timeNs-c.timeNs, true
		}
	}
	if len(calls) == 0 {
		delete(p.open, goid)
		if cap(calls) > 0 && len(p.spare) < maxSpare {
			p.spare = append(p.spare, calls[:0])
		}
	} else {
		p.open[goid] = calls
	}
	return durationNs, depth, ok
}

// maxSpare bounds pairer.spare: about the goroutines that call traced
// functions at once.
const maxSpare = 256

// unwind drops the goroutine's open calls that are deeper than stackOff
// (or at it, when inclusive) and returns those that remain.
func (p *pairer) unwind(goid, stackOff uint64, inclusive bool) []openCall {
	calls := p.open[goid]
	n := len(calls)
	for n > 0 && (calls[n-1].stackOff > stackOff || inclusive && calls[n-1].stackOff == stackOff) {
		n--
	}
	p.abandoned += uint64(len(calls) - n)
	return calls[:n]
}

// isOpen reports whether fn's innermost open call on the goroutine is at
// stackOff and has no open call deeper than it.
func (p *pairer) isOpen(goid uint64, fn int, stackOff uint64) bool {
	calls := p.open[goid]
	for i := len(calls) - 1; i >= 0 && calls[i].stackOff >= stackOff; i-- {
		if calls[i].stackOff == stackOff && calls[i].fn == fn {
			return true
		}
	}
	return false
}
