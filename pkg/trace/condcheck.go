package trace

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// maxNamedFuncs is how many functions the refusal names per symbol.
const maxNamedFuncs = 5

// checkCondScope refuses, before any probe exists, a --if condition that
// names something not in scope at the entry of a traced function: every
// call there would fault, and the trace would silently show none of them.
// The one line names each such symbol and the functions lacking it.
func checkCondScope(bi *bininfo.BinaryInfo, funcs []*bininfo.Function, expr string) error {
	if expr == "" {
		return nil
	}
	p, err := eval.NewProgram(bi)
	if err != nil {
		return fmt.Errorf("--if %q: %w", expr, err)
	}
	where := map[string][]string{} // symbol → functions it is not in scope in
	var order []string
	for _, fn := range funcs {
		sites, err := probe.FindSites(bi, fn)
		if err != nil {
			continue // not probed: the tracer says why
		}
		names, err := p.UnknownNames(sites.Entry, expr)
		if err != nil {
			return fmt.Errorf("--if %q: %w", expr, err)
		}
		for _, n := range names {
			if where[n] == nil {
				order = append(order, n)
			}
			where[n] = append(where[n], fn.Name)
		}
	}
	if len(order) == 0 {
		return nil
	}
	var parts []string
	for _, n := range order {
		fns := where[n]
		list := strings.Join(fns[:min(len(fns), maxNamedFuncs)], ", ")
		if len(fns) > maxNamedFuncs {
			list += fmt.Sprintf(" and %d more", len(fns)-maxNamedFuncs)
		}
		parts = append(parts, fmt.Sprintf("%s is not in scope in %s", n, list))
	}
	return fmt.Errorf("--if %q: %s; nothing traced (narrow the regexp to functions that have it)", expr, strings.Join(parts, "; "))
}
