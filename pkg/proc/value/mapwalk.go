package value

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Map layouts are read from the DWARF types the linker emits for each map
// type, never from hard-coded sizes:
//   - Go ≤ 1.23: hash<K,V> {count, B, buckets, oldbuckets, ...} with
//     bucket<K,V> {tophash [8]uint8, keys [8]K, values [8]V, overflow}.
//   - Go ≥ 1.24 (Swiss tables): map<K,V> {used, dirPtr, dirLen, ...}; a
//     small map's dirPtr is one group, otherwise an array of *table<K,V>
//     whose groups {data, lengthMask} hold groups {ctrl, slots [8]{key, elem}}.

const (
	tophashEmptyOne = 1           // Go ≥ 1.12: 0 and 1 mark empty cells
	minTopHash      = 5           // tophash below this (and > 1) marks evacuation
	ctrlEmptyBit    = 0b1000_0000 // Swiss ctrl byte: empty or deleted slot
	// hardMaxMapVisits bounds the buckets, groups and directory entries
	// one walk reads whatever the caller asks: a corrupt header's lengths
	// and pointers are arbitrary, and each visit is one read of the target.
	hardMaxMapVisits = 1 << 21
	maxMapBlock      = 1 << 16 // a bucket or group bigger than this is corrupt DWARF
)

var errMalformedMap = errors.New("malformed map type")

// errMapWalkLimit reports a walk stopped by its visit budget.
var errMapWalkLimit = errors.New("map walk stopped at its bucket limit")

// mapHeader is the runtime header of one non-nil map.
type mapHeader struct {
	hp    uint64              // address of the header
	typ   *godwarf.StructType // hash<K,V> or map<K,V>
	mem   MemoryReader        // the header, prefetched
	count int64               // number of entries, as the runtime keeps it
	mt    *godwarf.MapType
}

// readMapHeader reads the header of the map variable at addr; it returns
// a nil header for a nil map.
func readMapHeader(mem MemoryReader, addr uint64, t *godwarf.MapType) (*mapHeader, error) {
	hp, err := readUint(mem, addr, ptrSize)
	if err != nil {
		return nil, err
	}
	if hp == 0 {
		return nil, nil
	}
	hdr, _ := godwarf.ResolveTypedef(pointee(t.Type)).(*godwarf.StructType)
	if hdr == nil {
		return nil, errors.New("wrong real type for map")
	}
	h := &mapHeader{hp: hp, typ: hdr, mem: cacheMemory(uncached(mem), hp, hdr.Size()), mt: t}
	lenField := hdr.Field("count")
	if lenField == nil {
		lenField = hdr.Field("used")
	}
	if lenField == nil {
		return nil, errMalformedMap
	}
	n, err := readUint(h.mem, hp+uint64(lenField.ByteOffset), lenField.Type.Size())
	if err != nil {
		return nil, err
	}
	h.count = int64(n)
	if h.count < 0 {
		return nil, fmt.Errorf("invalid map length %d", n)
	}
	return h, nil
}

// mapWalker visits the occupied slots of one map. It counts what it reads
// (buckets, groups, directory entries) so that a corrupt map costs at most
// limit reads; it reuses one buffer so that walking a map of any size
// allocates nothing per entry.
type mapWalker struct {
	mem    MemoryReader
	limit  int
	visits int
	buf    []byte
	// keyInd and valInd are set when slots hold pointers to keys or
	// values (the runtime stores big ones indirectly).
	keyInd, valInd bool
}

// visit spends one unit of the budget; false means the budget is gone.
func (w *mapWalker) visit() bool {
	if w.visits >= w.limit {
		return false
	}
	w.visits++
	return true
}

// block reads size bytes at addr into the walker's buffer.
func (w *mapWalker) block(addr uint64, size int64) ([]byte, error) {
	if size <= 0 || size > maxMapBlock {
		return nil, fmt.Errorf("malformed map type: block of %d bytes", size)
	}
	if int64(cap(w.buf)) < size {
		w.buf = make([]byte, size)
	}
	b := w.buf[:size]
	if err := readFull(w.mem, b, addr); err != nil {
		return nil, err
	}
	return b, nil
}

// slotTypes decides whether slots hold keys and values or pointers to them.
func (w *mapWalker) slotTypes(mt *godwarf.MapType, keySlot, valSlot godwarf.Type) {
	w.keyInd = indirectSlot(keySlot, mt.Key)
	w.valInd = indirectSlot(valSlot, mt.Elem)
}

func indirectSlot(slot, goType godwarf.Type) bool {
	_, slotPtr := godwarf.ResolveTypedef(slot).(*godwarf.PtrType)
	_, goPtr := godwarf.ResolveTypedef(goType).(*godwarf.PtrType)
	return slotPtr && !goPtr
}

// walk reports the slot addresses of every entry of h to fn until fn
// returns false. It returns errMapWalkLimit when the budget ran out first.
func (w *mapWalker) walk(h *mapHeader, fn func(keySlot, valSlot uint64) bool) error {
	if h.typ.Field("dirPtr") != nil {
		return w.walkSwiss(h, fn)
	}
	return w.walkBuckets(h, fn)
}

func (w *mapWalker) walkBuckets(h *mapHeader, fn func(k, v uint64) bool) error {
	hdr := h.typ
	bf, obf, Bf := hdr.Field("buckets"), hdr.Field("oldbuckets"), hdr.Field("B")
	if bf == nil || obf == nil || Bf == nil {
		return errMalformedMap
	}
	bucket, _ := godwarf.ResolveTypedef(pointee(bf.Type)).(*godwarf.StructType)
	if bucket == nil {
		return errors.New("malformed map type: buckets, oldbuckets or overflow field not a struct")
	}
	tophashF, keysF, valsF, overF := bucket.Field("tophash"), bucket.Field("keys"), bucket.Field("values"), bucket.Field("overflow")
	if tophashF == nil || keysF == nil || valsF == nil || overF == nil {
		return errMalformedMap
	}
	tophashT, _ := godwarf.ResolveTypedef(tophashF.Type).(*godwarf.ArrayType)
	keysT, _ := godwarf.ResolveTypedef(keysF.Type).(*godwarf.ArrayType)
	valsT, _ := godwarf.ResolveTypedef(valsF.Type).(*godwarf.ArrayType)
	if tophashT == nil || keysT == nil || valsT == nil {
		return errors.New("malformed map type: keys, values or tophash of a bucket is not an array")
	}
	if keysT.Count != tophashT.Count || (valsT.Elem.Size() > 0 && valsT.Count != tophashT.Count) {
		return errors.New("malformed map type: inconsistent array length in bucket")
	}
	size := bucket.Size()
	if tophashF.ByteOffset < 0 || tophashF.ByteOffset+tophashT.Count > size || overF.ByteOffset < 0 || overF.ByteOffset+ptrSize > size {
		return errors.New("malformed map type: bucket fields outside the bucket")
	}
	w.slotTypes(h.mt, keysT.Elem, valsT.Elem)
	B, err := readUint(h.mem, h.hp+uint64(Bf.ByteOffset), Bf.Type.Size())
	if err != nil {
		return err
	}
	if B > 40 {
		return fmt.Errorf("malformed map: B=%d", B)
	}
	buckets, err := readUint(h.mem, h.hp+uint64(bf.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	old, err := readUint(h.mem, h.hp+uint64(obf.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	nb := uint64(1) << B
	oldmask := nb/2 - 1
	// evacuated reports whether an old bucket has been moved to the new array.
	evacuated := func(b uint64) bool {
		th, err := readUint(w.mem, b+uint64(tophashF.ByteOffset), 1)
		if err != nil {
			return true
		}
		return th > tophashEmptyOne && th < minTopHash
	}
	for bidx := uint64(0); bidx < nb; bidx++ {
		b := buckets + bidx*uint64(size)
		if old != 0 {
			if !w.visit() {
				return errMapWalkLimit
			}
			ob := old + (bidx&oldmask)*uint64(size)
			if !evacuated(ob) {
				if bidx&oldmask != bidx {
					continue // its entries are listed with the old bucket
				}
				b = ob
			}
		}
		for b != 0 {
			if !w.visit() {
				return errMapWalkLimit
			}
			data, err := w.block(b, size)
			if err != nil {
				return fmt.Errorf("unreadable map bucket: %w", err)
			}
			for i := int64(0); i < tophashT.Count; i++ {
				th := data[tophashF.ByteOffset+i]
				if th == 0 || th == tophashEmptyOne {
					continue
				}
				if !fn(b+uint64(keysF.ByteOffset+i*keysT.Stride), b+uint64(valsF.ByteOffset+i*valsT.Stride)) {
					return nil
				}
			}
			// fn may have read through w.mem, but not into w.buf.
			b = binary.LittleEndian.Uint64(data[overF.ByteOffset:])
		}
	}
	return nil
}

// swissGroup describes the group layout of one map type.
type swissGroup struct {
	size                int64
	ctrlOff             int64
	slotCount           int64
	slotsOff, stride    int64
	keyField, elemField *godwarf.StructField
}

func (w *mapWalker) walkSwiss(h *mapHeader, fn func(k, v uint64) bool) error {
	hdr := h.typ
	dirF, dirLenF := hdr.Field("dirPtr"), hdr.Field("dirLen")
	if dirF == nil || dirLenF == nil {
		return errMalformedMap
	}
	// dirPtr is typed **table<K,V>; the table's groups field leads to the group type.
	table, _ := godwarf.ResolveTypedef(pointee(pointee(dirF.Type))).(*godwarf.StructType)
	if table == nil {
		return errors.New("swiss table bad table field")
	}
	indexF, groupsF := table.Field("index"), table.Field("groups")
	if indexF == nil || groupsF == nil {
		return errors.New("swiss table type does not have some required fields")
	}
	groupsT, _ := godwarf.ResolveTypedef(groupsF.Type).(*godwarf.StructType)
	if groupsT == nil || groupsT.Field("data") == nil || groupsT.Field("lengthMask") == nil {
		return errors.New("swiss table type does not have some required fields")
	}
	dataF, maskF := groupsT.Field("data"), groupsT.Field("lengthMask")
	g, err := swissGroupLayout(pointee(dataF.Type))
	if err != nil {
		return err
	}
	w.slotTypes(h.mt, g.keyField.Type, g.elemField.Type)
	dir, err := readUint(h.mem, h.hp+uint64(dirF.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	dirLen, err := readInt(h.mem, h.hp+uint64(dirLenF.ByteOffset), dirLenF.Type.Size())
	if err != nil {
		return err
	}
	if dirLen <= 0 {
		// Small map: dirPtr is the one group.
		if !w.visit() {
			return errMapWalkLimit
		}
		_, err := w.walkGroup(dir, g, fn)
		return err
	}
	for i := int64(0); i < dirLen; i++ {
		// Every directory entry costs a read, even one that repeats a
		// table: a corrupt dirLen must not buy millions of free reads.
		if !w.visit() {
			return errMapWalkLimit
		}
		tp, err := readUint(w.mem, dir+uint64(i*ptrSize), ptrSize)
		if err != nil {
			return fmt.Errorf("could not load one of the tables: %w", err)
		}
		idx, err := readInt(w.mem, tp+uint64(indexF.ByteOffset), indexF.Type.Size())
		if err != nil {
			return fmt.Errorf("could not load swiss table index: %w", err)
		}
		if idx != i {
			continue // a table spanning several directory entries is listed at its first one
		}
		data, err := readUint(w.mem, tp+uint64(groupsF.ByteOffset+dataF.ByteOffset), ptrSize)
		if err != nil {
			return err
		}
		mask, err := readUint(w.mem, tp+uint64(groupsF.ByteOffset+maskF.ByteOffset), maskF.Type.Size())
		if err != nil {
			return err
		}
		if data == 0 {
			return errors.New("bad swiss map, groups pointer is nil")
		}
		for gi := uint64(0); gi <= mask; gi++ {
			if !w.visit() {
				return errMapWalkLimit
			}
			more, err := w.walkGroup(data+gi*uint64(g.size), g, fn)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

func swissGroupLayout(t godwarf.Type) (*swissGroup, error) {
	bad := errors.New("bad swiss map type, group type lacks some required fields")
	gt, _ := godwarf.ResolveTypedef(t).(*godwarf.StructType)
	if gt == nil {
		return nil, bad
	}
	ctrl, sf := gt.Field("ctrl"), gt.Field("slots")
	if ctrl == nil || sf == nil {
		return nil, bad
	}
	slots, _ := godwarf.ResolveTypedef(sf.Type).(*godwarf.ArrayType)
	if slots == nil {
		return nil, bad
	}
	slot, _ := godwarf.ResolveTypedef(slots.Elem).(*godwarf.StructType)
	if slot == nil {
		return nil, bad
	}
	g := &swissGroup{size: gt.Size(), ctrlOff: ctrl.ByteOffset, slotCount: min(slots.Count, ctrl.Type.Size()),
		slotsOff: sf.ByteOffset, stride: slots.Stride, keyField: slot.Field("key"), elemField: slot.Field("elem")}
	if g.keyField == nil || g.elemField == nil {
		return nil, bad
	}
	if g.ctrlOff < 0 || g.slotCount < 0 || g.ctrlOff+g.slotCount > g.size {
		return nil, errors.New("bad swiss map type, ctrl word outside the group")
	}
	return g, nil
}

// walkGroup reports the full slots of one group; it returns false when
// fn wants no more entries.
func (w *mapWalker) walkGroup(addr uint64, g *swissGroup, fn func(k, v uint64) bool) (bool, error) {
	data, err := w.block(addr, g.size)
	if err != nil {
		return false, fmt.Errorf("could not load swiss map group: %w", err)
	}
	var ctrl [8]byte
	n := copy(ctrl[:min(g.slotCount, 8)], data[g.ctrlOff:])
	for i := 0; i < n; i++ {
		if ctrl[i]&ctrlEmptyBit != 0 {
			continue
		}
		slot := addr + uint64(g.slotsOff+int64(i)*g.stride)
		if !fn(slot+uint64(g.keyField.ByteOffset), slot+uint64(g.elemField.ByteOffset)) {
			return false, nil
		}
	}
	return true, nil
}
