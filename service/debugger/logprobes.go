package debugger

import (
	"debug/elf"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"os"
	"reflect"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// Kernel logpoints: a message's expressions captured by a uprobe at the
// breakpoint's addresses while the program runs, never stopped. Only plain
// variables and field selections (x.f, p.f through pointers) qualify; the
// loader then sees the same bytes a stop would read, and ConvertVar makes
// the same text of them.

// KernelLog is a set of attached kernel logpoints, one probe per address,
// sharing one ring buffer so that their hits come in the order they ran.
type KernelLog struct {
	st    *ebpf.SiteTracer
	owner []int       // per site: the index of its logpoint
	exprs [][]logPath // per site, per expression
	hits  chan LogHit
	// unmask ends the masking of the probes' int3s in memory reads.
	unmask func()
}

// LogSpec is one logpoint: a breakpoint's addresses and its expressions,
// each loaded as Cfgs says (nil: all as OpenKernelLogs' cfg). With Cond
// the kernel evaluates it in front of the capture at each address, and
// only the hits where it holds come through.
type LogSpec struct {
	Addrs []uint64
	Exprs []string
	Cfgs  []api.LoadConfig
	Cond  string
}

// LogHit is one hit of a kernel logpoint: each expression's value, or the
// error the stopped evaluator would have reported for it.
type LogHit struct {
	Log       int // index into the specs given to OpenKernelLogs
	Goroutine int64
	Values    []*api.Variable
	Errs      []error
	Err       error // the hit could not be decoded
	// Sync, when not nil, is no hit but the answer to Sync: close it.
	Sync chan struct{}
}

// logPath is how one expression's value is found in its captured variable.
type logPath struct {
	escaped bool // the capture is a pointer to the variable
	fields  []string
}

// OpenKernelLogs attaches the kernel logpoints specs describe, their
// values loaded as cfg says, with a ring buffer of ringBytes (0: the
// tracer's default). why[i] says,
// in one line, why logpoint i cannot be captured (the caller stops to
// evaluate it instead); the others are attached, kl is nil when none is.
func (d *Debugger) OpenKernelLogs(specs []LogSpec, cfg api.LoadConfig, ringBytes int) (kl *KernelLog, why []error, err error) {
	why = make([]error, len(specs))
	if d.IsCore() {
		return nil, nil, errors.New("a core file runs no code")
	}
	if err := ebpf.CheckPermissions(); err != nil {
		return nil, nil, err
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	prog, err := d.program()
	if err != nil {
		return nil, nil, err
	}
	kl = &KernelLog{hits: make(chan LogHit, 1024)}
	var sites []ebpf.Site
	for i, sp := range specs {
		n := len(sites)
		for _, addr := range sp.Addrs {
			cfgs := sp.Cfgs
			if cfgs == nil {
				cfgs = make([]api.LoadConfig, len(sp.Exprs))
				for j := range cfgs {
					cfgs[j] = cfg
				}
			}
			site, paths, err := siteFor(prog, addr, sp.Exprs, cfgs)
			if err == nil && sp.Cond != "" && os.Getenv(envNoKernelCond) == "0" {
				err = errors.New("its condition: " + envNoKernelCond + "=0")
			} else if err == nil && sp.Cond != "" {
				site.Cond, err = cond.Compile(d.bi, addr, sp.Cond, cond.Options{Bias: d.bi.Bias(), Eval: prog})
				if err != nil {
					err = fmt.Errorf("its condition: %s", strings.TrimPrefix(err.Error(), cond.ErrNotCompilable.Error()+": "))
				}
			}
			if err != nil {
				why[i] = err
				break
			}
			sites = append(sites, site)
			kl.exprs = append(kl.exprs, paths)
			kl.owner = append(kl.owner, i)
		}
		if len(sp.Addrs) == 0 || len(sp.Exprs) == 0 {
			why[i] = errors.New("nothing to capture")
		}
		if why[i] != nil {
			sites, kl.exprs, kl.owner = sites[:n], kl.exprs[:n], kl.owner[:n]
		}
	}
	opts := ebpf.DefaultOptions
	opts.MaxStringBytes = cfg.MaxStringLen
	if ringBytes > 0 {
		opts.RingBufferBytes = ringBytes
	}
	// Memory reads show the executable's bytes where the uprobes' int3s
	// are, from before they are attached until after they are gone.
	kl.unmask = func() {}
	if m, ok := t.Process().(interface {
		MaskText(map[uint64]byte) func()
	}); ok && len(sites) > 0 {
		orig, err := textBytes(d.bi, sites)
		if err != nil {
			return nil, nil, err
		}
		kl.unmask = m.MaskText(orig)
	}
	for len(sites) > 0 {
		st, err := ebpf.OpenSites(d.bi, t.Pid(), sites, opts)
		var se *ebpf.SiteError
		if errors.As(err, &se) {
			// Leave out that site's logpoint and try the rest again.
			bad := kl.owner[se.Site]
			why[bad] = se.Err
			keep := 0
			for j := range sites {
				if kl.owner[j] != bad {
					sites[keep], kl.exprs[keep], kl.owner[keep] = sites[j], kl.exprs[j], kl.owner[j]
					keep++
				}
			}
			sites, kl.exprs, kl.owner = sites[:keep], kl.exprs[:keep], kl.owner[:keep]
			continue
		}
		if err != nil {
			kl.unmask()
			return nil, nil, err
		}
		kl.st = st
		go kl.convert()
		return kl, why, nil
	}
	kl.unmask()
	return nil, why, nil
}

// textBytes reads the executable's byte at each site's address.
func textBytes(bi *bininfo.BinaryInfo, sites []ebpf.Site) (map[uint64]byte, error) {
	orig := make(map[uint64]byte, len(sites))
	for _, s := range sites {
		link := s.Addr - bi.Bias()
		found := false
		for _, p := range bi.ELF().Progs {
			if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 || link < p.Vaddr || link >= p.Vaddr+p.Filesz {
				continue
			}
			var b [1]byte
			if _, err := p.ReadAt(b[:], int64(link-p.Vaddr)); err != nil {
				return nil, fmt.Errorf("reading the executable at %#x: %w", s.Addr, err)
			}
			orig[s.Addr], found = b[0], true
			break
		}
		if !found {
			return nil, fmt.Errorf("address %#x is not in an executable segment", s.Addr)
		}
	}
	return orig, nil
}

// siteFor locates exprs at addr.
func siteFor(prog *eval.Program, addr uint64, exprs []string, cfgs []api.LoadConfig) (ebpf.Site, []logPath, error) {
	site := ebpf.Site{Addr: addr}
	paths := make([]logPath, len(exprs))
	for j, e := range exprs {
		root, fields, err := splitSelector(e)
		if err != nil {
			return site, nil, fmt.Errorf("%s: %w", e, err)
		}
		cv, err := prog.VarAt(addr, root)
		if err != nil {
			return site, nil, fmt.Errorf("%s: %w", e, err)
		}
		levels, err := selectionDepth(cv, fields)
		if err != nil {
			return site, nil, fmt.Errorf("%s: %w", e, err)
		}
		loc, err := probe.LocationOfExpr(cv.Expr, cv.Type.Size())
		if err != nil {
			return site, nil, fmt.Errorf("%s: %w", e, err)
		}
		// The loader descends levels more from the captured variable than
		// a stop's evaluation does from the selected value.
		vc := api.LoadConfigToValue(cfgs[j])
		vc.MaxVariableRecurse += levels
		vc.FollowPointers = vc.FollowPointers || levels > 0
		site.Vars = append(site.Vars, ebpf.SiteVar{Name: root, Type: cv.Type, Loc: loc, Cfg: vc})
		paths[j] = logPath{escaped: cv.Escaped, fields: fields}
	}
	return site, paths, nil
}

// splitSelector accepts x, x.f, x.f.g and nothing else.
func splitSelector(expr string) (string, []string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return "", nil, fmt.Errorf("not an expression: %w", err)
	}
	var fields []string
	for {
		switch n := e.(type) {
		case *ast.Ident:
			return n.Name, fields, nil
		case *ast.SelectorExpr:
			fields = append([]string{n.Sel.Name}, fields...)
			e = n.X
		default:
			return "", nil, errors.New("only variables and field selections are captured in the kernel")
		}
	}
}

// selectionDepth counts the levels the loader descends from the captured
// variable to the selected value: a field is one, a pointer followed is
// one, an escaped variable's own pointer is one.
func selectionDepth(cv eval.CaptureVar, fields []string) (int, error) {
	typ, levels := cv.Type, 0
	if cv.Escaped {
		typ, levels = godwarf.ResolveTypedef(typ).(*godwarf.PtrType).Elem, 1
	}
	for _, f := range fields {
		rt := godwarf.ResolveTypedef(typ)
		if p, ok := rt.(*godwarf.PtrType); ok {
			rt, levels = godwarf.ResolveTypedef(p.Elem), levels+1
		}
		st, ok := rt.(*godwarf.StructType)
		if !ok {
			return 0, fmt.Errorf("%s is not a struct field selection", f)
		}
		sf := st.Field(f)
		if sf == nil {
			return 0, fmt.Errorf("no field %s captured directly (promoted fields are not)", f)
		}
		typ, levels = sf.Type, levels+1
	}
	return levels, nil
}

// convert turns the sites' hits into expression values until the tracer
// closes.
func (kl *KernelLog) convert() {
	defer close(kl.hits)
	for h := range kl.st.Hits() {
		if h.Sync != nil {
			kl.hits <- LogHit{Sync: h.Sync}
			continue
		}
		out := LogHit{Log: kl.owner[h.Site], Goroutine: h.Goroutine, Err: h.Err}
		if h.Err == nil {
			paths := kl.exprs[h.Site]
			out.Values = make([]*api.Variable, len(paths))
			out.Errs = make([]error, len(paths))
			for i, p := range paths {
				v, err := p.pick(h.Values[i].Var)
				if err != nil {
					out.Errs[i] = err
					continue
				}
				av := api.ConvertVar(v)
				out.Values[i] = &av
			}
		}
		kl.hits <- out
	}
}

// pick walks from the captured variable to the selected value.
func (p logPath) pick(v *value.Variable) (*value.Variable, error) {
	deref := func(v *value.Variable) (*value.Variable, error) {
		if v.Unreadable != nil {
			return nil, v.Unreadable
		}
		if len(v.Children) == 0 || v.Children[0].Addr == 0 {
			return nil, errors.New("nil pointer dereference")
		}
		return &v.Children[0], nil
	}
	var err error
	if p.escaped {
		if v, err = deref(v); err != nil {
			return nil, err
		}
	}
	for _, f := range p.fields {
		if v.Kind == reflect.Ptr {
			if v, err = deref(v); err != nil {
				return nil, err
			}
		}
		if v.Unreadable != nil {
			return nil, v.Unreadable
		}
		var next *value.Variable
		for i := range v.Children {
			if v.Children[i].Name == f {
				next = &v.Children[i]
			}
		}
		if next == nil {
			return nil, fmt.Errorf("field %s was not captured", f)
		}
		v = next
	}
	return v, nil
}

// Hits delivers the logpoints' hits; it is closed after Close.
func (kl *KernelLog) Hits() <-chan LogHit { return kl.hits }

// Sync returns a channel that comes through Hits after every hit recorded
// so far.
func (kl *KernelLog) Sync() chan struct{} { return kl.st.Sync() }

// Lost is the number of hits the kernel could not record so far.
func (kl *KernelLog) Lost() uint64 { return kl.st.Lost() }

// CondCounts is the number of hits whose condition was false, and of
// those where it faulted (false, and counted apart).
func (kl *KernelLog) CondCounts() (filtered, faults uint64) { return kl.st.CondCounts() }

// Probes is the number of uprobes attached.
func (kl *KernelLog) Probes() int { return kl.st.Probes() }

// Close removes the probes; the caller keeps receiving Hits until it is
// closed.
func (kl *KernelLog) Close() error {
	err := kl.st.Close()
	kl.unmask()
	return err
}
