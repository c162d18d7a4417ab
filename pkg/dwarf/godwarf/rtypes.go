package godwarf

import "sort"

// RuntimeTypeOffsets returns, sorted, the offset from runtime.types of
// every runtime type descriptor the DWARF names (DW_AT_go_runtime_type):
// the dynamic types an interface can hold. It reads every compile unit.
func (t *Types) RuntimeTypeOffsets() ([]uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for !t.scanDone {
		if err := t.scanUnit(); err != nil {
			return nil, err
		}
	}
	out := make([]uint64, 0, len(t.rtypes))
	for off := range t.rtypes {
		out = append(out, off)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
