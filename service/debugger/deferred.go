package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/service/api"
)

// deferRec is one runtime._defer record of a goroutine's defer chain.
type deferRec struct {
	addr    uint64 // the record itself
	sp, pc  uint64 // SP of the deferring frame, return address of its deferproc call
	closure uint64 // the funcval deferred (func() since Go 1.18)
	entry   uint64 // the code the funcval points at
	err     error  // why the record could not be read; the chain stops here
}

// deferLayout holds the field offsets of runtime._defer, taken from the
// binary's DWARF so that every Go version's layout (1.22 has no
// rangefunc head, 1.23+ does) is read by name, not by a fixed table.
type deferLayout struct {
	size                 int64
	sp, pc, fn, link, hd int64 // hd: head of a range-over-func body's list, -1 when absent
}

var errSPDecreased = errors.New("corrupted defer list: SP decreased")

// maxDefers bounds a chain walk, so that a corrupt (cyclic) list ends.
const maxDefers = 10000

// maxRangeDefers bounds the list a range-over-func body keeps; a longer
// one is more likely garbage than real.
const maxRangeDefers = 10

func (d *Debugger) deferLayout() (*deferLayout, error) {
	prog, err := d.program()
	if err != nil {
		return nil, err
	}
	typ, err := prog.Types.ByName("runtime._defer")
	if err != nil {
		return nil, fmt.Errorf("runtime._defer: %w", err)
	}
	st, ok := godwarf.ResolveTypedef(typ).(*godwarf.StructType)
	if !ok {
		return nil, errors.New("runtime._defer is not a struct")
	}
	off := func(name string) int64 {
		if f := st.Field(name); f != nil {
			return f.ByteOffset
		}
		return -1
	}
	l := &deferLayout{size: st.Size(), sp: off("sp"), pc: off("pc"), fn: off("fn"), link: off("link"), hd: off("head")}
	if l.sp < 0 || l.pc < 0 || l.fn < 0 || l.link < 0 {
		return nil, errors.New("runtime._defer lacks sp, pc, fn or link")
	}
	return l, nil
}

// readDefers reads the defer chain of the goroutine whose runtime.g is at
// gaddr, newest first, the way the runtime runs them. A record whose
// range-over-func head is set stands for that list's records.
func (d *Debugger) readDefers(t *proc.Target, gaddr uint64) ([]deferRec, error) {
	rt, err := d.bi.RuntimeLayout()
	if err != nil {
		return nil, err
	}
	if rt.G.Defer < 0 {
		return nil, errors.New("runtime.g has no _defer field")
	}
	l, err := d.deferLayout()
	if err != nil {
		return nil, err
	}
	mem := t.Process()
	word := func(addr uint64) (uint64, error) {
		var b [8]byte
		if n, err := mem.ReadMemory(b[:], addr); err != nil || n != 8 {
			if err == nil {
				err = fmt.Errorf("short read at %#x", addr)
			}
			return 0, err
		}
		return binary.LittleEndian.Uint64(b[:]), nil
	}
	load := func(addr uint64) (deferRec, uint64) {
		r := deferRec{addr: addr}
		var link uint64
		vals := []struct {
			off int64
			dst *uint64
		}{{l.sp, &r.sp}, {l.pc, &r.pc}, {l.fn, &r.closure}, {l.link, &link}}
		for _, v := range vals {
			if *v.dst, r.err = word(addr + uint64(v.off)); r.err != nil {
				r.err = fmt.Errorf("reading defer record at %#x: %w", addr, r.err)
				return r, 0
			}
		}
		if r.closure != 0 {
			if r.entry, r.err = word(r.closure); r.err != nil {
				r.err = fmt.Errorf("reading deferred closure at %#x: %w", r.closure, r.err)
			}
		}
		return r, link
	}
	head, err := word(gaddr + uint64(rt.G.Defer))
	if err != nil {
		return nil, fmt.Errorf("reading g._defer: %w", err)
	}
	var out []deferRec
	var lastSP uint64
	for addr := head; addr != 0 && len(out) < maxDefers; {
		r, link := load(addr)
		if r.err == nil && len(out) > 0 && r.sp < lastSP {
			r.err = errSPDecreased
		}
		if r.err != nil {
			return append(out, r), nil
		}
		lastSP = r.sp
		if l.hd >= 0 {
			if rs := d.rangeDefers(r, l, word, load); len(rs) > 0 {
				out = append(out, rs...)
				addr = link
				continue
			}
		}
		out = append(out, r)
		addr = link
	}
	return out, nil
}

// rangeDefers follows a range-over-func record's head (an atomic pointer
// whose first word is the list) to the records deferred by the loop body.
// Those records hold no SP or PC of their own (the runtime fills only fn
// and link): they take the head's, the frame and defer statement they
// belong to.
func (d *Debugger) rangeDefers(head deferRec, l *deferLayout, word func(uint64) (uint64, error), load func(uint64) (deferRec, uint64)) []deferRec {
	hp, err := word(head.addr + uint64(l.hd))
	if err != nil || hp == 0 {
		return nil
	}
	first, err := word(hp)
	if err != nil || first == 0 {
		return nil
	}
	var out []deferRec
	for a := first; a != 0 && len(out) <= maxRangeDefers; {
		r, link := load(a)
		r.sp, r.pc = head.sp, head.pc
		out = append(out, r)
		if r.err != nil {
			break
		}
		a = link
	}
	return out
}

// assignDefers gives each frame the records it deferred: a record belongs
// to the first frame whose CFA is above its SP (records of deeper frames
// come first in the chain), as Delve assigns them. Inlined frames share
// their physical frame's CFA and get none.
func assignDefers(frames []stack.Frame, recs []deferRec) [][]deferRec {
	out := make([][]deferRec, len(frames))
	i := 0
	for _, r := range recs {
		if r.err != nil {
			if i < len(frames) {
				out[i] = append(out[i], r)
			}
			return out
		}
		for i < len(frames) && (frames[i].Inlined || r.sp >= frames[i].CFA) {
			i++
		}
		if i >= len(frames) {
			break
		}
		out[i] = append(out[i], r)
	}
	return out
}

// frameDefers reads goroutine goid's frames up to depth and what each deferred.
func (d *Debugger) frameDefers(t *proc.Target, goid int64, depth int) ([]stack.Frame, [][]deferRec, error) {
	frames, err := d.goroutineFrames(t, goid, depth)
	if err != nil && len(frames) == 0 {
		return nil, nil, err
	}
	if goid == 0 {
		return frames, make([][]deferRec, len(frames)), nil
	}
	g, err := d.findG(t, goid)
	if err != nil {
		return nil, nil, err
	}
	recs, err := d.readDefers(t, g.Addr)
	if err != nil {
		return nil, nil, err
	}
	return frames, assignDefers(frames, recs), nil
}

// apiDefer describes a record as Delve does: the deferred function (a
// compiler wrapper replaced by what it calls) at its entry line, and the
// place of the defer statement.
func (d *Debugger) apiDefer(r deferRec) api.Defer {
	if r.err != nil {
		return api.Defer{Unreadable: r.err.Error()}
	}
	out := api.Defer{SP: r.sp}
	if fn := d.bi.Unwrap(d.bi.PCToFunc(r.entry)); fn != nil {
		file, line, _ := d.bi.PCToLine(fn.Entry)
		out.DeferredLoc = api.Location{PC: fn.Entry, File: file, Line: line, Function: apiFunction(fn)}
	} else {
		out.DeferredLoc = api.Location{PC: r.pc}
	}
	file, line, fn := d.bi.PCToLine(r.pc)
	out.DeferLoc = api.Location{PC: r.pc, File: file, Line: line}
	if fn != nil {
		out.DeferLoc.Function = apiFunction(fn)
	}
	return out
}

// StacktraceDefers is Stacktrace with each frame's deferred calls (stack
// -defer): the frames are read again under the lock, so that the records
// are matched to the same unwinding.
func (d *Debugger) StacktraceDefers(goid int64, depth, skip int, cfg *api.LoadConfig) ([]api.Stackframe, error) {
	out, err := d.Stacktrace(goid, depth, skip, cfg)
	if err != nil {
		return nil, err
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if goid < 0 {
		goid = d.selectedG(t)
	}
	_, defs, err := d.frameDefers(t, goid, depth+1)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if i+skip >= len(defs) {
			break
		}
		for _, r := range defs[i+skip] {
			out[i].Defers = append(out[i].Defers, d.apiDefer(r))
		}
	}
	return out, nil
}

// deferScope is the scope of the n-th (from 1) deferred call of a frame:
// the deferred function at its entry, with the closure the record holds in
// the context register, so that its captured variables are read from the
// closure as they will be when it runs (Go 1.23+ describes where each
// lives in it). Delve places CFA past the record, where arguments lived
// before Go 1.18; nothing lives there now, so it is left unknown.
func (d *Debugger) deferScope(t *proc.Target, goid int64, frame, n int) (*eval.Scope, error) {
	frames, defs, err := d.frameDefers(t, goid, frame+1)
	if err != nil {
		return nil, err
	}
	if frame >= len(frames) {
		return nil, fmt.Errorf("Frame %d does not exist in goroutine %d", frame, goid)
	}
	if n-1 >= len(defs[frame]) {
		return nil, fmt.Errorf("Frame %d only has %d deferred calls", frame, len(defs[frame]))
	}
	r := defs[frame][n-1]
	if r.err != nil {
		return nil, r.err
	}
	prog, err := d.program()
	if err != nil {
		return nil, err
	}
	// Only the context register and the PC are known: the call has no
	// frame yet (since Go 1.18 a record holds no arguments), so a variable
	// located on the stack or in another register reads as unreadable
	// rather than as whatever the deferring frame holds there.
	var regs op.DwarfRegisters
	regs.AddReg(regnum.Rdx, r.closure)
	regs.AddReg(regnum.Rip, r.entry)
	return prog.PCScope(t.Process(), &regs, r.entry)
}

// DeferredVars lists the arguments (args set) or locals of the n-th
// deferred call of a frame.
func (d *Debugger) DeferredVars(goid int64, frame, n int, cfg api.LoadConfig, args bool) ([]api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	sc, err := d.deferScope(t, d.scopeGoroutine(t, goid), frame, n)
	if err != nil {
		return nil, err
	}
	return scopeVars(sc, cfg, args)
}

// DeferredEval evaluates expr in the scope of the n-th deferred call of a frame.
func (d *Debugger) DeferredEval(goid int64, frame, n int, expr string, cfg api.LoadConfig) (*api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	sc, err := d.deferScope(t, d.scopeGoroutine(t, goid), frame, n)
	if err != nil {
		return nil, err
	}
	v, err := sc.Eval(expr, api.LoadConfigToValue(cfg))
	if err != nil {
		return nil, err
	}
	out := api.ConvertVar(v)
	return &out, nil
}
