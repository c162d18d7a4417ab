package goroutine

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// IDReader finds the id of the goroutine a thread runs with two memory
// reads (three on a system stack), for callers that need only the id on a
// hot path, such as a tracer at every probe hit. It follows Current: a
// thread on g0 or the signal stack reports the goroutine it works for.
type IDReader struct {
	tlsOff, goid, m, curg int64
}

// NewIDReader prepares the offsets of one binary's runtime.
func NewIDReader(bi *bininfo.BinaryInfo) (*IDReader, error) {
	rt, err := bi.RuntimeLayout()
	if err != nil {
		return nil, fmt.Errorf("runtime layout: %w", err)
	}
	if rt.G.Goid < 0 || rt.G.M < 0 || rt.M.Curg < 0 {
		return nil, fmt.Errorf("runtime.g or runtime.m lacks goid, m or curg")
	}
	return &IDReader{tlsOff: rt.GTLSOffset, goid: rt.G.Goid, m: rt.G.M, curg: rt.M.Curg}, nil
}

// Current returns the goid for a thread with registers regs; 0 when the
// thread runs no goroutine (no TLS yet, an idle M).
func (r *IDReader) Current(mem MemoryReader, regs *arch.Registers) (int64, error) {
	if regs.FsBase == 0 {
		return 0, nil
	}
	rd := reader{mem: mem}
	g, err := rd.u64(uint64(int64(regs.FsBase) + r.tlsOff))
	if err != nil || g == 0 {
		return 0, err
	}
	id, err := rd.u64(g + uint64(r.goid))
	if err != nil || id != 0 {
		return int64(id), err
	}
	m, err := rd.u64(g + uint64(r.m))
	if err != nil || m == 0 {
		return 0, err
	}
	curg, err := rd.u64(m + uint64(r.curg))
	if err != nil || curg == 0 {
		return 0, err
	}
	id, err = rd.u64(curg + uint64(r.goid))
	return int64(id), err
}
