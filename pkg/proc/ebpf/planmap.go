package ebpf

import "github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"

// mapValue captures a map the way the loader walks it, from the DWARF of
// the map's own types: Swiss tables (Go 1.24+) as the one group of a
// small map or the directory, its tables and their groups; the buckets
// layout (Go ≤ 1.23) as the array of 1 << B buckets and the chains of
// overflow buckets hanging off them (see buckets). Each group or bucket is
// a run of slots whose keys and values are planned as two levels of
// elements. A growing map's old buckets are captured the same way. The
// segment bound caps how many groups or buckets are copied.
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
		b.swiss(t, hdr, h, dir, level)
		return
	}
	bf, bl := hdr.Field("buckets"), hdr.Field("B")
	if bf == nil || bl == nil {
		return
	}
	bucket, _ := godwarf.ResolveTypedef(pointeeType(bf.Type)).(*godwarf.StructType)
	if bucket == nil || bucket.Size() <= 0 {
		return
	}
	if bucket.Field("keys") == nil || bucket.Field("values") == nil {
		return
	}
	bi := b.derefKind(place{src: h, off: bf.ByteOffset}, bl.ByteOffset, lenLog2, bucket.Size(), maxSeg, false)
	if bi < 0 {
		return
	}
	before := int(b.p.bpf.NOps)
	b.buckets(t, bucket, bi, level)
	// A growing map's old array has half as many buckets (the loader reads
	// no more of it, even after a same-size grow): 1 << B buckets of half
	// a bucket each. A map that is not growing has no old array, and the
	// operations cost nothing at run time; they are planned only while the
	// budget keeps room (spare), and when they are not, the old buckets
	// print as not captured.
	ob := hdr.Field("oldbuckets")
	if ob == nil || bucket.Size()%2 != 0 || !b.spare(int(b.p.bpf.NOps)-before) {
		return
	}
	if oi := b.derefKind(place{src: h, off: ob.ByteOffset}, bl.ByteOffset, lenLog2, bucket.Size()/2, maxSeg, false); oi >= 0 {
		b.buckets(t, bucket, oi, level)
	}
}

// overflowLevels is how many overflow buckets of each bucket a plan follows
// at most: a bucket overflows only when more than 8 of its keys hash to it,
// which one level nearly always covers and three leave to maps that would
// print more entries than the element limit anyway. A deeper chain's
// buckets print as not captured.
const overflowLevels = 3

// buckets plans the keys and values of the old-layout buckets in the
// segments of operation src, then those of their overflow buckets, one
// operation per level of the chains. Levels past the first are planned only
// while the operation budget keeps room for what later values need, so
// that following a rare deep chain never crowds out another argument.
func (b *planner) buckets(t *godwarf.MapType, bucket *godwarf.StructType, src, level int) {
	keys, vals, over := bucket.Field("keys"), bucket.Field("values"), bucket.Field("overflow")
	size := bucket.Size()
	for depth := 0; ; depth++ {
		before := int(b.p.bpf.NOps)
		for _, part := range []struct {
			f      *godwarf.StructField
			goType godwarf.Type
		}{{keys, t.Key}, {vals, t.Elem}} {
			arr, _ := godwarf.ResolveTypedef(part.f.Type).(*godwarf.ArrayType)
			if arr == nil || arr.Elem.Size() <= 0 {
				continue
			}
			b.slot(part.goType, arr.Elem, slots(src, part.f.ByteOffset, size, arr), level+1)
		}
		if over == nil || depth == overflowLevels {
			return
		}
		per := int(b.p.bpf.NOps) - before + 1
		if depth > 0 && !b.spare(per) {
			return
		}
		// The bucket array's segment holds many buckets, an overflow
		// segment one.
		n := int64(1)
		if depth == 0 {
			n = maxSeg / size
		}
		src = b.deref(place{src: src, off: over.ByteOffset, stride: size, count: n}, -1, size, size, false)
		if src < 0 {
			return
		}
	}
}

// spare reports whether n more operations that a value seldom needs (deep
// overflow chains, a growing map's old buckets) leave half the plan's
// budget to what later values need.
func (b *planner) spare(n int) bool {
	return int(b.p.bpf.NOps)+n <= b.limit/2
}

// slots is the place of the slot arrays (arr, at off) of every group or
// bucket of size bytes in the segments of operation src.
func slots(src int, off, size int64, arr *godwarf.ArrayType) place {
	stride := arr.Stride
	if stride == 0 {
		stride = arr.Elem.Size()
	}
	return place{src: src, off: off, stride: size, count: maxSeg / size, stride2: stride, count2: arr.Count}
}

// swiss captures a Swiss map's dirPtr both ways, since only its dirLen
// tells them apart at run time: as a small map's group, and as a
// directory of dirLen table pointers whose tables' groups are copied.
func (b *planner) swiss(t *godwarf.MapType, hdr *godwarf.StructType, h int, dir *godwarf.StructField, level int) {
	table, _ := godwarf.ResolveTypedef(pointeeType(pointeeType(dir.Type))).(*godwarf.StructType)
	if table == nil || table.Field("groups") == nil {
		return
	}
	groupsF := table.Field("groups")
	groups, _ := godwarf.ResolveTypedef(groupsF.Type).(*godwarf.StructType)
	if groups == nil || groups.Field("data") == nil || groups.Field("lengthMask") == nil {
		return
	}
	group, _ := godwarf.ResolveTypedef(pointeeType(groups.Field("data").Type)).(*godwarf.StructType)
	if group == nil || group.Size() <= 0 || group.Field("slots") == nil {
		return
	}
	arr, _ := godwarf.ResolveTypedef(group.Field("slots").Type).(*godwarf.ArrayType)
	if arr == nil {
		return
	}
	slot, _ := godwarf.ResolveTypedef(arr.Elem).(*godwarf.StructType)
	if slot == nil || slot.Field("key") == nil || slot.Field("elem") == nil {
		return
	}
	gsize, base := group.Size(), group.Field("slots").ByteOffset
	var srcs []int
	if gi := b.deref(place{src: h, off: dir.ByteOffset}, -1, gsize, gsize, false); gi >= 0 {
		srcs = append(srcs, gi)
	}
	if dl := hdr.Field("dirLen"); dl != nil && dl.Type.Size() == 8 {
		const maxTables = 64
		di := b.deref(place{src: h, off: dir.ByteOffset}, dl.ByteOffset, 8, 8*maxTables, false)
		if di >= 0 {
			ti := b.deref(place{src: di, stride: 8, count: maxTables}, -1, table.Size(), table.Size(), false)
			if ti >= 0 {
				data, mask := groupsF.ByteOffset+groups.Field("data").ByteOffset, groupsF.ByteOffset+groups.Field("lengthMask").ByteOffset
				if gs := b.derefKind(place{src: ti, off: data}, mask, lenMask, gsize, maxSeg, false); gs >= 0 {
					srcs = append(srcs, gs)
				}
			}
		}
	}
	for _, src := range srcs {
		for _, part := range []struct {
			f      *godwarf.StructField
			goType godwarf.Type
		}{{slot.Field("key"), t.Key}, {slot.Field("elem"), t.Elem}} {
			at := slots(src, base+part.f.ByteOffset, gsize, arr)
			at.count = min(at.count, maxSeg/gsize)
			b.slot(part.goType, part.f.Type, at, level+1)
		}
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
