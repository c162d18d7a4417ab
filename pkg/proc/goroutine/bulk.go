package goroutine

import (
	"sort"
)

// Reading 10,000 goroutines one runtime.g at a time costs 10,000 system
// calls; the runtime allocates g structs next to each other, so reading
// the spans that hold several of them at once costs a few dozen.

// maxSpan bounds one bulk read, so that sparse addresses do not make one
// read cover (and allocate) much more than the structs it serves.
const maxSpan = 64 << 10

// spanReader serves fixed-size records at a set of addresses from a few
// large reads; a record whose span could not be read is read alone.
type spanReader struct {
	mem  MemoryReader
	size int64
	// recs[i] is the record at addrs[i], nil when it must be read alone.
	recs [][]byte
}

// readSpans reads the size bytes at each of addrs (0 entries are skipped)
// by coalescing addresses closer than size apart into reads of at most
// maxSpan bytes.
func readSpans(mem MemoryReader, addrs []uint64, size int64) *spanReader {
	s := &spanReader{mem: mem, size: size, recs: make([][]byte, len(addrs))}
	if size <= 0 || size > maxSpan {
		return s
	}
	order := make([]int, 0, len(addrs))
	for i, a := range addrs {
		if a != 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(i, j int) bool { return addrs[order[i]] < addrs[order[j]] })
	for start := 0; start < len(order); {
		lo := addrs[order[start]]
		hi := lo + uint64(size)
		end := start + 1
		for end < len(order) {
			a := addrs[order[end]]
			// A gap as wide as a record would be read for nothing.
			if a > hi+uint64(size) || a+uint64(size)-lo > maxSpan {
				break
			}
			hi = max(hi, a+uint64(size))
			end++
		}
		if end-start > 1 {
			buf := make([]byte, hi-lo)
			if n, err := mem.ReadMemory(buf, lo); err == nil && n == len(buf) {
				for _, i := range order[start:end] {
					off := addrs[i] - lo
					s.recs[i] = buf[off : off+uint64(size) : off+uint64(size)]
				}
			}
		}
		start = end
	}
	return s
}

// record returns the record at addrs[i] (addr), reading it alone when its
// span was not read.
func (s *spanReader) record(i int, addr uint64) ([]byte, error) {
	if s.recs[i] != nil {
		return s.recs[i], nil
	}
	buf := make([]byte, s.size)
	n, err := s.mem.ReadMemory(buf, addr)
	if err != nil {
		return nil, err
	}
	if n != len(buf) {
		return nil, errShortRead
	}
	return buf, nil
}

// stackWindow serves reads inside [base, base+len(data)) from one read of
// the top of a parked goroutine's stack, where unwinding finds its frames,
// and sends the others to mem.
type stackWindow struct {
	mem  MemoryReader
	base uint64
	data []byte
}

// stackWindowSize covers the frames of a goroutine parked in the
// scheduler and those of its user caller.
const stackWindowSize = 1 << 10

// windowed returns mem with the stack of g from its saved SP prefetched.
func windowed(mem MemoryReader, g *G) MemoryReader {
	sp := g.Sched.SP
	if sp == 0 || g.StackHi <= sp || sp < g.StackLo {
		return mem
	}
	buf := make([]byte, min(stackWindowSize, g.StackHi-sp))
	if n, err := mem.ReadMemory(buf, sp); err != nil || n != len(buf) {
		return mem
	}
	return &stackWindow{mem: mem, base: sp, data: buf}
}

func (w *stackWindow) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr >= w.base && addr-w.base <= uint64(len(w.data)) && uint64(len(buf)) <= uint64(len(w.data))-(addr-w.base) {
		return copy(buf, w.data[addr-w.base:]), nil
	}
	return w.mem.ReadMemory(buf, addr)
}
