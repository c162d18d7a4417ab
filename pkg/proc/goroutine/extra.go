package goroutine

import (
	"encoding/binary"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Extra holds the runtime.g fields G does not decode because only the
// goroutine list shows them. The wait fields are Delve's: the runtime's
// numeric waitReason (clients name it for the target's Go version) and the
// nanotime the wait began.
type Extra struct {
	WaitReason, WaitSince int64
	Labels                uint64 // g.labels, the pprof label set; 0 when unset
}

// ExtraLayout holds the offsets of the Extra fields in runtime.g, -1 for
// a field the runtime lacks. Compute it once per binary.
type ExtraLayout struct {
	waitReason, waitSince, labels int64
}

// NewExtraLayout finds the Extra fields in bi's runtime.g; types names
// g.waitsince, which the runtime layout does not carry. With a nil bi or
// types the fields it would have found are absent.
func NewExtraLayout(bi *bininfo.BinaryInfo, types *godwarf.Types) ExtraLayout {
	off := ExtraLayout{-1, -1, -1}
	if bi == nil {
		return off
	}
	if rt, err := bi.RuntimeLayout(); err == nil {
		off.waitReason, off.labels = rt.G.Waitreason, rt.G.Labels
	}
	if types == nil {
		return off
	}
	if typ, err := types.ByName("runtime.g"); err == nil {
		if st, ok := godwarf.ResolveTypedef(typ).(*godwarf.StructType); ok {
			if f := st.Field("waitsince"); f != nil {
				off.waitSince = f.ByteOffset
			}
		}
	}
	return off
}

// ReadExtra reads g.waitreason, g.waitsince and g.labels in one read of
// the span of runtime.g that holds them; what cannot be read stays zero.
func (l ExtraLayout) ReadExtra(mem MemoryReader, g *G) Extra {
	lo, hi := int64(-1), int64(-1)
	for _, f := range []struct{ off, size int64 }{{l.waitReason, 1}, {l.waitSince, 8}, {l.labels, 8}} {
		if f.off < 0 {
			continue
		}
		if lo < 0 || f.off < lo {
			lo = f.off
		}
		hi = max(hi, f.off+f.size)
	}
	var out Extra
	if lo < 0 {
		return out
	}
	buf := make([]byte, hi-lo)
	if n, err := mem.ReadMemory(buf, g.Addr+uint64(lo)); err != nil || n != len(buf) {
		return out
	}
	if l.waitReason >= 0 {
		out.WaitReason = int64(buf[l.waitReason-lo])
	}
	if l.waitSince >= 0 {
		out.WaitSince = int64(binary.LittleEndian.Uint64(buf[l.waitSince-lo:]))
	}
	if l.labels >= 0 {
		out.Labels = binary.LittleEndian.Uint64(buf[l.labels-lo:])
	}
	return out
}

// maxLabels bounds the labels read from one goroutine.
const maxLabels = 64

// labelLoad reads label sets whole: they are a few short strings.
var labelLoad = value.LoadConfig{FollowPointers: true, MaxVariableRecurse: 3, MaxStringLen: 1024, MaxArrayValues: maxLabels, MaxStructFields: -1}

// Labels reads the pprof labels that a goroutine's g.labels (ptr, from
// ReadExtra) points to: a runtime/pprof.labelMap, a map before Go 1.24, a
// sorted list of key/value pairs since. It returns nil when there are none.
func Labels(mem value.MemoryReader, types *godwarf.Types, funcs value.FuncResolver, ptr uint64) map[string]string {
	if ptr == 0 {
		return nil
	}
	typ, err := types.ByName("runtime/pprof.labelMap")
	if err != nil {
		return nil // the program never set labels
	}
	l := &value.Loader{Mem: mem, Types: types, Funcs: funcs}
	v := l.Load("labels", ptr, typ, labelLoad)
	if v.Unreadable != nil {
		return nil
	}
	out := map[string]string{}
	switch v.Kind {
	case reflect.Map:
		for i := 0; i+1 < len(v.Children); i += 2 {
			out[v.Children[i].Value] = v.Children[i+1].Value
		}
	case reflect.Struct:
		list := childNamed(childNamed(v, "LabelSet", "Set"), "list", "List")
		if list == nil {
			return nil
		}
		for _, kv := range list.Children {
			if len(kv.Children) == 2 {
				out[kv.Children[0].Value] = kv.Children[1].Value
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// childNamed returns the first child of v called one of names.
func childNamed(v *value.Variable, names ...string) *value.Variable {
	if v == nil {
		return nil
	}
	for i := range v.Children {
		for _, n := range names {
			if v.Children[i].Name == n {
				return &v.Children[i]
			}
		}
	}
	return nil
}
