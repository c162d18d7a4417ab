//go:build go1.24

package main

// chainedMap returns keys mapped to their indexes. Swiss tables (Go 1.24+)
// have no overflow buckets: the map is only built the same way.
func chainedMap(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	return m
}

// growingMap returns keys mapped to their indexes: a Swiss table grows all
// at once, so there is no growing state to catch.
func growingMap(keys []string) map[string]int { return chainedMap(keys) }
