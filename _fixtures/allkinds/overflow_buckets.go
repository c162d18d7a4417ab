//go:build !go1.24

package main

import "unsafe"

// hmap mirrors the header of a map of the buckets layout (Go 1.22 and
// 1.23, runtime/map.go); bucket mirrors one bucket of a map[string]int.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

type bucket struct {
	tophash  [8]uint8
	keys     [8]string
	values   [8]int
	overflow unsafe.Pointer
}

// chainedMap returns keys mapped to their indexes in a map some of whose
// buckets have overflow buckets two deep, so that a tracer must follow
// chains to print it whole. Which bucket a key lands in follows each
// map's own hash seed, so fresh maps are filled until one has such a
// chain; a map that is still growing is passed over.
func chainedMap(keys []string) map[string]int {
	for {
		m := make(map[string]int, len(keys))
		for i, k := range keys {
			m[k] = i
		}
		h := *(**hmap)(unsafe.Pointer(&m))
		if h.noverflow > 0 && h.oldbuckets == nil && longestChain(h) >= 2 {
			return m
		}
	}
}

// longestChain is the most overflow buckets behind one bucket of h.
func longestChain(h *hmap) int {
	longest := 0
	for i := 0; i < 1<<h.B; i++ {
		n := 0
		for b := (*bucket)(unsafe.Add(h.buckets, uintptr(i)*unsafe.Sizeof(bucket{}))); b.overflow != nil; b = (*bucket)(b.overflow) {
			n++
		}
		longest = max(longest, n)
	}
	return longest
}

// growingMap returns keys mapped to their indexes in a map caught growing:
// the last insertion crossed the load factor of 8 buckets, so the entries
// still lie mostly in the old bucket array, which each later write would
// evacuate a little more of.
func growingMap(keys []string) map[string]int {
	for {
		m := make(map[string]int, 40)
		for i, k := range keys {
			m[k] = i
		}
		h := *(**hmap)(unsafe.Pointer(&m))
		if h.oldbuckets != nil && h.nevacuate < 1<<(h.B-1) {
			return m
		}
	}
}
