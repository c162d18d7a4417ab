package value

import (
	"strconv"
	"unsafe"
)

// Arena holds the nodes of the trees a Loader builds (Loader.Arena) in
// blocks that are reused once Reset: a tracer loads a tree per event and
// drops it as soon as it is printed, and allocating every node, then
// collecting it, cost it more than reading the values did. A tree loaded
// through an arena is valid only until the arena's next Reset; one that
// must outlive it is loaded without an arena. The zero Arena is ready.
type Arena struct {
	blocks [][]Variable
	cur    int // block being carved
	off    int // nodes of blocks[cur] handed out
	caches []cachedMemory
	nCache int
	// text holds the Value of numbers and strings. A string handed out
	// stays valid when text grows: it keeps the old array alive.
	text []byte
}

// arenaBlock is the nodes of one block: a struct's fields or an array's
// elements are carved from one block, so a bigger composite is allocated
// on its own.
const arenaBlock = 512

// variables returns n nodes for the loader to set (initVariable), from a
// when it is not nil.
func (a *Arena) variables(n int) []Variable {
	if a == nil || n > arenaBlock {
		return make([]Variable, n)
	}
	if a.cur < len(a.blocks) && a.off+n > arenaBlock {
		a.cur, a.off = a.cur+1, 0
	}
	if a.cur == len(a.blocks) {
		a.blocks = append(a.blocks, make([]Variable, arenaBlock))
	}
	s := a.blocks[a.cur][a.off : a.off+n : a.off+n]
	a.off += n
	return s
}

// cache returns a prefetch layer for the caller to set, from a when it is
// not nil.
func (a *Arena) cache() *cachedMemory {
	if a == nil {
		return &cachedMemory{}
	}
	if a.nCache == len(a.caches) {
		// A new slice: the layers handed out before stay where they are.
		a.caches = make([]cachedMemory, max(2*len(a.caches), 64))
		a.nCache = 0
	}
	c := &a.caches[a.nCache]
	a.nCache++
	return c
}

// Reset makes the arena's storage available again, invalidating every
// tree loaded through it. Nodes are not cleared: the loader sets every
// field of a node it takes (initVariable), and clearing them all here cost
// a trace as much as allocating them had. What old nodes still refer to
// stays alive until they are reused, at most the arena's size.
func (a *Arena) Reset() {
	a.cur, a.off = 0, 0
	a.nCache = 0
	a.text = a.text[:0]
}

// textFrom is what a's text holds from start on, as a string.
func (a *Arena) textFrom(start int) string {
	b := a.text[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// formatInt is strconv.FormatInt(n, 10), in a when it is not nil.
func (a *Arena) formatInt(n int64) string {
	if a == nil || (n >= 0 && n < 100) { // strconv's small numbers are not allocated
		return strconv.FormatInt(n, 10)
	}
	start := len(a.text)
	a.text = strconv.AppendInt(a.text, n, 10)
	return a.textFrom(start)
}

// formatUint is strconv.FormatUint(n, 10), in a when it is not nil.
func (a *Arena) formatUint(n uint64) string {
	if a == nil || n < 100 {
		return strconv.FormatUint(n, 10)
	}
	start := len(a.text)
	a.text = strconv.AppendUint(a.text, n, 10)
	return a.textFrom(start)
}

// copyString is string(b), in a when it is not nil.
func (a *Arena) copyString(b []byte) string {
	if a == nil || len(b) == 0 {
		return string(b)
	}
	start := len(a.text)
	a.text = append(a.text, b...)
	return a.textFrom(start)
}
