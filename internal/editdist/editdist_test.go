package editdist

import "testing"

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "next", 4},
		{"next", "", 4},
		{"next", "next", 0},
		{"nxt", "next", 1},        // deletion
		{"nexxt", "next", 1},      // insertion
		{"nert", "next", 1},       // substitution
		{"mian", "main", 1},       // transposition, 2 for Levenshtein
		{"stpeout", "stepout", 1}, // transposition inside a word
		{"ca", "abc", 3},          // OSA edits no substring twice
		{"kitten", "sitting", 3},
		{"goroutnes", "goroutines", 1},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
