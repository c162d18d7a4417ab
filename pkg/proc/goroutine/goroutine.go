// Package goroutine reads the goroutines of a stopped Go process from the
// runtime's own structures (runtime.allgs, runtime.g, runtime.m), using the
// layout the binary's DWARF describes, so it follows the runtime across Go
// versions instead of hard-coding offsets.
package goroutine

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// maxGoroutines bounds how many entries of runtime.allgs are read, so that
// a corrupt length cannot make List allocate or read without limit.
const maxGoroutines = 1 << 20

// MemoryReader reads the target's memory.
type MemoryReader interface {
	// ReadMemory fills buf from address addr and returns how many bytes it read.
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// Status is the scheduling state of a goroutine (runtime.g.atomicstatus
// without the _Gscan bit, which only says the GC is scanning its stack).
type Status uint32

// Goroutine states, numbered as in runtime/runtime2.go.
const (
	StatusIdle       Status = 0
	StatusRunnable   Status = 1
	StatusRunning    Status = 2
	StatusSyscall    Status = 3
	StatusWaiting    Status = 4
	StatusDead       Status = 6
	StatusCopystack  Status = 8
	StatusPreempted  Status = 9
	StatusLeaked     Status = 10 // Go 1.26+: blocked forever, found by the leak detector
	StatusDeadExtra  Status = 11 // Go 1.26+: dead g kept for a cgo extra M
	statusScanBit    uint32 = 0x1000
	statusNamesCount        = 12
)

var statusNames = [statusNamesCount]string{
	StatusIdle: "idle", StatusRunnable: "runnable", StatusRunning: "running",
	StatusSyscall: "syscall", StatusWaiting: "waiting", 5: "moribund",
	StatusDead: "dead", 7: "enqueue", StatusCopystack: "copystack",
	StatusPreempted: "preempted", StatusLeaked: "leaked", StatusDeadExtra: "dead",
}

// String returns the state's name as the runtime documents it.
func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint32(s))
}

// dead reports whether the g is an unused slot rather than a goroutine.
func (s Status) dead() bool { return s == StatusDead || s == StatusDeadExtra }

// G is one goroutine as the runtime records it.
type G struct {
	ID     uint64 // goid
	Addr   uint64 // address of the runtime.g
	Status Status
	// WaitReason is the runtime's text for why a waiting goroutine is
	// blocked ("chan receive", "sync.WaitGroup.Wait", ...); "" otherwise.
	WaitReason string
	// Sched is where the goroutine resumes when it is not running (g.sched);
	// meaningless while it runs on a thread.
	Sched            stack.Sched
	StackLo, StackHi uint64 // bounds of its stack, [lo, hi)
	GoPC             uint64 // return address of the go statement that created it
	StartPC          uint64 // entry of the function it started in
	MAddr            uint64 // address of the runtime.m running it, 0 if none
	// ThreadID is the OS thread (m.procid) running the goroutine, 0 if none.
	ThreadID int
	// System reports a runtime-internal goroutine (started in a runtime.*
	// function other than runtime.main), the ones Delve hides with -s.
	System bool
	// OnSystemStack is set by Current when the thread runs on its system
	// stack (g0 or the signal stack) on behalf of this goroutine.
	OnSystemStack bool
}

// reader decodes runtime structures with one binary's layout.
type reader struct {
	bi  *bininfo.BinaryInfo
	rt  *bininfo.Runtime
	mem MemoryReader

	reasons     []string // runtime.waitReasonStrings, read on first use
	reasonsRead bool
}

func newReader(bi *bininfo.BinaryInfo, mem MemoryReader) (*reader, error) {
	rt, err := bi.RuntimeLayout()
	if err != nil {
		return nil, fmt.Errorf("runtime layout: %w", err)
	}
	return &reader{bi: bi, rt: rt, mem: mem}, nil
}

// List returns the live goroutines of the process, in runtime.allgs order,
// skipping dead g slots.
func List(bi *bininfo.BinaryInfo, mem MemoryReader) ([]*G, error) {
	r, err := newReader(bi, mem)
	if err != nil {
		return nil, err
	}
	n, err := r.u64(r.rt.AllglenAddr)
	if err != nil {
		return nil, fmt.Errorf("reading runtime.allglen: %w", err)
	}
	if n > maxGoroutines {
		return nil, fmt.Errorf("runtime.allglen is %d, more than %d: memory looks corrupt", n, maxGoroutines)
	}
	arr, err := r.u64(r.rt.AllgsAddr)
	if err != nil {
		return nil, fmt.Errorf("reading runtime.allgs: %w", err)
	}
	ptrs := make([]byte, 8*n)
	if err := r.read(ptrs, arr); err != nil {
		return nil, fmt.Errorf("reading the %d entries of runtime.allgs: %w", n, err)
	}
	addrs := make([]uint64, n)
	for i := range addrs {
		addrs[i] = le64(ptrs[8*i:])
	}
	if err := r.checkGSize(); err != nil && n > 0 {
		return nil, err
	}
	recs := readSpans(r.mem, addrs, r.rt.G.Size)
	// One slab for every G: a list of 10,000 costs one allocation, not 10,000.
	slab := make([]G, 0, n)
	var gs []*G
	for i, addr := range addrs {
		if addr == 0 {
			continue
		}
		buf, err := recs.record(i, addr)
		if err != nil {
			return gs, fmt.Errorf("reading runtime.g at %#x: %w", addr, err)
		}
		slab = append(slab, G{})
		g := &slab[len(slab)-1]
		if err := r.decodeG(g, addr, buf); err != nil {
			return gs, err
		}
		if !g.Status.dead() {
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// Current returns the goroutine a stopped thread runs, found through the g
// pointer in the thread's TLS. When the thread is on a system stack (g0 or
// the signal stack) it returns the goroutine that stack works for (m.curg)
// with OnSystemStack set, and nil when there is none (an idle or
// scheduling thread).
func Current(bi *bininfo.BinaryInfo, mem MemoryReader, regs *arch.Registers) (*G, error) {
	r, err := newReader(bi, mem)
	if err != nil {
		return nil, err
	}
	if regs.FsBase == 0 {
		return nil, nil // the thread has not set up TLS yet: no Go code runs on it
	}
	gaddr, err := r.u64(uint64(int64(regs.FsBase) + r.rt.GTLSOffset))
	if err != nil {
		return nil, fmt.Errorf("reading g from TLS: %w", err)
	}
	if gaddr == 0 {
		return nil, nil
	}
	g, err := r.readG(gaddr)
	if err != nil {
		return nil, err
	}
	if g.ID != 0 {
		// Signal handlers start on the signal stack before switching g:
		// a thread whose SP is outside its g's stack runs on a system
		// stack even though TLS still names the user goroutine.
		g.OnSystemStack = g.StackHi != 0 && (regs.Rsp < g.StackLo || regs.Rsp >= g.StackHi)
		return g, nil
	}
	// goid 0 is reserved for the per-M system goroutines (g0, gsignal):
	// report the user goroutine they are working for, if any.
	if g.MAddr == 0 {
		return nil, nil
	}
	curg, err := r.u64(g.MAddr + uint64(r.rt.M.Curg))
	if err != nil {
		return nil, fmt.Errorf("reading m.curg: %w", err)
	}
	if curg == 0 {
		return nil, nil
	}
	cg, err := r.readG(curg)
	if err != nil {
		return nil, err
	}
	cg.OnSystemStack = true
	return cg, nil
}

// checkGSize rejects a runtime.g size no real runtime has.
func (r *reader) checkGSize() error {
	if l := r.rt.G; l.Size <= 0 || l.Size > 1<<16 {
		return fmt.Errorf("implausible runtime.g size %d", l.Size)
	}
	return nil
}

// readG decodes the runtime.g at addr.
func (r *reader) readG(addr uint64) (*G, error) {
	if err := r.checkGSize(); err != nil {
		return nil, err
	}
	buf := make([]byte, r.rt.G.Size)
	if err := r.read(buf, addr); err != nil {
		return nil, fmt.Errorf("reading runtime.g at %#x: %w", addr, err)
	}
	g := &G{}
	if err := r.decodeG(g, addr, buf); err != nil {
		return nil, err
	}
	return g, nil
}

// decodeG fills g from buf, the bytes of the runtime.g at addr.
func (r *reader) decodeG(g *G, addr uint64, buf []byte) error {
	l := r.rt.G
	field := func(off int64, size int) uint64 {
		if off < 0 || off+int64(size) > int64(len(buf)) {
			return 0
		}
		var v uint64
		for i := size - 1; i >= 0; i-- {
			v = v<<8 | uint64(buf[off+int64(i)])
		}
		return v
	}
	sched := l.Sched
	*g = G{
		ID:      field(l.Goid, 8),
		Addr:    addr,
		Status:  Status(uint32(field(l.Atomicstatus, 4)) &^ statusScanBit),
		StackLo: field(l.StackLo, 8),
		StackHi: field(l.StackHi, 8),
		GoPC:    field(l.Gopc, 8),
		StartPC: field(l.Startpc, 8),
		MAddr:   field(l.M, 8),
		Sched: stack.Sched{
			PC: field(sched+r.rt.Gobuf.PC, 8),
			SP: field(sched+r.rt.Gobuf.SP, 8),
			BP: optField(field, sched, r.rt.Gobuf.BP),
		},
	}
	if g.Status == StatusWaiting || g.Status == StatusLeaked {
		reasons := r.waitReasons()
		if wr := field(l.Waitreason, 1); wr < uint64(len(reasons)) {
			g.WaitReason = reasons[wr]
		} else if l.Waitreason >= 0 {
			g.WaitReason = fmt.Sprintf("waitReason(%d)", wr)
		}
	}
	if g.MAddr != 0 && r.rt.M.Procid >= 0 {
		tid, err := r.u64(g.MAddr + uint64(r.rt.M.Procid))
		if err != nil {
			return fmt.Errorf("reading m.procid of goroutine %d: %w", g.ID, err)
		}
		g.ThreadID = int(tid)
	}
	if fn := r.bi.PCToFunc(g.StartPC); fn != nil {
		g.System = isSystem(fn.Name)
	}
	return nil
}

// optField reads a gobuf field that older runtimes may lack.
func optField(field func(int64, int) uint64, base, off int64) uint64 {
	if off < 0 {
		return 0
	}
	return field(base+off, 8)
}

// isSystem mirrors the runtime's isSystemGoroutine for a start function:
// runtime.* functions are internal, except the ones that run user code.
// The finalizer and cleanup goroutines count as system ones, as they are
// while idle.
func isSystem(start string) bool {
	switch start {
	case "runtime.main", "runtime.corostart", "runtime.handleAsyncEvent":
		return false
	}
	return strings.HasPrefix(start, "runtime.")
}

// reasonCacheKey identifies one binary's waitReasonStrings at one load
// address; the table is initialised data, the same in every process.
type reasonCacheKey struct {
	bi   *bininfo.BinaryInfo
	addr uint64
}

// reasonCache keeps each binary's wait-reason texts so that Current and
// List, called at every stop, read the ~40 strings only once.
var reasonCache sync.Map // reasonCacheKey → []string

// waitReasons returns runtime.waitReasonStrings, an array of Go strings read
// from the target so that every Go version's own texts are used. On
// failure reasons are shown by number.
func (r *reader) waitReasons() []string {
	if r.reasonsRead {
		return r.reasons
	}
	r.reasonsRead = true
	sym, ok := r.bi.Symbol("runtime.waitReasonStrings")
	if !ok || sym.Size == 0 || sym.Size%16 != 0 || sym.Size > 16*256 {
		return nil
	}
	key := reasonCacheKey{r.bi, sym.Addr}
	if v, ok := reasonCache.Load(key); ok {
		r.reasons = v.([]string)
		return r.reasons
	}
	hdrs := make([]byte, sym.Size)
	if err := r.read(hdrs, sym.Addr); err != nil {
		return nil
	}
	out := make([]string, sym.Size/16)
	complete := true
	for i := range out {
		p, n := le64(hdrs[16*i:]), le64(hdrs[16*i+8:])
		if p == 0 || n == 0 || n > 256 {
			continue
		}
		b := make([]byte, n)
		if err := r.read(b, p); err != nil {
			complete = false // maybe a transient failure: do not cache it
			continue
		}
		out[i] = string(b)
	}
	if complete {
		reasonCache.Store(key, out)
	}
	r.reasons = out
	return out
}

// errShortRead reports a read that stopped before the end of its buffer.
var errShortRead = errors.New("short read")

func (r *reader) read(buf []byte, addr uint64) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := r.mem.ReadMemory(buf, addr)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return errShortRead
	}
	return nil
}

func (r *reader) u64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := r.read(b[:], addr); err != nil {
		return 0, fmt.Errorf("reading %#x: %w", addr, err)
	}
	return le64(b[:]), nil
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
