package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Probes at arbitrary addresses (logpoints): each site captures the
// variables visible at its PC, located by their DWARF location there,
// with the same plans and decoder as a traced function's arguments. The
// program is never stopped: sites always run lossy, and what the ring
// buffer could not take is counted (Lost), since the lossless hold's
// SIGSTOP would be reported to a debugger that has the process under
// ptrace.

// SiteVar is one value a site captures: a variable with its location at
// the site relative to the CFA (probe.LocationOfExpr), loaded as Cfg says
// once captured; the plan captures what the deepest and longest of a
// site's configurations ask for.
type SiteVar struct {
	Name string
	Type godwarf.Type
	Loc  probe.Location
	Cfg  value.LoadConfig
}

// Site is one probed run-time address and what it captures. With Cond
// (compiled by pkg/proc/ebpf/cond at Addr) the kernel captures only the
// hits where it holds; the others, and those where it faulted, are counted
// (CondCounts) and never reach user space.
type Site struct {
	Addr uint64
	Vars []SiteVar
	Cond *cond.Program
}

// Hit is one time a site's address ran.
type Hit struct {
	Site      int // index into the sites given to OpenSites
	Goroutine int64
	Thread    int
	Time      time.Duration // CLOCK_MONOTONIC
	// Values are the sites' variables in order; a value cut short at
	// capture (memory the kernel could not read then) has Truncated set.
	Values []HitValue
	Err    error // the record could not be decoded
	// Sync, when not nil, marks no hit but the point Sync was asked for:
	// every hit recorded before it came first. Close it once handled.
	Sync chan struct{}
}

// HitValue is one captured variable.
type HitValue struct {
	Var       *value.Variable
	Truncated bool
}

// SiteTracer is an attached set of site probes on one process.
type SiteTracer struct {
	t     *Tracer
	sites []Site
	hits  chan Hit
	syncs chan chan struct{}
}

// SiteError is the reason site Site's values cannot all be captured by
// its plan; the caller then evaluates them another way.
type SiteError struct {
	Site int
	Err  error
}

func (e *SiteError) Error() string { return e.Err.Error() }
func (e *SiteError) Unwrap() error { return e.Err }

// OpenSites attaches one probe per site to process pid, which bi
// describes with its load bias set. It fails with a *SiteError when some
// value would be captured only in part.
func OpenSites(bi *bininfo.BinaryInfo, pid int, sites []Site, opts Options) (*SiteTracer, error) {
	if len(sites) == 0 {
		return nil, errors.New("no sites to probe")
	}
	opts = withDefaults(opts)
	opts.Lossy = true
	for _, s := range sites {
		for _, v := range s.Vars {
			opts.PointerDepth = max(opts.PointerDepth, v.Cfg.MaxVariableRecurse)
			opts.MaxStringBytes = min(max(opts.MaxStringBytes, v.Cfg.MaxStringLen), maxSeg)
		}
	}
	t, rt, err := newTracer(bi, pid, opts)
	if err != nil {
		return nil, err
	}
	frames, err := probe.LoadFrames(bi)
	if err != nil {
		return nil, err
	}
	for i, s := range sites {
		tf, err := sitePlan(bi, frames, s, opts)
		if err != nil {
			return nil, &SiteError{Site: i, Err: err}
		}
		off, err := probe.FileOffset(bi, s.Addr)
		if err != nil {
			return nil, fmt.Errorf("site %#x: %w", s.Addr, err)
		}
		t.funcs = append(t.funcs, tf)
		t.addrs = append(t.addrs, off)
		t.cookies = append(t.cookies, uint64(i)<<2|probeCall)
	}
	var conds []*cond.Program
	for i, s := range sites {
		if s.Cond != nil {
			if conds == nil {
				conds = make([]*cond.Program, len(sites))
			}
			conds[i] = s.Cond
		}
	}
	if err := t.load(rt.G, opts, conds); err != nil {
		return nil, err
	}
	if err := t.attach(opts); err != nil {
		t.coll.Close()
		return nil, err
	}
	rd, err := ringbuf.NewReader(t.coll.Maps["events"])
	if err != nil {
		t.detach()
		t.coll.Close()
		return nil, fmt.Errorf("opening ring buffer: %w", err)
	}
	t.reader = rd
	st := &SiteTracer{t: t, sites: sites, hits: make(chan Hit, 1024), syncs: make(chan chan struct{}, 16)}
	go st.readLoop()
	return st, nil
}

// newTracer checks that bi can be probed and makes the Tracer's common
// part: functions' and sites' tracers alike.
func newTracer(bi *bininfo.BinaryInfo, pid int, opts Options) (*Tracer, *bininfo.Runtime, error) {
	rt, err := bi.RuntimeLayout()
	if err != nil {
		return nil, rt, fmt.Errorf("reading runtime layout: %w", err)
	}
	if !rt.ABIInternal || rt.G.Goid < 0 {
		return nil, rt, fmt.Errorf("eBPF tracing needs the register ABI (Go 1.17+) and runtime.g.goid")
	}
	d, err := bi.DWARF()
	if err != nil {
		return nil, rt, fmt.Errorf("reading DWARF: %w", err)
	}
	t := &Tracer{bi: bi, pid: pid, opts: opts, types: godwarf.New(d), done: make(chan struct{}),
		static: staticMemory{bi: bi}, pairs: newPairer()}
	if s, ok := bi.Symbol("runtime.types"); ok {
		t.rtypes = s.Addr
	}
	return t, rt, nil
}

// sitePlan builds the capture plan of one site. The BPF program reads
// stack values at SP+8+off; a site's are at CFA+off, with CFA = SP +
// CFAOffset at the site's address.
func sitePlan(bi *bininfo.BinaryInfo, frames *probe.Frames, s Site, opts Options) (*tracedFunc, error) {
	frameOff, err := frames.CFAOffset(s.Addr - bi.Bias())
	if err != nil {
		return nil, fmt.Errorf("frame at %#x: %w", s.Addr, err)
	}
	params := make([]probe.Param, len(s.Vars))
	locs := make([]probe.Location, len(s.Vars))
	for i, v := range s.Vars {
		params[i] = probe.Param{Name: v.Name, Type: v.Type}
		locs[i] = v.Loc.Shift(frameOff - 8)
	}
	plan := buildPlan(params, locs, opts)
	for i, pc := range plan.params {
		switch {
		case pc.unavailable != "":
			return nil, fmt.Errorf("%s: %s", s.Vars[i].Name, pc.unavailable)
		case plan.partial[i]:
			return nil, fmt.Errorf("%s needs more operations or bytes than a probe captures", s.Vars[i].Name)
		}
	}
	if plan.maxBytes > maxData {
		return nil, fmt.Errorf("%d bytes exceed the %d one event holds", plan.maxBytes, maxData)
	}
	return &tracedFunc{inl: &probe.Inlined{Func: fmt.Sprintf("%#x", s.Addr)}, entry: plan}, nil
}

// Hits delivers the sites' hits in the order the kernel recorded them; it
// is closed once Close has delivered everything captured.
func (st *SiteTracer) Hits() <-chan Hit { return st.hits }

// Lost is the number of hits the kernel could not record so far.
func (st *SiteTracer) Lost() uint64 { return st.t.Stats().Dropped }

// CondCounts is the number of hits whose condition was false, and of
// those where it faulted (also not captured), over all sites so far; the
// final counts stay readable after Close.
func (st *SiteTracer) CondCounts() (filtered, faults uint64) {
	s := st.t.Stats()
	return s.Filtered, s.CondFaults
}

// Probes is the number of uprobes attached.
func (st *SiteTracer) Probes() int { return st.t.Stats().Probes }

// Sync returns a channel that comes through Hits after every hit the
// kernel recorded so far: what a stopped program ran before it stopped.
func (st *SiteTracer) Sync() chan struct{} {
	ch := make(chan struct{})
	select {
	case st.syncs <- ch:
		st.t.reader.SetDeadline(time.Now())
	case <-st.t.done:
		close(ch) // nothing more will come
	}
	return ch
}

// Close removes every probe, delivers what is still buffered and closes
// Hits; the caller keeps receiving meanwhile. Lost stays readable.
func (st *SiteTracer) Close() error { return st.t.Close() }

// readLoop drains the ring buffer until Close flushes it.
func (st *SiteTracer) readLoop() {
	t := st.t
	defer close(t.done)
	defer close(st.hits)
	var rec ringbuf.Record
	t.reader.SetDeadline(time.Now().Add(pollInterval))
	for {
		if err := t.reader.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// The ring is empty: a Sync waiting is answered here.
				for pending := true; pending; {
					select {
					case ch := <-st.syncs:
						st.hits <- Hit{Sync: ch}
					default:
						pending = false
					}
				}
				t.reader.SetDeadline(time.Now().Add(pollInterval))
				continue
			}
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, ringbuf.ErrClosed) {
				return
			}
			t.readErr = fmt.Errorf("reading the ring buffer: %w", err)
			return
		}
		t.delivered.Add(1)
		st.hits <- st.decode(rec.RawSample)
	}
}

// decode turns one record into a Hit.
func (st *SiteTracer) decode(raw []byte) Hit {
	t := st.t
	if len(raw) < eventHeaderSize {
		return Hit{Err: fmt.Errorf("short record of %d bytes", len(raw))}
	}
	le := binary.LittleEndian
	fi := int(le.Uint32(raw[28:]) / 2)
	if fi >= len(st.sites) {
		return Hit{Err: fmt.Errorf("record for unknown probe cookie %d", le.Uint32(raw[28:]))}
	}
	h := Hit{Site: fi, Goroutine: int64(le.Uint64(raw[0:])), Thread: int(le.Uint32(raw[24:])),
		Time: time.Duration(le.Uint64(raw[8:]))}
	data := raw[eventHeaderSize:]
	if n := int(le.Uint16(raw[32:])); n < len(data) {
		data = data[:n]
	}
	plan := &t.funcs[fi].entry
	mem := &t.scratch
	if err := parseSegments(data, plan, mem); err != nil {
		h.Err = err
		return h
	}
	if mem.static.pages == nil || mem.static.mem != t.static {
		mem.static = staticPages{mem: t.static, pages: map[uint64][]byte{}}
	}
	cut := raw[35]&evfTruncated != 0
	for i, pc := range plan.params {
		var seg *segmentView
		if j := mem.params[i].value; j >= 0 {
			seg = &mem.segs[j]
		}
		hv := HitValue{Truncated: true}
		if seg == nil {
			hv.Var = &value.Variable{Name: pc.param.Name, Unreadable: errors.New("not captured: the event's data area was full")}
			h.Values = append(h.Values, hv)
			continue
		}
		cfg := st.sites[fi].Vars[i].Cfg
		t.loader = value.Loader{Mem: mem, Types: t.types, RuntimeTypes: t.rtypes, Funcs: funcNames{t.bi}, Consts: t.types}
		mem.missed = false
		hv.Var = t.loader.Load(pc.param.Name, seg.addr, pc.param.Type, cfg)
		hv.Truncated = cut || mem.missed || mem.params[i].cut
		h.Values = append(h.Values, hv)
	}
	return h
}

// dropName names plan i in the lost-events report: a function, an
// inlined copy or a site, or for a slot its first role's.
func (t *Tracer) dropName(i int) string {
	tf := t.funcs[i]
	if tf.fn == nil && tf.inl == nil {
		for _, r := range tf.roles {
			if r != nil {
				return t.funcs[r.fn].name()
			}
		}
		return "?"
	}
	return tf.name()
}
