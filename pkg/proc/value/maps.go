package value

import (
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
)

var errMalformedMap = errors.New("malformed map type")

// mapEntry is one key/value position found by an iterator.
type mapEntry struct {
	keyAddr, elemAddr uint64
	keyType, elemType godwarf.Type // slot types; pointers when stored indirectly
}

func (st *loadState) loadMap(v *Variable, t *godwarf.MapType, level int, mem MemoryReader) {
	hp, err := readUint(mem, v.Addr, ptrSize)
	if err != nil {
		v.Unreadable = err
		return
	}
	v.Base = hp
	if hp == 0 {
		return
	}
	hdr, _ := godwarf.ResolveTypedef(pointee(t.Type)).(*godwarf.StructType)
	if hdr == nil {
		v.Unreadable = errors.New("wrong real type for map")
		return
	}
	hmem := cacheMemory(st.l.Mem, hp, hdr.Size())
	lenField := hdr.Field("count")
	if lenField == nil {
		lenField = hdr.Field("used")
	}
	if lenField == nil {
		v.Unreadable = errMalformedMap
		return
	}
	n, err := readUint(hmem, hp+uint64(lenField.ByteOffset), lenField.Type.Size())
	if err != nil {
		v.Unreadable = err
		return
	}
	v.Len = int64(n)
	if v.Len < 0 {
		v.Unreadable = fmt.Errorf("invalid map length %d", n)
		return
	}
	if st.tooDeep(level) || v.Len == 0 || st.cfg.MaxArrayValues <= 0 {
		return
	}
	want := min(v.Len, int64(st.cfg.MaxArrayValues))
	budget := st.cfg.MaxMapBuckets
	add := func(e mapEntry) bool {
		k := st.mapPart(e.keyAddr, e.keyType, t.Key, level)
		val := st.mapPart(e.elemAddr, e.elemType, t.Elem, level)
		v.Children = append(v.Children, *k, *val)
		return int64(len(v.Children)/2) < want
	}
	if hdr.Field("dirPtr") != nil {
		err = st.walkSwiss(hp, hdr, hmem, &budget, add)
	} else {
		err = st.walkBuckets(hp, hdr, hmem, &budget, add)
	}
	if err != nil {
		v.Unreadable = err
	}
}

// mapPart loads a key or value; slots of large keys or values hold a
// pointer to them, which the user never sees.
func (st *loadState) mapPart(addr uint64, slotType, goType godwarf.Type, level int) *Variable {
	_, slotPtr := godwarf.ResolveTypedef(slotType).(*godwarf.PtrType)
	_, goPtr := godwarf.ResolveTypedef(goType).(*godwarf.PtrType)
	if slotPtr && !goPtr {
		p, err := readUint(st.l.Mem, addr, ptrSize)
		if err != nil {
			x := st.newVariable("", addr, goType, st.l.Mem)
			x.Unreadable = err
			return x
		}
		addr, slotType = p, pointee(slotType)
	}
	x := st.newVariable("", addr, slotType, st.l.Mem)
	st.load(x, level+1, st.l.Mem)
	return x
}

func (st *loadState) walkBuckets(hp uint64, hdr *godwarf.StructType, mem MemoryReader, budget *int, add func(mapEntry) bool) error {
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
	B, err := readUint(mem, hp+uint64(Bf.ByteOffset), Bf.Type.Size())
	if err != nil {
		return err
	}
	if B > 40 {
		return fmt.Errorf("malformed map: B=%d", B)
	}
	buckets, err := readUint(mem, hp+uint64(bf.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	old, err := readUint(mem, hp+uint64(obf.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	nb := uint64(1) << B
	oldmask := nb/2 - 1
	size := uint64(bucket.Size())

	// evacuated reports whether an old bucket has been moved to the new array.
	evacuated := func(b uint64) bool {
		th, err := readUint(st.l.Mem, b+uint64(tophashF.ByteOffset), 1)
		if err != nil {
			return true
		}
		return th > tophashEmptyOne && th < minTopHash
	}
	for bidx := uint64(0); bidx < nb; bidx++ {
		b := buckets + bidx*size
		if old != 0 {
			ob := old + (bidx&oldmask)*size
			if !evacuated(ob) {
				if bidx&oldmask != bidx {
					continue // its entries are listed with the old bucket
				}
				b = ob
			}
		}
		for ; b != 0; *budget-- {
			if *budget <= 0 {
				return nil
			}
			bmem := cacheMemory(st.l.Mem, b, int64(size))
			for i := int64(0); i < tophashT.Count; i++ {
				th, err := readUint(bmem, b+uint64(tophashF.ByteOffset+i), 1)
				if err != nil {
					return fmt.Errorf("unreadable tophash: %w", err)
				}
				if th == 0 || th == tophashEmptyOne {
					continue
				}
				e := mapEntry{
					keyAddr: b + uint64(keysF.ByteOffset+i*keysT.Stride), keyType: keysT.Elem,
					elemAddr: b + uint64(valsF.ByteOffset+i*valsT.Stride), elemType: valsT.Elem,
				}
				if !add(e) {
					return nil
				}
			}
			if b, err = readUint(bmem, b+uint64(overF.ByteOffset), ptrSize); err != nil {
				return err
			}
		}
	}
	return nil
}

// swissGroup describes the group layout of one map type.
type swissGroup struct {
	typ                 *godwarf.StructType
	ctrl                *godwarf.StructField
	slots               *godwarf.ArrayType // slot{key, elem} layout
	slotsOff            int64
	keyField, elemField *godwarf.StructField
}

func (st *loadState) walkSwiss(hp uint64, hdr *godwarf.StructType, mem MemoryReader, budget *int, add func(mapEntry) bool) error {
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
	dir, err := readUint(mem, hp+uint64(dirF.ByteOffset), ptrSize)
	if err != nil {
		return err
	}
	dirLen, err := readInt(mem, hp+uint64(dirLenF.ByteOffset), dirLenF.Type.Size())
	if err != nil {
		return err
	}
	if dirLen <= 0 {
		// Small map: dirPtr is the one group.
		_, err := st.walkGroup(dir, g, add)
		return err
	}
	if dirLen > 1<<24 {
		return fmt.Errorf("malformed swiss map: directory length %d", dirLen)
	}
	for i := int64(0); i < dirLen; i++ {
		tp, err := readUint(st.l.Mem, dir+uint64(i*ptrSize), ptrSize)
		if err != nil {
			return errors.New("could not load one of the tables")
		}
		tmem := cacheMemory(st.l.Mem, tp, table.Size())
		idx, err := readInt(tmem, tp+uint64(indexF.ByteOffset), indexF.Type.Size())
		if err != nil {
			return fmt.Errorf("could not load swiss table index: %w", err)
		}
		if idx != i {
			// A table spanning several directory entries is listed at its first one.
			*budget--
			continue
		}
		data, err := readUint(tmem, tp+uint64(groupsF.ByteOffset+dataF.ByteOffset), ptrSize)
		if err != nil {
			return err
		}
		mask, err := readUint(tmem, tp+uint64(groupsF.ByteOffset+maskF.ByteOffset), maskF.Type.Size())
		if err != nil {
			return err
		}
		if data == 0 {
			return errors.New("bad swiss map, groups pointer is nil")
		}
		for gi := uint64(0); gi <= mask; gi++ {
			if *budget <= 0 {
				return nil
			}
			*budget--
			more, err := st.walkGroup(data+gi*uint64(g.typ.Size()), g, add)
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
	g := &swissGroup{typ: gt, ctrl: gt.Field("ctrl")}
	sf := gt.Field("slots")
	if g.ctrl == nil || sf == nil {
		return nil, bad
	}
	g.slots, _ = godwarf.ResolveTypedef(sf.Type).(*godwarf.ArrayType)
	if g.slots == nil {
		return nil, bad
	}
	g.slotsOff = sf.ByteOffset
	slot, _ := godwarf.ResolveTypedef(g.slots.Elem).(*godwarf.StructType)
	if slot == nil {
		return nil, bad
	}
	g.keyField, g.elemField = slot.Field("key"), slot.Field("elem")
	if g.keyField == nil || g.elemField == nil {
		return nil, bad
	}
	return g, nil
}

// walkGroup reports the full slots of one group; it returns false when
// add wants no more entries.
func (st *loadState) walkGroup(addr uint64, g *swissGroup, add func(mapEntry) bool) (bool, error) {
	gmem := cacheMemory(st.l.Mem, addr, g.typ.Size())
	ctrl := make([]byte, g.ctrl.Type.Size())
	if err := readFull(gmem, ctrl, addr+uint64(g.ctrl.ByteOffset)); err != nil {
		return false, fmt.Errorf("could not load swiss map group ctrl: %w", err)
	}
	for i := int64(0); i < g.slots.Count && i < int64(len(ctrl)); i++ {
		if ctrl[i]&ctrlEmptyBit != 0 {
			continue
		}
		slot := addr + uint64(g.slotsOff+i*g.slots.Stride)
		e := mapEntry{
			keyAddr: slot + uint64(g.keyField.ByteOffset), keyType: g.keyField.Type,
			elemAddr: slot + uint64(g.elemField.ByteOffset), elemType: g.elemField.Type,
		}
		if !add(e) {
			return false, nil
		}
	}
	return true, nil
}
