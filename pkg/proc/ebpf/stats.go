package ebpf

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// `trace --stats` on the eBPF backend: the tinydbg_stats program counts
// calls and adds each return's latency, paired per goroutine activation,
// to per-function histograms in a per-CPU map (bpf/stats.h).
// No event reaches user space; Snapshot reads the sums whenever asked.

// statsProgram is the --stats program's function name in bpf/stats.h.
const statsProgram = "tinydbg_stats"

// statsOpen is STATS_OPEN, the open calls tracked at once: enough for
// thousands of goroutines each deep in traced calls. A call that finds the
// table full is counted as lost and its return as unpaired.
const statsOpen = 1 << 16

// statsBuckets is STATS_BUCKETS, the slots of fn_stats.buckets; it equals
// event.Buckets so the kernel's counts copy straight into a Histogram.
const statsBuckets = event.Buckets

// fnStats mirrors struct fn_stats.
type fnStats struct {
	Calls    uint64
	Unpaired uint64
	Lost     uint64
	MaxNs    uint64
	SumNs    uint64
	Buckets  [statsBuckets]uint64
}

// statsKey mirrors struct stats_key.
type statsKey struct {
	Goid     uint64
	StackOff uint64
	Fn       uint32
	Pad      uint32
}

// statsObjects is what the --stats program needs of the object; loading
// only these leaves the capture program, its ring buffer and scratch out.
type statsObjects struct {
	Prog      *cebpf.Program `ebpf:"tinydbg_stats"`
	Config    *cebpf.Map     `ebpf:"config"`
	OpenCalls *cebpf.Map     `ebpf:"open_calls"`
	FnStats   *cebpf.Map     `ebpf:"fn_stats"`
	Drops     *cebpf.Map     `ebpf:"drops"`
}

// StatsTracer aggregates call counts and latencies of a set of functions
// in the kernel. Close detaches it; the last Snapshot stays readable.
type StatsTracer struct {
	funcs  []*bininfo.Function
	objs   statsObjects
	links  []link.Link
	probes int
	multi  bool

	// runStats keeps the kernel's run-time statistics on while attached,
	// so that the summary can say what counting cost; statsErr says why
	// they are off.
	runStats io.Closer
	statsErr error

	mu     sync.Mutex // guards objs against Close, and last
	closed bool
	last   StatsSnapshot
}

// StatsSnapshot is the figures read at one moment.
type StatsSnapshot struct {
	Funcs []event.FuncStats // in the order the functions were given
	// Missed counts probe hits the kernel skipped because another BPF
	// program was running on the CPU: those calls or returns are not in
	// the figures.
	Missed uint64
	// Runs and RunTime are the kernel's count of the program's runs and
	// the time spent in them; RunErr says why they are missing.
	Runs    uint64
	RunTime time.Duration
	RunErr  error
}

// OpenStats attaches the --stats program at the entry, every RET and every
// tail jump of funcs in process pid (started stopped, or its calls in
// flight return unpaired). Inlined copies are not counted: they have no
// frame of their own to pair by.
func OpenStats(bi *bininfo.BinaryInfo, pid int, funcs []*bininfo.Function, noMulti bool) (*StatsTracer, error) {
	if len(funcs) == 0 {
		return nil, errors.New("no functions to trace")
	}
	if len(funcs) > 1<<28 {
		return nil, fmt.Errorf("%d functions exceed the tracer's limit", len(funcs))
	}
	rt, err := bi.RuntimeLayout()
	if err != nil {
		return nil, fmt.Errorf("reading runtime layout: %w", err)
	}
	if !rt.ABIInternal || rt.G.Goid < 0 {
		return nil, fmt.Errorf("eBPF tracing needs the register ABI (Go 1.17+) and runtime.g.goid")
	}
	addrs, cookies, err := statsSites(bi, funcs)
	if err != nil {
		return nil, err
	}
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	if spec.Programs[statsProgram] == nil {
		return nil, fmt.Errorf("embedded BPF object lacks program %s", statsProgram)
	}
	spec.Maps["fn_stats"].MaxEntries = uint32(len(funcs))
	spec.Maps["open_calls"].MaxEntries = statsOpen
	st := &StatsTracer{funcs: funcs, probes: len(addrs)}
	if !noMulti && features.HaveBPFLinkUprobeMulti() == nil {
		spec.Programs[statsProgram].AttachType = cebpf.AttachTraceUprobeMulti
		st.multi = true
	}
	if err := spec.LoadAndAssign(&st.objs, nil); err != nil {
		var ve *cebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading BPF stats program: %w\n%+v", err, ve)
		}
		return nil, fmt.Errorf("loading BPF stats program: %w", err)
	}
	cfg, err := configFor(pid)
	if err != nil {
		st.closeObjs()
		return nil, err
	}
	cfg.GoidOffset, cfg.StackHiOffset = uint32(rt.G.Goid), uint32(rt.G.StackHi)
	if err := st.objs.Config.Put(uint32(0), cfg); err != nil {
		st.closeObjs()
		return nil, fmt.Errorf("writing BPF config: %w", err)
	}
	if rs, err := cebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME)); err != nil {
		st.statsErr = fmt.Errorf("enabling BPF run-time statistics: %w", err)
	} else {
		st.runStats = rs
	}
	if err := st.attach(bi.Path(), pid, addrs, cookies); err != nil {
		st.closeObjs()
		return nil, err
	}
	return st, nil
}

// statsSites lists the probe sites of funcs as uprobes take them: file
// offsets, with the cookie fn << 2 | probe kind.
func statsSites(bi *bininfo.BinaryInfo, funcs []*bininfo.Function) (addrs, cookies []uint64, _ error) {
	add := func(fn *bininfo.Function, i int, addr uint64, kind uint64) error {
		off, err := probe.FileOffset(bi, addr)
		if err != nil {
			return fmt.Errorf("%s: %w", fn.Name, err)
		}
		addrs, cookies = append(addrs, off), append(cookies, uint64(i)<<2|kind)
		return nil
	}
	for i, fn := range funcs {
		sites, err := probe.FindSites(bi, fn)
		if err != nil {
			return nil, nil, err
		}
		both := sites.EntryIsReturn()
		kind := uint64(probeCall)
		if both {
			kind = probeBoth
		}
		if err := add(fn, i, sites.Entry, kind); err != nil {
			return nil, nil, err
		}
		for _, r := range sites.Returns {
			if r == sites.Entry && both {
				continue
			}
			if err := add(fn, i, r, probeReturn); err != nil {
				return nil, nil, err
			}
		}
		for _, j := range sites.TailJumps {
			if err := add(fn, i, j, probeTail); err != nil {
				return nil, nil, err
			}
		}
	}
	return addrs, cookies, nil
}

func (st *StatsTracer) attach(path string, pid int, addrs, cookies []uint64) error {
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return fmt.Errorf("opening %s for uprobes: %w", path, err)
	}
	if st.multi {
		l, err := ex.UprobeMulti(nil, st.objs.Prog, &link.UprobeMultiOptions{Addresses: addrs, Cookies: cookies, PID: uint32(pid)})
		if err != nil {
			return fmt.Errorf("attaching %d uprobes with uprobe_multi: %w", len(addrs), err)
		}
		st.links = []link.Link{l}
		return nil
	}
	for i := range addrs {
		l, err := ex.Uprobe("", st.objs.Prog, &link.UprobeOptions{Address: addrs[i], Cookie: cookies[i], PID: pid})
		if err != nil {
			st.detach()
			return fmt.Errorf("attaching uprobe at file offset %#x: %w", addrs[i], err)
		}
		st.links = append(st.links, l)
	}
	return nil
}

// Probes is the number of probe sites attached.
func (st *StatsTracer) Probes() int { return st.probes }

// Snapshot reads the figures so far: per-CPU sums, and the calls still
// open per function. After Close it returns those read at Close.
func (st *StatsTracer) Snapshot() (StatsSnapshot, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return st.last, nil
	}
	return st.read()
}

func (st *StatsTracer) read() (StatsSnapshot, error) {
	snap := StatsSnapshot{Funcs: make([]event.FuncStats, len(st.funcs))}
	var perCPU []fnStats
	for i, fn := range st.funcs {
		fs := &snap.Funcs[i]
		fs.Function = fn.Name
		if err := st.objs.FnStats.Lookup(uint32(i), &perCPU); err != nil {
			return snap, fmt.Errorf("reading the figures of %s: %w", fn.Name, err)
		}
		for c := range perCPU {
			v := &perCPU[c]
			fs.Calls += v.Calls
			fs.Unpaired += v.Unpaired
			fs.Lost += v.Lost
			fs.Hist.Sum += time.Duration(v.SumNs)
			fs.Hist.Max = max(fs.Hist.Max, time.Duration(v.MaxNs))
			for b, n := range v.Buckets {
				fs.Hist.Counts[b] += n
			}
		}
	}
	var key statsKey
	var start uint64
	it := st.objs.OpenCalls.Iterate()
	for it.Next(&key, &start) {
		if int(key.Fn) < len(snap.Funcs) {
			snap.Funcs[key.Fn].Open++
		}
	}
	if err := it.Err(); err != nil {
		return snap, fmt.Errorf("reading the open calls: %w", err)
	}
	ps, err := st.objs.Prog.Stats()
	if err == nil {
		snap.Missed = ps.RecursionMisses
		snap.Runs, snap.RunTime = ps.RunCount, ps.Runtime
	}
	switch {
	case st.statsErr != nil:
		snap.RunErr = st.statsErr
	case err != nil:
		snap.RunErr = fmt.Errorf("reading run-time statistics: %w", err)
	}
	return snap, nil
}

func (st *StatsTracer) detach() error {
	var errs []error
	for _, l := range st.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	st.links = nil
	return errors.Join(errs...)
}

// closeObjs frees what LoadAndAssign created (all of it, once it succeeded).
func (st *StatsTracer) closeObjs() {
	if st.runStats != nil {
		st.runStats.Close()
		st.runStats = nil
	}
	st.objs.Prog.Close()
	for _, m := range []*cebpf.Map{st.objs.Config, st.objs.OpenCalls, st.objs.FnStats, st.objs.Drops} {
		m.Close()
	}
}

// Close detaches the probes, reads the final figures and frees the kernel
// objects. Calls in flight at that moment stay counted as open.
func (st *StatsTracer) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil
	}
	derr := st.detach()
	snap, rerr := st.read()
	st.last, st.closed = snap, true
	st.closeObjs()
	return errors.Join(derr, rerr)
}
