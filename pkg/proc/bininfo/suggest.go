package bininfo

import (
	"path"
	"sort"
	"strings"
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
				if d := editDistance(name, form); d <= limit {
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

// editDistance is the optimal-string-alignment distance between a and b:
// Levenshtein plus transposition of adjacent characters, the most common
// typo ("mian" for "main").
func editDistance(a, b string) int {
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, pp
	}
	return rows[1][len(b)]
}
