package ebpf

import (
	"errors"
	"fmt"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
)

// condConts are the programs a compiled condition tail-calls with its
// result R0 (cond.ResultFalse, ResultTrue, ResultFault), at cond_progs
// slots functions + R0.
var condConts = [...]string{"tinydbg_cond_false", "tinydbg_cond_pass", "tinydbg_cond_fault"}

// cond_counts slots (COND_FILTERED, COND_FAULTS in bpf/cond.h).
const (
	condFiltered = 0
	condFaults   = 1
)

// compileConds compiles opts.Condition at every traced function's entry
// probe, where its arguments are in their ABI locations. A function it
// cannot compile for is an error naming the function and the reason.
func (t *Tracer) compileConds(opts Options) ([]*cond.Program, error) {
	if opts.Condition == "" {
		return nil, nil
	}
	ev, err := eval.NewProgram(t.bi)
	if err != nil {
		return nil, err
	}
	out := make([]*cond.Program, len(t.funcs))
	for i, tf := range t.funcs {
		if tf.fn == nil || tf.inl != nil || tf.roles[0] != nil || tf.roles[1] != nil {
			return nil, fmt.Errorf("--if %q: %w: inlined copies are not filtered yet", opts.Condition, cond.ErrNotCompilable)
		}
		p, err := cond.Compile(t.bi, tf.sites.Entry, opts.Condition, cond.Options{Bias: t.bi.Bias(), Eval: ev})
		if err != nil {
			return nil, fmt.Errorf("--if %q at %s: %w", opts.Condition, tf.fn.Name, err)
		}
		out[i] = p
	}
	return out, nil
}

// condSpec prepares the collection for conditions: the program array
// sized, the entry program told to use it, and every program of one
// attach type (a tail call needs the caller's); without a condition the
// continuation programs are left out.
func condSpec(spec *cebpf.CollectionSpec, nfuncs int, enabled bool) error {
	spec.Maps["cond_progs"].MaxEntries = uint32(nfuncs + len(condConts))
	at := spec.Programs[programName].AttachType
	for _, name := range condConts {
		if spec.Programs[name] == nil {
			return fmt.Errorf("embedded BPF object lacks program %s", name)
		}
		spec.Programs[name].AttachType = at
	}
	if !enabled {
		// Without a condition nothing tail-calls them: spare their
		// verification.
		for _, name := range condConts {
			delete(spec.Programs, name)
		}
		return nil
	}
	v := spec.Variables["cond_enabled"]
	if v == nil {
		return errors.New("embedded BPF object lacks cond_enabled")
	}
	return v.Set(uint32(1))
}

// loadConds loads each compiled condition wrapped to tail-call the
// continuation its result names, and fills the program array.
func (t *Tracer) loadConds(progs []*cond.Program, attach cebpf.AttachType) error {
	if len(progs) == 0 {
		return nil
	}
	arr := t.coll.Maps["cond_progs"]
	n := len(t.funcs)
	for i, name := range condConts {
		if err := arr.Put(uint32(n+i), t.coll.Programs[name]); err != nil {
			return fmt.Errorf("filling the condition program array: %w", err)
		}
	}
	for i, p := range progs {
		if p == nil {
			// No condition here (a site among conditional ones): the
			// tail call to the empty slot fails and the probe captures.
			continue
		}
		insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, p.Insns...)
		insns = append(insns,
			asm.Mov.Reg(asm.R3, asm.R0).WithSymbol(cond.EndSymbol),
			asm.Add.Imm(asm.R3, int32(n)),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, arr.FD()),
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return())
		prog, err := cebpf.NewProgram(&cebpf.ProgramSpec{Name: "tinydbg_cond", Type: cebpf.Kprobe, AttachType: attach,
			License: "GPL", Instructions: insns})
		if err != nil {
			var ve *cebpf.VerifierError
			if errors.As(err, &ve) {
				return fmt.Errorf("loading the condition of %s: %w\n%+v", t.condWhere(i), err, ve)
			}
			return fmt.Errorf("loading the condition of %s: %w", t.condWhere(i), err)
		}
		t.condProgs = append(t.condProgs, prog)
		if err := arr.Put(uint32(i), prog); err != nil {
			return fmt.Errorf("filling the condition program array: %w", err)
		}
	}
	return nil
}

// condWhere names traced function or site i in an error.
func (t *Tracer) condWhere(i int) string {
	if tf := t.funcs[i]; tf.fn != nil {
		return tf.fn.Name
	}
	return fmt.Sprintf("site %d", i)
}

// closeConds frees the condition programs.
func (t *Tracer) closeConds() {
	for _, p := range t.condProgs {
		p.Close()
	}
	t.condProgs = nil
}
