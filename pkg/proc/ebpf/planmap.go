package ebpf

import "github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"

// mapValue captures a map's header and its first group (Swiss tables, Go
// 1.24+) or bucket (Go ≤ 1.23), with what the loader reads of each slot's
// key and value: all of a map of up to 8 entries whose group or bucket is
// the only one. The layouts come from the DWARF of the map's own types, as
// the loader's walk reads them.
func (b *planner) mapValue(t *godwarf.MapType, at place, level int) {
	hdr, _ := godwarf.ResolveTypedef(pointeeType(t.Type)).(*godwarf.StructType)
	if hdr == nil || hdr.Size() <= 0 {
		return
	}
	h := b.deref(at, -1, hdr.Size(), hdr.Size(), false)
	if h < 0 || level > b.cfg.MaxVariableRecurse || b.cfg.MaxArrayValues <= 0 {
		return
	}
	if dir := hdr.Field("dirPtr"); dir != nil {
		b.swissGroup(t, place{src: h, off: dir.ByteOffset}, dir, level)
		return
	}
	bf := hdr.Field("buckets")
	if bf == nil {
		return
	}
	bucket, _ := godwarf.ResolveTypedef(pointeeType(bf.Type)).(*godwarf.StructType)
	if bucket == nil {
		return
	}
	keys, vals := bucket.Field("keys"), bucket.Field("values")
	if keys == nil || vals == nil {
		return
	}
	bi := b.deref(place{src: h, off: bf.ByteOffset}, -1, bucket.Size(), bucket.Size(), false)
	if bi < 0 {
		return
	}
	for _, part := range []struct {
		f      *godwarf.StructField
		goType godwarf.Type
	}{{keys, t.Key}, {vals, t.Elem}} {
		arr, _ := godwarf.ResolveTypedef(part.f.Type).(*godwarf.ArrayType)
		if arr == nil || arr.Elem.Size() <= 0 {
			continue
		}
		stride := arr.Stride
		if stride == 0 {
			stride = arr.Elem.Size()
		}
		b.slot(part.goType, arr.Elem, place{src: bi, off: part.f.ByteOffset, stride: stride, count: arr.Count}, level+1)
	}
}

// swissGroup captures the group a small Swiss map's dirPtr points at.
func (b *planner) swissGroup(t *godwarf.MapType, dirPtr place, dir *godwarf.StructField, level int) {
	table, _ := godwarf.ResolveTypedef(pointeeType(pointeeType(dir.Type))).(*godwarf.StructType)
	if table == nil || table.Field("groups") == nil {
		return
	}
	groups, _ := godwarf.ResolveTypedef(table.Field("groups").Type).(*godwarf.StructType)
	if groups == nil || groups.Field("data") == nil {
		return
	}
	group, _ := godwarf.ResolveTypedef(pointeeType(groups.Field("data").Type)).(*godwarf.StructType)
	if group == nil || group.Field("slots") == nil {
		return
	}
	slots, _ := godwarf.ResolveTypedef(group.Field("slots").Type).(*godwarf.ArrayType)
	if slots == nil {
		return
	}
	slot, _ := godwarf.ResolveTypedef(slots.Elem).(*godwarf.StructType)
	if slot == nil || slot.Field("key") == nil || slot.Field("elem") == nil {
		return
	}
	stride := slots.Stride
	if stride == 0 {
		stride = slots.Elem.Size()
	}
	gi := b.deref(dirPtr, -1, group.Size(), group.Size(), false)
	if gi < 0 {
		return
	}
	base := group.Field("slots").ByteOffset
	for _, part := range []struct {
		f      *godwarf.StructField
		goType godwarf.Type
	}{{slot.Field("key"), t.Key}, {slot.Field("elem"), t.Elem}} {
		b.slot(part.goType, part.f.Type, place{src: gi, off: base + part.f.ByteOffset, stride: stride, count: slots.Count}, level+1)
	}
}

// slot plans one key or value of a map: in the slot itself, or behind the
// pointer the runtime stores there for a big one.
func (b *planner) slot(goType, slotType godwarf.Type, at place, level int) {
	_, slotPtr := godwarf.ResolveTypedef(slotType).(*godwarf.PtrType)
	_, goPtr := godwarf.ResolveTypedef(goType).(*godwarf.PtrType)
	if !slotPtr || goPtr {
		b.value(goType, at, level)
		return
	}
	if size := goType.Size(); size > 0 {
		if idx := b.deref(at, -1, size, size, false); idx >= 0 {
			b.value(goType, place{src: idx}, level)
		}
	}
}

func pointeeType(t godwarf.Type) godwarf.Type {
	if p, ok := godwarf.ResolveTypedef(t).(*godwarf.PtrType); ok {
		return p.Elem
	}
	return nil
}
