// Package ebpf is tinydbg's eBPF tracing engine behind `trace --ebpf`: it
// attaches uprobes at the entry (past the stack-growth check) and at every
// RET of the traced Go functions, captures arguments and results in the
// kernel by plans derived from DWARF and the register ABI (package probe),
// pairs each return with its own call by goroutine and stack position, and
// decodes the captured bytes with the shared value loader so output matches
// the ptrace tracer.
//
// Limits that uprobes impose: a uprobe's BPF program sees only the general
// registers (struct pt_regs), never the X registers, so float arguments
// and results are reported unavailable. Inlined copies are probed at their
// entry and exits by package probe's rules (inlined.go).
package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Stats counts what a Tracer did.
type Stats struct {
	Events  uint64 // records decoded and delivered
	Dropped uint64 // events lost in the kernel, for any reason
	Drops   Drops  // Dropped by reason
	// Abandoned counts calls that never returned because a panic (or
	// runtime.Goexit) unwound past them; they pair with nothing.
	Abandoned uint64
	// Unread counts the events with a value the probe tried and failed
	// to read: unmapped, or its page not in memory (captured.triedAt).
	Unread uint64
	// Cut counts the other events whose values were captured only in
	// part: the plan's or the kernel's limits stopped the capture.
	Cut uint64
	// LostByFunc breaks the ring-full drops down by function.
	LostByFunc []FuncDrops
	// Holds counts the times the program was stopped until the reader
	// caught up, and Held is the sum of those stops (lossless mode).
	Holds  uint64
	Held   time.Duration
	Probes int  // probe sites attached (entries, returns and tail jumps)
	Multi  bool // attached through one uprobe_multi link
	// AttachTime and DetachTime measure link creation and removal.
	AttachTime, DetachTime time.Duration
	// ProgRuns and ProgTime are the kernel's own count of the BPF
	// program's runs and the time spent in them (BPF_ENABLE_STATS): the
	// cost of capturing, not of the uprobe trap that precedes it.
	// ProgStatsErr says why they are missing when they are.
	ProgRuns     uint64
	ProgTime     time.Duration
	ProgStatsErr error
	// Filtered counts calls whose --if condition was false in the kernel,
	// and CondFaults those whose condition read an invalid pointer or
	// divided by zero; neither they nor their returns were delivered.
	Filtered, CondFaults uint64
	// CountsErr says which of the kernel's counters above (drops, drops
	// by function, condition counts) could not be read: those read as 0,
	// and Close returns it, so that a loss is never reported as none.
	CountsErr error
	// Memo counts the values whose text was reused (Options.ReuseText);
	// set once the reader ended.
	Memo MemoStats
}

// Drops counts the events the BPF program lost, by the reason it counted
// them under (the slots of its drops map).
type Drops struct {
	RingFull uint64 // the ring buffer had no room for the record
	NoPlan   uint64 // a probe fired with a cookie that names no capture plan
}

// FuncDrops is what one function lost to a full ring buffer.
type FuncDrops struct {
	Function       string
	Calls, Returns uint64
}

// total is every drop, whatever its reason.
func (d Drops) total() uint64 { return d.RingFull + d.NoPlan }

// ringReader is what the tracer needs of its ring buffer: a
// *ringbuf.Reader, or a fake that fails on demand in tests.
type ringReader interface {
	ReadInto(*ringbuf.Record) error
	SetDeadline(time.Time)
	AvailableBytes() int
	Flush() error
	Close() error
}

// tracedFunc is one function with its probe sites and capture plans, an
// inlined copy (inl), or a slot: the plans of one address's roles (see
// inlined.go).
type tracedFunc struct {
	fn      *bininfo.Function
	inl     *probe.Inlined
	sites   probe.Sites
	entry   probePlan
	returns probePlan
	roles   [2]*role // a slot's: what its call-kind and return-kind records report
	// implied are a slot's exits of copies that its roles imply, reported
	// before its first record's event (inlined.go).
	implied []role
}

// Tracer is an attached set of probes on one process. Receive from Events
// until it is closed; Close detaches, delivers what is still buffered and
// then closes the channel.
type Tracer struct {
	bi     *bininfo.BinaryInfo
	pid    int
	opts   Options
	static staticMemory
	rtypes uint64 // run-time address of runtime.types
	funcs  []*tracedFunc
	// addrs and cookies are the probe sites as uprobes take them.
	addrs, cookies []uint64
	types          *godwarf.Types
	coll           *cebpf.Collection
	links          []link.Link
	condProgs      []*cebpf.Program // compiled --if conditions, one per function
	reader         ringReader
	hold           *holder // nil in lossy mode
	events         chan *Batch
	free           chan *Batch // released batches, for reuse (see Release)
	batch          *Batch      // the batch being decoded (reader only)
	convert        Converter   // see OpenConverted; nil for none
	flatOnce       sync.Once
	flat           chan event.Event // Events' channel, made on first use
	done           chan struct{}
	// readErr is the unexpected ring-buffer error that ended readLoop; it is
	// written before done is closed and returned by Close.
	readErr error

	closeOnce sync.Once
	closeErr  error
	delivered atomic.Uint64
	abandoned atomic.Uint64
	unread    atomic.Uint64
	cut       atomic.Uint64
	// impliedEvents are the returns the record being decoded implies,
	// which go before its own event (inlined.go); reused.
	impliedEvents []event.Event
	pairs         *pairer
	scratch       captured     // segments of the event being decoded (reader only)
	loader        value.Loader // reused per value (reader only)
	// convArena holds the value trees of the event being converted: with
	// a converter they are dropped as soon as printed, so one arena, whose
	// few nodes stay in the cache, serves every batch (reader only).
	convArena value.Arena
	// memoBuf, memoPending and memoStats are memo.go's (reader only).
	memoBuf     []byte
	memoPending []pendingMemo
	memoStats   MemoStats
	mu          sync.Mutex // guards stats and coll against Close
	stats       Stats
	// runStats keeps the kernel's run-time statistics of BPF programs on
	// while the trace runs; nil when they could not be enabled.
	runStats io.Closer
}

// Open attaches probes for funcs to process pid, an instance of the
// executable bi describes. The process should not yet run traced code
// (start it stopped) or its in-flight calls return unpaired. For a PIE,
// bi's load bias must already be set: interfaces are decoded with the
// executable's read-only data at run-time addresses.
func Open(bi *bininfo.BinaryInfo, pid int, funcs []*bininfo.Function, opts Options) (*Tracer, error) {
	return OpenInlined(bi, pid, funcs, nil, opts)
}

// OpenInlined is Open that also traces the inlined copies insts.
func OpenInlined(bi *bininfo.BinaryInfo, pid int, funcs []*bininfo.Function, insts []bininfo.InlinedInstance, opts Options) (*Tracer, error) {
	return OpenConverted(bi, pid, funcs, insts, opts, nil)
}

// Converter completes a decoded event on the reader, right after its
// values were loaded, while their trees are still in the CPU's caches: it
// must drop every Value.Var, whose storage is reused for the next event,
// and may keep the values' text in *text, the batch's buffer, which lives
// as long as the batch's events (Release) or until the batch is recycled
// (Recycle).
type Converter func(ev *event.Event, text *[]byte)

// OpenConverted is OpenInlined that runs conv, when not nil, on every event
// before it is delivered. Printing an *http.Request's tree a batch after
// it was loaded, on another goroutine, missed the caches at nearly every
// node: half of what printing it cost.
func OpenConverted(bi *bininfo.BinaryInfo, pid int, funcs []*bininfo.Function, insts []bininfo.InlinedInstance, opts Options, conv Converter) (*Tracer, error) {
	if len(funcs)+len(insts) == 0 {
		return nil, errors.New("no functions to trace")
	}
	if len(funcs)+len(insts) > 1<<28 {
		return nil, fmt.Errorf("%d functions exceed the tracer's limit", len(funcs))
	}
	opts = withDefaults(opts)
	t, rt, err := newTracer(bi, pid, opts)
	if err != nil {
		return nil, err
	}
	for _, fn := range funcs {
		tf, err := t.prepare(fn, opts)
		if err != nil {
			return nil, err
		}
		t.funcs = append(t.funcs, tf)
	}
	if len(insts) > 0 {
		frames, err := probe.LoadFrames(bi)
		if err != nil {
			return nil, err
		}
		for _, inst := range insts {
			tf, err := t.prepareInlined(frames, inst, opts)
			if err != nil {
				return nil, err
			}
			t.funcs = append(t.funcs, tf)
		}
	}
	if err := t.layout(); err != nil {
		return nil, err
	}
	if len(t.funcs) > 1<<28 { // cookies hold the plan index in 30 bits
		return nil, fmt.Errorf("%d probe plans exceed the tracer's limit", len(t.funcs))
	}
	conds, err := t.compileConds(opts)
	if err != nil {
		return nil, err
	}
	if err := t.load(rt.G, opts, conds); err != nil {
		return nil, err
	}
	// Run-time statistics cost the kernel two clock reads per run; they
	// are what lets the summary say what capturing cost the program
	// without guessing. Without CAP_SYS_ADMIN the trace goes on without.
	if rs, err := cebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME)); err != nil {
		t.stats.ProgStatsErr = fmt.Errorf("enabling BPF run-time statistics: %w", err)
	} else {
		t.runStats = rs
	}
	if err := t.attach(opts); err != nil {
		t.closeRunStats()
		t.closeHold()
		t.closeConds()
		t.coll.Close()
		return nil, err
	}
	rd, err := ringbuf.NewReader(t.coll.Maps["events"])
	if err != nil {
		t.detach()
		t.closeRunStats()
		t.closeHold()
		t.closeConds()
		t.coll.Close()
		return nil, fmt.Errorf("opening ring buffer: %w", err)
	}
	t.reader = rd
	t.events = make(chan *Batch, eventBatches)
	t.free = make(chan *Batch, eventBatches+2)
	t.convert = conv
	go t.readLoop()
	return t, nil
}

func withDefaults(o Options) Options {
	if o.MaxStringBytes <= 0 {
		o.MaxStringBytes = DefaultOptions.MaxStringBytes
	}
	if o.MaxSliceBytes <= 0 {
		o.MaxSliceBytes = DefaultOptions.MaxSliceBytes
	}
	if o.PointerDepth == 0 {
		o.PointerDepth = DefaultOptions.PointerDepth
	} else if o.PointerDepth < 0 {
		o.PointerDepth = 0
	}
	if o.RingBufferBytes <= 0 {
		o.RingBufferBytes = DefaultOptions.RingBufferBytes
	}
	o.MaxStringBytes = min(o.MaxStringBytes, maxSeg)
	o.MaxSliceBytes = min(o.MaxSliceBytes, maxSeg)
	return o
}

// prepare finds fn's probe sites and builds its capture plans.
func (t *Tracer) prepare(fn *bininfo.Function, opts Options) (*tracedFunc, error) {
	sites, err := probe.FindSites(t.bi, fn)
	if err != nil {
		return nil, err
	}
	params, err := probe.Params(t.types, fn)
	if err != nil {
		return nil, err
	}
	locs, err := probe.Assign(params, probe.ABIInternal)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name, err)
	}
	args, results, argLocs, resLocs := probe.Split(params, locs)
	return &tracedFunc{fn: fn, sites: sites,
		entry:   buildPlan(args, argLocs, opts),
		returns: buildPlan(results, resLocs, opts)}, nil
}

// load creates the maps and the program and fills in the plans.
func (t *Tracer) load(g bininfo.GLayout, opts Options, conds []*cond.Program) error {
	spec, err := loadSpec()
	if err != nil {
		return err
	}
	spec.Maps["plans"].MaxEntries = uint32(2 * len(t.funcs))
	spec.Maps["fn_drops"].MaxEntries = uint32(2 * len(t.funcs))
	ring, mark := ringSize(opts.RingBufferBytes), 0
	if !opts.Lossy {
		ring, mark = losslessRing(opts.RingBufferBytes, threadCount(t.pid))
	}
	spec.Maps["events"].MaxEntries = uint32(ring)
	dyn, err := t.buildDynPlans(opts)
	if err != nil {
		return err
	}
	dyn.sizeMaps(spec)
	if !opts.NoUprobeMulti && features.HaveBPFLinkUprobeMulti() == nil {
		spec.Programs[programName].AttachType = cebpf.AttachTraceUprobeMulti
		t.stats.Multi = true
	}
	if err := condSpec(spec, len(t.funcs), len(conds) > 0); err != nil {
		return err
	}
	coll, err := cebpf.NewCollection(spec)
	if err != nil {
		var ve *cebpf.VerifierError
		if errors.As(err, &ve) {
			return fmt.Errorf("loading BPF program: %w\n%+v", err, ve)
		}
		return fmt.Errorf("loading BPF program: %w", err)
	}
	t.coll = coll
	cfg, err := configFor(t.pid)
	if err != nil {
		coll.Close()
		return err
	}
	cfg.GoidOffset, cfg.StackHiOffset = uint32(g.Goid), uint32(g.StackHi)
	cfg.WakeBytes, cfg.HoldBytes = uint32(ring/wakeFraction), uint32(mark)
	if err := coll.Maps["config"].Put(uint32(0), cfg); err != nil {
		coll.Close()
		return fmt.Errorf("writing BPF config: %w", err)
	}
	if !opts.Lossy {
		// The reader resumes the program once the ring is as empty as
		// when the BPF program starts waking it.
		if t.hold, err = newHolder(coll.Maps["hold"], t.pid, ring/wakeFraction); err != nil {
			coll.Close()
			return err
		}
	}
	keys := make([]uint32, 0, 2*len(t.funcs))
	vals := make([]bpfPlan, 0, 2*len(t.funcs))
	for i, tf := range t.funcs {
		keys = append(keys, uint32(2*i), uint32(2*i+1))
		vals = append(vals, tf.entry.bpf, tf.returns.bpf)
	}
	if _, err := coll.Maps["plans"].BatchUpdate(keys, vals, nil); err != nil {
		for i := range keys {
			if err := coll.Maps["plans"].Put(keys[i], vals[i]); err != nil {
				coll.Close()
				return fmt.Errorf("writing capture plans: %w", err)
			}
		}
	}
	if err := dyn.fill(coll); err != nil {
		coll.Close()
		return err
	}
	if err := t.loadConds(conds, spec.Programs[programName].AttachType); err != nil {
		t.closeConds()
		coll.Close()
		return err
	}
	return nil
}

// ringSize rounds n up to a power-of-two number of pages, as the kernel
// requires of ring buffers.
func ringSize(n int) int {
	size := os.Getpagesize()
	for size < n {
		size <<= 1
	}
	return size
}

// attach creates the probes: one uprobe_multi link for every site, or one
// perf-event uprobe per site when multi links are unavailable.
func (t *Tracer) attach(opts Options) error {
	addrs, cookies := t.addrs, t.cookies
	ex, err := link.OpenExecutable(t.bi.Path())
	if err != nil {
		return fmt.Errorf("opening %s for uprobes: %w", t.bi.Path(), err)
	}
	prog := t.coll.Programs[programName]
	start := time.Now()
	defer func() { t.stats.AttachTime = time.Since(start) }()
	t.stats.Probes = len(addrs)
	if t.stats.Multi {
		l, err := ex.UprobeMulti(nil, prog, &link.UprobeMultiOptions{Addresses: addrs, Cookies: cookies, PID: uint32(t.pid)})
		if err != nil {
			return fmt.Errorf("attaching %d uprobes with uprobe_multi: %w", len(addrs), err)
		}
		t.links = []link.Link{l}
		return nil
	}
	for i := range addrs {
		l, err := ex.Uprobe("", prog, &link.UprobeOptions{Address: addrs[i], Cookie: cookies[i], PID: t.pid})
		if err != nil {
			t.detach()
			return fmt.Errorf("attaching uprobe at file offset %#x: %w", addrs[i], err)
		}
		t.links = append(t.links, l)
	}
	return nil
}

// detach removes every probe, timing it.
func (t *Tracer) detach() error {
	start := time.Now()
	var errs []error
	for _, l := range t.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	t.links = nil
	t.mu.Lock()
	t.stats.DetachTime = time.Since(start)
	t.mu.Unlock()
	return errors.Join(errs...)
}

// wakeFraction: the BPF program wakes the reader once 1/wakeFraction of
// the ring holds unread data; pollInterval bounds how long a quieter trace
// waits. Waking per event would cost the traced program more than the
// probes themselves, since the reader then competes for its CPUs once per
// call.
// A trace that stays quiet polls less and less often, up to maxPoll: at
// 20 ms an idle trace cost 2.6% of a core here in wake-ups alone.
const (
	wakeFraction = 8
	pollInterval = 20 * time.Millisecond
	maxPoll      = 100 * time.Millisecond
)

// readLoop drains the ring buffer until Close flushes it.
func (t *Tracer) readLoop() {
	defer close(t.done)
	defer close(t.events)
	defer func() {
		t.mu.Lock()
		t.stats.Memo = t.memoStats
		t.mu.Unlock()
	}()
	// A bug in decoding must end the trace with an error, not kill
	// tinydbg while the program is held or its probes are attached.
	defer func() {
		if r := recover(); r != nil {
			t.readErr = fmt.Errorf("decoding an event: internal error: %v", r)
		}
	}()
	var batch *Batch
	send := func() {
		if batch != nil && len(batch.Events) > 0 {
			t.events <- batch
			batch = nil
		}
	}
	defer send() // before the channel closes
	var rec ringbuf.Record
	poll := pollInterval
	t.reader.SetDeadline(time.Now().Add(poll))
	for {
		avail := t.reader.AvailableBytes()
		if t.hold != nil {
			t.hold.check(avail)
		}
		// What the ring holds now is decoded before the batch goes: the
		// next read would wait for the program.
		if (batch != nil && len(batch.Events) >= maxBatch) || avail == 0 {
			send()
		}
		if err := t.reader.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				poll = min(2*poll, maxPoll)
				t.reader.SetDeadline(time.Now().Add(poll))
				continue
			}
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, ringbuf.ErrClosed) {
				return
			}
			// Going on could spin on the same error or skip records
			// unnoticed: the trace ends, and Close says why.
			t.readErr = fmt.Errorf("reading the ring buffer: %w", err)
			return
		}
		if poll != pollInterval {
			poll = pollInterval
			t.reader.SetDeadline(time.Now().Add(poll))
		}
		if len(rec.RawSample) >= eventHeaderSize {
			t.pairs.gen = binary.LittleEndian.Uint32(rec.RawSample[dropGenOffset:])
		}
		if batch == nil {
			batch = t.newBatch()
			t.batch = batch
		}
		n := len(batch.Events)
		batch.Events = append(batch.Events, event.Event{})
		t.impliedEvents = t.impliedEvents[:0]
		err := t.decodeInto(rec.RawSample, &batch.Events[n])
		if len(t.impliedEvents) > 0 {
			// They happened first: the record's own event goes after them.
			own := batch.Events[n]
			batch.Events = append(append(batch.Events[:n], t.impliedEvents...), own)
			t.delivered.Add(uint64(len(t.impliedEvents)))
			n += len(t.impliedEvents)
		}
		if errors.Is(err, errNoEvent) {
			batch.Events = batch.Events[:n]
			continue
		}
		if err != nil {
			batch.Events[n] = event.Event{Err: err}
		}
		t.delivered.Add(1)
		if t.convert != nil {
			if err == nil {
				t.convert(&batch.Events[len(batch.Events)-1], &batch.text)
			}
			if err == nil {
				t.settleMemos(batch.Events[len(batch.Events)-1].Values)
			}
			t.convArena.Reset() // the event's trees are dropped
		}
	}
}

// Stats reports counters so far; the drop counts are read from the kernel.
func (t *Tracer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.statsLocked()
}

func (t *Tracer) statsLocked() Stats {
	s := t.stats
	s.Events = t.delivered.Load()
	s.Abandoned, s.Unread, s.Cut = t.abandoned.Load(), t.unread.Load(), t.cut.Load()
	if t.coll != nil {
		var errs []error
		s.Drops = Drops{RingFull: t.counter("drops", dropRingbuf, &errs), NoPlan: t.counter("drops", dropNoPlan, &errs)}
		s.Dropped = s.Drops.total()
		s.LostByFunc = t.lostByFunc(&errs)
		t.progStats(&s)
		s.Filtered = t.counter("cond_counts", condFiltered, &errs)
		s.CondFaults = t.counter("cond_counts", condFaults, &errs)
		s.CountsErr = errors.Join(errs...)
	}
	if t.hold != nil {
		s.Holds, s.Held = t.hold.totals()
	}
	return s
}

// counter sums the per-CPU slot of the kernel's counter map m; a failed
// read is added to errs.
func (t *Tracer) counter(m string, slot uint32, errs *[]error) uint64 {
	var perCPU []uint64
	if err := t.coll.Maps[m].Lookup(slot, &perCPU); err != nil {
		*errs = append(*errs, fmt.Errorf("reading the kernel's counter %s[%d]: %w", m, slot, err))
		return 0
	}
	return sum(perCPU)
}

// lostByFunc reads the per-function drop counters, keeping the functions
// that lost anything; a failed walk is added to errs.
func (t *Tracer) lostByFunc(errs *[]error) []FuncDrops {
	var out []FuncDrops
	var key uint32
	var n uint64
	it := t.coll.Maps["fn_drops"].Iterate()
	for it.Next(&key, &n) {
		if n == 0 || int(key/2) >= len(t.funcs) {
			continue
		}
		name := t.dropName(int(key / 2))
		if len(out) == 0 || out[len(out)-1].Function != name {
			out = append(out, FuncDrops{Function: name})
		}
		if key%2 == 0 {
			out[len(out)-1].Calls = n
		} else {
			out[len(out)-1].Returns = n
		}
	}
	if err := it.Err(); err != nil {
		*errs = append(*errs, fmt.Errorf("reading the kernel's per-function drop counters: %w", err))
	}
	return out
}

// progStats adds up the kernel's run-time statistics of every program of
// the collection.
func (t *Tracer) progStats(s *Stats) {
	if t.runStats == nil {
		return
	}
	s.ProgRuns, s.ProgTime = 0, 0
	for name, p := range t.coll.Programs {
		ps, err := p.Stats()
		if err != nil {
			s.ProgStatsErr = fmt.Errorf("reading run-time statistics of %s: %w", name, err)
			return
		}
		s.ProgRuns += ps.RunCount
		s.ProgTime += ps.Runtime
	}
}

// closeRunStats turns the kernel's run-time statistics off again (they
// stay on while any other holder keeps them on).
func (t *Tracer) closeRunStats() {
	if t.runStats != nil {
		t.runStats.Close()
		t.runStats = nil
	}
}

// closeHold releases a held program and the holder's pidfd.
func (t *Tracer) closeHold() error {
	if t.hold == nil {
		return nil
	}
	return t.hold.release()
}

func sum(v []uint64) uint64 {
	var n uint64
	for _, x := range v {
		n += x
	}
	return n
}

// Close detaches every probe, delivers the events still in the ring buffer,
// closes the Events channel and frees the kernel objects. The caller must
// keep receiving from Events meanwhile. Stats stay readable afterwards.
func (t *Tracer) Close() error {
	t.closeOnce.Do(func() {
		// With the probes gone nothing can stop the program again: it
		// runs on at once, while the reader drains what is left.
		errs := []error{t.detach(), t.closeHold()}
		if err := t.reader.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("flushing ring buffer: %w", err))
			t.reader.Close()
		}
		<-t.done
		errs = append(errs, t.readErr, t.reader.Close())
		t.mu.Lock()
		t.stats = t.statsLocked()
		errs = append(errs, t.stats.CountsErr)
		t.closeRunStats()
		t.closeConds()
		if t.coll != nil {
			t.coll.Close()
		}
		t.coll = nil
		t.mu.Unlock()
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}
