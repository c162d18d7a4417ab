package ebpf

import (
	"fmt"

	cebpf "github.com/cilium/ebpf"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Interfaces: the plan of a value of static interface type cannot know
// the dynamic type, so every runtime type the DWARF describes gets a
// plan of its own, one per nesting level at which the loader loads
// interface data, and the probe picks it by the type word it finds
// (dyn_types, keyed by the descriptor's run-time address with the level
// in the top byte). The dynamic value is then captured exactly as a value
// of that type would be: the bytes of *http.response behind a
// ResponseWriter, the message of an error wrapped in another.

// dynTable is what fills the dyn_types and dyn_plans maps: keys[i] (a
// type descriptor's address and a level) runs plans[index[i]]. Types of
// the same shape share a plan: in a net/http server 5,276 keys have 916
// distinct plans of 5.6 KB each, and the copies cost a tenth of a second
// at start-up and 25 MB of kernel memory.
type dynTable struct {
	keys  []uint64
	index []uint32
	plans []dynPlan
}

// buildDynPlans makes the plans of every runtime type for every level the
// loader can load interface data at under opts. With no interface in any
// plan the table is empty: indexing and planning every runtime type was a
// fifth of a trace's start-up.
func (t *Tracer) buildDynPlans(opts Options) (dynTable, error) {
	var d dynTable
	if t.rtypes == 0 || !t.plansIfaces() {
		return d, nil
	}
	offs, err := t.types.RuntimeTypeOffsets()
	if err != nil {
		return d, fmt.Errorf("indexing runtime types: %w", err)
	}
	cfg := loadConfig(opts)
	seen := map[dynPlan]uint32{}
	for _, off := range offs {
		typ, err := t.types.ByRuntimeType(off)
		if err != nil {
			continue // a descriptor DWARF cannot describe prints unreadable anyway
		}
		addr := t.rtypes + off
		if addr>>56 != 0 {
			continue
		}
		for level := 0; level <= cfg.MaxVariableRecurse && level <= 0xff; level++ {
			p, ok := buildDynPlan(typ, level, opts)
			if !ok {
				continue
			}
			i, ok := seen[p]
			if !ok {
				i = uint32(len(d.plans))
				seen[p] = i
				d.plans = append(d.plans, p)
			}
			d.keys = append(d.keys, addr|uint64(level)<<56)
			d.index = append(d.index, i)
		}
	}
	return d, nil
}

// plansIfaces reports whether any function's plan captures an interface,
// the only operation that runs a dynamic type's plan.
func (t *Tracer) plansIfaces() bool {
	for _, tf := range t.funcs {
		for _, p := range []*probePlan{&tf.entry, &tf.returns} {
			for _, op := range p.bpf.Ops[:p.bpf.NOps] {
				if op.Kind == opIface {
					return true
				}
			}
		}
	}
	return false
}

// buildDynPlan plans the capture of a value of type typ held in an
// interface whose two words are the plan's root (rootSrc), loaded at
// level. It reports false when nothing beyond the root is read.
func buildDynPlan(typ godwarf.Type, level int, opts Options) (dynPlan, bool) {
	p := probePlan{partial: []bool{false}}
	b := planner{p: &p, cfg: loadConfig(opts), opts: opts, limit: maxDynOps}
	data := place{src: rootSrc, off: 8}
	if pointerShaped(typ) {
		b.value(typ, data, level)
	} else if size := typ.Size(); size > 0 {
		if idx := b.deref(data, -1, size, size, false); idx >= 0 {
			b.value(typ, place{src: idx}, level)
		}
	}
	var out dynPlan
	out.NOps = p.bpf.NOps
	copy(out.Ops[:], p.bpf.Ops[:p.bpf.NOps])
	return out, out.NOps > 0
}

// pointerShaped reports whether the runtime stores a value of type t in
// an interface's data word itself rather than behind it: pointers, maps,
// channels, funcs, and arrays or structs of exactly one of them.
func pointerShaped(t godwarf.Type) bool {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		return true
	case *godwarf.ArrayType:
		return rt.Count == 1 && pointerShaped(rt.Elem)
	case *godwarf.StructType:
		return len(rt.Fields) == 1 && pointerShaped(rt.Fields[0].Type)
	}
	return false
}

// sizeMaps gives the dynamic-type maps room for d (a map has at least one
// entry).
func (d dynTable) sizeMaps(spec *cebpf.CollectionSpec) {
	spec.Maps["dyn_types"].MaxEntries = uint32(max(len(d.keys), 1))
	spec.Maps["dyn_plans"].MaxEntries = uint32(max(len(d.plans), 1))
}

// fill writes d into the loaded maps.
func (d dynTable) fill(coll *cebpf.Collection) error {
	if len(d.plans) == 0 {
		return nil
	}
	slots := make([]uint32, len(d.plans))
	for i := range slots {
		slots[i] = uint32(i)
	}
	if _, err := coll.Maps["dyn_plans"].BatchUpdate(slots, d.plans, nil); err != nil {
		for i := range slots {
			if err := coll.Maps["dyn_plans"].Put(slots[i], d.plans[i]); err != nil {
				return fmt.Errorf("writing dynamic-type plans: %w", err)
			}
		}
	}
	if _, err := coll.Maps["dyn_types"].BatchUpdate(d.keys, d.index, nil); err != nil {
		for i := range d.keys {
			if err := coll.Maps["dyn_types"].Put(d.keys[i], d.index[i]); err != nil {
				return fmt.Errorf("writing dynamic-type index: %w", err)
			}
		}
	}
	return nil
}
