package trace

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

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
	names, err := inlinedNames(bi, re)
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

// inlinedNames lists the inlined functions re may select: only package
// main's when re can match nothing else, which spares reading the other
// packages' DWARF at every start of `trace '^main\.f$'`.
func inlinedNames(bi *bininfo.BinaryInfo, re string) ([]string, error) {
	if onlyMain(re) {
		return bi.MainInlinedFuncNames()
	}
	return bi.InlinedFuncNames()
}

// onlyMain reports whether every string re matches begins with "main.":
// re is anchored at the start of the text and a case-sensitive literal
// beginning "main." follows.
func onlyMain(re string) bool {
	tree, err := syntax.Parse(re, syntax.Perl)
	if err != nil || tree.Op != syntax.OpConcat || len(tree.Sub) < 2 {
		return false
	}
	begin, lit := tree.Sub[0], tree.Sub[1]
	return begin.Op == syntax.OpBeginText && lit.Op == syntax.OpLiteral && lit.Flags&syntax.FoldCase == 0 &&
		strings.HasPrefix(string(lit.Rune), "main.")
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
