package bininfo

import (
	"debug/dwarf"
	"errors"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// InlinedInstance is one inlined copy of a function's body: the
// DW_TAG_inlined_subroutine whose abstract origin is that function, inside
// the code of a concrete function (possibly nested in other inlined calls).
type InlinedInstance struct {
	InlinedCall // Func is the inlined function; Ranges are run-time
	// Caller is the concrete (out-of-line) function whose code holds the copy.
	Caller *Function
	// Depth is 1 for a call inlined directly into Caller, 2 for one inlined
	// into a function that was itself inlined into Caller, and so on.
	Depth int
}

// instanceRef locates one inlined call without holding a *Function, whose
// addresses would go stale if the load bias changed after indexing.
type instanceRef struct {
	fnOffset dwarf.Offset
	node     *inlineNode
	depth    int
}

type instanceIndex struct {
	byName map[string][]instanceRef
	err    error
}

// loadInstances walks the inline trees of every function of every unit,
// once, on the first query by name. An abstract origin may be referenced
// from any unit (cross-package inlining uses DW_FORM_ref_addr), so no unit
// can be skipped; the walk is spread over the available CPUs.
func (bi *BinaryInfo) loadInstances() (*instanceIndex, error) {
	bi.instOnce.Do(func() { bi.indexInstances(&bi.instances, nil) })
	return &bi.instances, bi.instances.err
}

// loadMainInstances is loadInstances for package main's units alone:
// main cannot be imported, so its functions are inlined only there, and
// `trace '^main\.f$'` reads a fraction of the DWARF.
func (bi *BinaryInfo) loadMainInstances() (*instanceIndex, error) {
	bi.mainInstOnce.Do(func() {
		bi.indexInstances(&bi.mainInstances, func(cu *CompileUnit) bool { return cu.Name == "main" })
	})
	return &bi.mainInstances, bi.mainInstances.err
}

// instancesFor is the index that holds every inlined copy of name.
func (bi *BinaryInfo) instancesFor(name string) (*instanceIndex, error) {
	if strings.HasPrefix(name, "main.") {
		return bi.loadMainInstances()
	}
	return bi.loadInstances()
}

// indexInstances fills idx from the units keep selects (all when nil).
func (bi *BinaryInfo) indexInstances(idx *instanceIndex, keep func(*CompileUnit) bool) {
	byName := map[string][]instanceRef{}
	units, err := bi.loadUnits()
	if err != nil {
		idx.err = err
		return
	}
	var list []*CompileUnit
	for _, cu := range units.list {
		if keep == nil || keep(cu) {
			list = append(list, cu)
		}
	}
	work := make(chan int)
	results := make([][]instanceRef, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i], errs[i] = unitInstances(list[i])
			}
		}()
	}
	for i := range list {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		idx.err = err
		return
	}
	for _, refs := range results {
		for _, r := range refs {
			byName[r.node.call.Func] = append(byName[r.node.call.Func], r)
		}
	}
	idx.byName = byName
}

// unitInstances lists every inlined call of the unit's functions.
func unitInstances(cu *CompileUnit) ([]instanceRef, error) {
	fns, err := cu.functions()
	if err != nil {
		return nil, err
	}
	var out []instanceRef
	var walk func(fn *Function, nodes []*inlineNode, depth int)
	walk = func(fn *Function, nodes []*inlineNode, depth int) {
		for _, n := range nodes {
			out = append(out, instanceRef{fnOffset: fn.Offset, node: n, depth: depth})
			walk(fn, n.children, depth+1)
		}
	}
	for _, fn := range fns {
		tree, err := fn.inlineTree()
		if err != nil {
			return nil, err
		}
		walk(fn, tree, 1)
	}
	return out, nil
}

// InlinedInstances returns every inlined copy of the function named name
// (as Go prints it, like LookupFunc), sorted by address; nil when the
// function was never inlined.
func (bi *BinaryInfo) InlinedInstances(name string) ([]InlinedInstance, error) {
	idx, err := bi.instancesFor(name)
	if err != nil {
		return nil, err
	}
	bias := bi.Bias()
	var out []InlinedInstance
	for _, spelling := range abiSpellings(name) {
		for _, r := range idx.byName[spelling] {
			caller := bi.FuncAtOffset(r.fnOffset)
			if caller == nil || len(r.node.call.Ranges) == 0 {
				continue
			}
			inst := InlinedInstance{InlinedCall: r.node.call, Caller: caller, Depth: r.depth}
			inst.Ranges = make([][2]uint64, len(r.node.call.Ranges))
			for i, rg := range r.node.call.Ranges {
				inst.Ranges[i] = [2]uint64{rg[0] + bias, rg[1] + bias}
			}
			out = append(out, inst)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ranges[0][0] < out[j].Ranges[0][0] })
	return out, nil
}

// LookupFuncInstances finds a function by name in all its forms: the
// out-of-line copy (nil when the compiler kept none) and its inlined
// copies. It fails like LookupFunc only when neither exists.
func (bi *BinaryInfo) LookupFuncInstances(name string) (*Function, []InlinedInstance, error) {
	fn, lookupErr := bi.LookupFunc(name)
	if fn != nil {
		if !bi.mayBeInlinedElsewhere(fn) {
			return fn, nil, nil
		}
		name = fn.Name
	}
	insts, err := bi.InlinedInstances(name)
	if err != nil {
		return nil, nil, err
	}
	if fn == nil && len(insts) == 0 {
		return nil, nil, lookupErr
	}
	return fn, insts, nil
}

// mayBeInlinedElsewhere reports whether fn can have inlined copies, so
// that the index of inlined calls, which reads every unit of .debug_info,
// is built only when it may answer: `break main.main` on a 20 MB binary
// stays at tens of MB instead of loading all of its DWARF. The compiler
// points an out-of-line copy at an abstract DIE only when its own package
// inlined it; another package inlining it (go/parser inlining
// go/ast.(*SwitchStmt).Pos) leaves the copy without one. Package main
// cannot be imported, so there no abstract origin means never inlined;
// elsewhere only a program without an optimized unit is sure of it.
func (bi *BinaryInfo) mayBeInlinedElsewhere(fn *Function) bool {
	if fn.AbstractOrigin != 0 {
		return true
	}
	if fn.CU != nil && fn.CU.Name == "main" {
		return false
	}
	units, err := bi.loadUnits()
	if err != nil {
		return true
	}
	for _, cu := range units.list {
		if cu.Optimized() {
			return true
		}
	}
	return false
}

// BreakpointPC returns the run-time address where a breakpoint on the
// inlined copy goes: the start of its first range as DWARF lists it (an
// inlined body has no prologue), which is where Delve puts it, statement
// or not.
func (bi *BinaryInfo) BreakpointPC(inst InlinedInstance) uint64 {
	return inst.Ranges[0][0]
}

// InlinedFuncNames returns, sorted, the names of every function that has
// at least one inlined copy, including those the compiler kept no
// out-of-line copy of (which Functions cannot list).
func (bi *BinaryInfo) InlinedFuncNames() ([]string, error) {
	return namesIn(bi.loadInstances, "")
}

// MainInlinedFuncNames is InlinedFuncNames for package main's functions
// alone, which it finds without reading other packages' units.
func (bi *BinaryInfo) MainInlinedFuncNames() ([]string, error) {
	return namesIn(bi.loadMainInstances, "main.")
}

// namesIn returns, sorted, the names beginning with prefix in the index
// load builds.
func namesIn(load func() (*instanceIndex, error), prefix string) ([]string, error) {
	idx, err := load()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(idx.byName))
	for name := range idx.byName {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}
