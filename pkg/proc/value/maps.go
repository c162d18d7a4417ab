package value

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// LoadMapFrom loads the map variable at addr like Load, but skips its
// first skip entries: this is Delve's m[64:], which pages through a map
// in the walker's fixed order. Len stays the map's length, so the text
// ends with "...+N more" counted from the whole map, as Delve prints it.
func (l *Loader) LoadMapFrom(name string, addr uint64, typ godwarf.Type, skip int64, cfg LoadConfig) *Variable {
	st := &loadState{l: l, cfg: cfg}
	v := st.newVariable(name, addr, typ, l.Mem)
	if v.Kind != reflect.Map {
		v.Unreadable = fmt.Errorf("%s is not a map", v.Type)
		return v
	}
	if skip < 0 {
		v.Unreadable = errors.New("map index out of bounds")
		return v
	}
	st.mapSkip = skip
	st.load(v, 0, l.Mem)
	return v
}

// MapLen returns the number of entries of the map variable at addr (0 for
// a nil map).
func (l *Loader) MapLen(addr uint64, typ godwarf.Type) (int64, error) {
	mt, ok := godwarf.ResolveTypedef(typ).(*godwarf.MapType)
	if !ok {
		return 0, fmt.Errorf("%s is not a map", TypeName(typ))
	}
	h, err := readMapHeader(l.Mem, addr, mt)
	if err != nil || h == nil {
		return 0, err
	}
	return h.count, nil
}

// MapEntries calls fn with the addresses of the key and the value of each
// entry of the map variable at addr, in the order Load lists them, until
// fn returns false. Nothing is allocated per entry, so looking up a key
// in a map of a million entries costs reads, not Variables. A map whose
// buckets hold more entries than its length, or whose walk needs far more
// reads than its length justifies, is reported as corrupt.
func (l *Loader) MapEntries(addr uint64, typ godwarf.Type, fn func(keyAddr, valAddr uint64) bool) error {
	_, err := l.mapEntries(addr, typ, fn)
	return err
}

// mapEntries is MapEntries, also returning the walk's visit count.
func (l *Loader) mapEntries(addr uint64, typ godwarf.Type, fn func(keyAddr, valAddr uint64) bool) (int, error) {
	mt, ok := godwarf.ResolveTypedef(typ).(*godwarf.MapType)
	if !ok {
		return 0, fmt.Errorf("%s is not a map", TypeName(typ))
	}
	h, err := readMapHeader(l.Mem, addr, mt)
	if err != nil || h == nil || h.count == 0 {
		return 0, err
	}
	// A sound map needs about one bucket or group per 3 entries plus its
	// directory; deleting entries leaves more, hence the slack.
	limit := int(min(4*h.count+4096, hardMaxMapVisits))
	w := &mapWalker{mem: l.Mem, limit: limit}
	var found int64
	var walkErr error
	err = w.walk(h, func(k, v uint64) bool {
		if found++; found > h.count {
			walkErr = fmt.Errorf("corrupt map: more entries than its length %d", h.count)
			return false
		}
		if k, walkErr = w.deref(k, w.keyInd); walkErr != nil {
			return false
		}
		if v, walkErr = w.deref(v, w.valInd); walkErr != nil {
			return false
		}
		return fn(k, v)
	})
	if errors.Is(err, errMapWalkLimit) {
		err = fmt.Errorf("corrupt map: %d entries not found in %d buckets", h.count, w.visits)
	}
	if err == nil {
		err = walkErr
	}
	return w.visits, err
}

// deref follows an indirect slot to the key or value it points at.
func (w *mapWalker) deref(addr uint64, indirect bool) (uint64, error) {
	if !indirect {
		return addr, nil
	}
	p, err := readUint(w.mem, addr, ptrSize)
	if err != nil {
		return 0, fmt.Errorf("unreadable indirect map slot: %w", err)
	}
	return p, nil
}

func (st *loadState) loadMap(v *Variable, t *godwarf.MapType, level int, mem MemoryReader) {
	h, err := readMapHeader(mem, v.Addr, t)
	if err != nil {
		v.Unreadable = err
		return
	}
	if h == nil {
		return
	}
	v.Base, v.Len = h.hp, h.count
	skip := st.mapSkip
	st.mapSkip = 0 // only the map being printed is paged, not maps inside it
	if skip > 0 && skip >= v.Len {
		v.Unreadable = errors.New("map index out of bounds")
		return
	}
	if st.tooDeep(level) || v.Len == 0 || st.cfg.MaxArrayValues <= 0 {
		return
	}
	want := min(v.Len-skip, int64(st.cfg.MaxArrayValues), hardMaxArray)
	limit := int64(st.cfg.MaxMapBuckets)
	if limit <= 0 {
		limit = 100*(int64(st.cfg.MaxArrayValues)+skip) + 64
	}
	w := &mapWalker{mem: st.l.Mem, limit: int(min(limit, hardMaxMapVisits))}
	errs := 0
	// Room for every entry wanted, from the arena: growing Children by
	// append copied each Variable again at every doubling.
	kids := st.l.arena().variables(int(2 * want))[:0]
	err = w.walk(h, func(k, val uint64) bool {
		if skip > 0 {
			skip--
			return true
		}
		kv := st.mapPart(w, k, w.keyInd, t.Key, level)
		vv := st.mapPart(w, val, w.valInd, t.Elem, level)
		if kv.Unreadable != nil || vv.Unreadable != nil {
			errs++
		}
		kids = append(kids, *kv, *vv)
		return int64(len(kids)/2) < want && errs <= maxErrCount
	})
	if len(kids) > 0 {
		v.Children = kids
	}
	st.mapVisits += w.visits
	switch {
	case errors.Is(err, errMapWalkLimit):
		// The entries not reached show as "...+N more": truncated, and
		// marked so, like any other limit.
	case err != nil:
		v.Unreadable = err
	case skip > 0:
		v.Unreadable = errors.New("map index out of bounds")
	}
}

// mapPart loads a key or value; slots of large keys or values hold a
// pointer to them, which the user never sees.
func (st *loadState) mapPart(w *mapWalker, addr uint64, indirect bool, goType godwarf.Type, level int) *Variable {
	p, err := w.deref(addr, indirect)
	if err != nil {
		x := st.newVariable("", addr, goType, st.l.Mem)
		x.Unreadable = err
		return x
	}
	x := st.newVariable("", p, goType, st.l.Mem)
	st.load(x, level+1, st.l.Mem)
	return x
}
