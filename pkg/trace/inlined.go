package trace

import (
	"fmt"
	"regexp"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// MatchInlined returns the inlined copies of every function whose name
// matches re, so that a traced function is seen at every call site and not
// only where the compiler kept the call.
func MatchInlined(bi *bininfo.BinaryInfo, re string) ([]bininfo.InlinedInstance, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp %q: %w", re, err)
	}
	names, err := bi.InlinedFuncNames()
	if err != nil {
		return nil, fmt.Errorf("indexing inlined calls: %w", err)
	}
	var out []bininfo.InlinedInstance
	for _, name := range names {
		if !rx.MatchString(name) {
			continue
		}
		insts, err := bi.InlinedInstances(name)
		if err != nil {
			return nil, fmt.Errorf("inlined copies of %s: %w", name, err)
		}
		out = append(out, insts...)
	}
	return out, nil
}

// matchAll finds the functions and inlined copies re selects; it fails
// only when it selects neither.
func matchAll(bi *bininfo.BinaryInfo, re string) ([]*bininfo.Function, []bininfo.InlinedInstance, error) {
	funcs, ferr := MatchFuncs(bi, re)
	insts, err := MatchInlined(bi, re)
	if err != nil {
		return nil, nil, err
	}
	if len(funcs) == 0 && len(insts) == 0 {
		return nil, nil, ferr
	}
	return funcs, insts, nil
}

// countFuncs is how many functions funcs and insts trace between them.
func countFuncs(funcs []*bininfo.Function, insts []bininfo.InlinedInstance) int {
	names := map[string]bool{}
	for _, fn := range funcs {
		names[fn.Name] = true
	}
	for _, in := range insts {
		names[in.Func] = true
	}
	return len(names)
}
