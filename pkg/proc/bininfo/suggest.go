package bininfo

import (
	"path"
	"sort"
	"strings"

	"github.com/tinydbg/tinydbg/internal/editdist"
)

// closest returns up to n candidates resembling name, best first: names
// containing it (shortest first), then those within a small edit distance.
func closest(name string, candidates []string, n int) []string {
	type scored struct {
		s     string
		score int
	}
	limit := len(name)/3 + 1
	var hits []scored
	lname := strings.ToLower(name)
	for _, c := range candidates {
		// Compare against the name and against it without a method's
		// receiver, so "main.Scale" finds "main.(*Point).Scale".
		best := -1
		for _, form := range []string{c, withoutReceiver(c)} {
			score := -1
			if strings.Contains(strings.ToLower(form), lname) {
				score = len(form) - len(name) - 1000
			} else if abs(len(form)-len(name)) <= limit {
				if d := editdist.Distance(name, form); d <= limit {
					score = d
				}
			}
			if score != -1 && (best == -1 || score < best) {
				best = score
			}
		}
		if best != -1 {
			hits = append(hits, scored{c, best})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score < hits[j].score })
	var out []string
	for _, h := range hits {
		if len(out) == n {
			break
		}
		out = append(out, h.s)
	}
	return out
}

// closestFiles is closest applied to base names, returning full paths.
func closestFiles(base string, files []string, n int) []string {
	bases := make([]string, len(files))
	byBase := map[string][]string{}
	for i, f := range files {
		bases[i] = path.Base(f)
		byBase[bases[i]] = append(byBase[bases[i]], f)
	}
	var out []string
	seen := map[string]bool{}
	for _, b := range closest(base, bases, len(bases)) {
		if seen[b] {
			continue
		}
		seen[b] = true
		for _, f := range byBase[b] {
			if len(out) < n {
				out = append(out, f)
			}
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// withoutReceiver turns "pkg.(*T).M" or "pkg.T.M" into "pkg.M".
func withoutReceiver(name string) string {
	pkg := packageOf(name)
	last := strings.LastIndexByte(name, '.')
	if pkg == "" || last <= len(pkg) {
		return name
	}
	return pkg + name[last:]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
