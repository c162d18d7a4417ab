package value

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// chanLoadConfig is how much of a channel's hchan is loaded, whatever the
// caller's configuration: Delve always shows the whole struct in print.
var chanLoadConfig = DefaultLoadConfig

// loadChan loads a channel's hchan: its fields are the children, so that
// print shows the struct as Delve does, and the first two, qcount and
// dataqsiz, give the one-line "chan int 2/3", Len and Cap. The buf field
// is typed as a pointer to an array of dataqsiz elements, so the buffered
// values show.
func (st *loadState) loadChan(v *Variable, t *godwarf.ChanType, mem MemoryReader) {
	hp, err := readUint(mem, v.Addr, ptrSize)
	if err != nil {
		v.Unreadable = err
		return
	}
	v.Base = hp
	if hp == 0 {
		return
	}
	ptr, ok := godwarf.ResolveTypedef(t.Type).(*godwarf.PtrType)
	if !ok {
		v.Unreadable = errors.New("bad channel type")
		return
	}
	hchan, ok := godwarf.ResolveTypedef(ptr.Elem).(*godwarf.StructType)
	if !ok || len(hchan.Fields) < 2 || hchan.Fields[0].Name != "qcount" || hchan.Fields[1].Name != "dataqsiz" {
		v.Unreadable = errors.New("bad channel type")
		return
	}
	hmem := cacheMemory(st.l.Mem, hp, hchan.Size())
	f := hchan.Field("dataqsiz")
	size, err := readUint(hmem, hp+uint64(f.ByteOffset), f.Type.Size())
	if err != nil {
		v.Unreadable = fmt.Errorf("unreadable dataqsiz: %w", err)
		return
	}
	sub := &loadState{l: st.l, cfg: chanLoadConfig, nodes: st.nodes}
	sv := sub.newVariable("", hp, withChanBuf(hchan, t.Elem, size), hmem)
	sub.load(sv, 0, hmem)
	st.nodes = sub.nodes
	if sv.Unreadable != nil {
		v.Unreadable = sv.Unreadable
		return
	}
	for i, name := range []string{"qcount", "dataqsiz"} {
		if sv.Children[i].Unreadable != nil {
			v.Unreadable = fmt.Errorf("unreadable %s: %w", name, sv.Children[i].Unreadable)
			return
		}
	}
	v.Children = sv.Children
	v.Len, _ = strconv.ParseInt(v.Children[0].Value, 10, 64)
	v.Cap, _ = strconv.ParseInt(v.Children[1].Value, 10, 64)
}

// withChanBuf returns hchan with its buf field retyped as *[n]elem.
func withChanBuf(hchan *godwarf.StructType, elem godwarf.Type, n uint64) *godwarf.StructType {
	if elem == nil || elem.Size() < 0 || n > hardMaxArray || (elem.Size() > 0 && n > (1<<40)/uint64(elem.Size())) {
		return hchan // a corrupt size: leave buf an unsafe.Pointer
	}
	arrName := "[" + strconv.FormatUint(n, 10) + "]" + TypeName(elem)
	arr := &godwarf.ArrayType{CommonType: godwarf.CommonType{Name: arrName, ByteSize: int64(n) * elem.Size()},
		Elem: elem, Count: int64(n), Stride: elem.Size()}
	buf := &godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*" + arrName, ByteSize: ptrSize}, Elem: arr}
	out := *hchan
	out.Fields = make([]*godwarf.StructField, len(hchan.Fields))
	for i, f := range hchan.Fields {
		out.Fields[i] = f
		if f.Name == "buf" {
			nf := *f
			nf.Type = buf
			out.Fields[i] = &nf
		}
	}
	return &out
}

// The layout of time.Time's wall word (see package time).
const (
	wallHasMonotonic = 1 << 63
	wallNsecShift    = 30
	wallEpochUnix    = -2682288000 // 1885-01-01, the epoch of wall's seconds
	maxLocNameLen    = 256
)

// describeTime sets a time.Time's Value to the instant it holds, written
// as Delve writes it: RFC 3339 in its location as the debugger's own time
// zone database names it (UTC when unknown), followed by the monotonic
// reading when there is one.
func (st *loadState) describeTime(v *Variable) {
	var wall, ext *Variable
	var loc *Variable
	for i := range v.Children {
		switch c := &v.Children[i]; c.Name {
		case "wall":
			wall = c
		case "ext":
			ext = c
		case "loc":
			loc = c
		}
	}
	if wall == nil || ext == nil || wall.Unreadable != nil || ext.Unreadable != nil || wall.Value == "" || ext.Value == "" {
		return
	}
	w, err1 := strconv.ParseUint(wall.Value, 10, 64)
	e, err2 := strconv.ParseInt(ext.Value, 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	var where *time.Location
	if loc != nil && loc.Unreadable == nil {
		if name, ok := st.locationName(loc); ok {
			where, _ = time.LoadLocation(name)
		}
	}
	if w&wallHasMonotonic != 0 {
		sec := int64(w << 1 >> (wallNsecShift + 1))
		t := time.Unix(sec+wallEpochUnix, 0).UTC()
		if where != nil {
			t = t.In(where)
		}
		v.Value = fmt.Sprintf("%s, %+d", t.Format(time.RFC3339), e)
		return
	}
	// ext holds seconds since year 1; adding them in steps that fit a
	// Duration, and giving up on absurd values as a corrupt one would be.
	const step = int64((1<<63 - 1) / int64(time.Second))
	if e > step*1000 || e < -step {
		return
	}
	var t time.Time
	for ; e > step; e -= step {
		t = t.Add(time.Duration(step) * time.Second)
	}
	t = t.Add(time.Duration(e) * time.Second)
	if where != nil {
		t = t.In(where)
	}
	v.Value = t.Format(time.RFC3339)
}

// locationName reads the name of the *time.Location loc points at.
func (st *loadState) locationName(loc *Variable) (string, bool) {
	ptr, ok := godwarf.ResolveTypedef(loc.DwarfType).(*godwarf.PtrType)
	if !ok || loc.Kind != reflect.Ptr {
		return "", false
	}
	p, err := readUint(st.l.Mem, loc.Addr, ptrSize)
	if err != nil || p == 0 {
		return "", false
	}
	s, ok := godwarf.ResolveTypedef(ptr.Elem).(*godwarf.StructType)
	if !ok {
		return "", false
	}
	f := s.Field("name")
	if f == nil {
		return "", false
	}
	nv := st.newVariable("name", p+uint64(f.ByteOffset), f.Type, st.l.Mem)
	if nv.Kind != reflect.String || nv.Unreadable != nil || nv.Len > maxLocNameLen {
		return "", false
	}
	sub := &loadState{l: st.l, cfg: LoadConfig{MaxStringLen: maxLocNameLen}}
	sub.load(nv, 0, st.l.Mem)
	return nv.Value, nv.Unreadable == nil
}

// loadClosureVars loads the variables a closure captured from its context
// block at ctx; those captured by reference ("&n") are shown as the
// variable they point at, under their own name.
func (st *loadState) loadClosureVars(v *Variable, vars []ClosureVar, ctx uint64, level int) {
	v.Len = int64(len(vars))
	if len(vars) == 0 || st.tooDeep(level) {
		return
	}
	v.Children = make([]Variable, 0, len(vars))
	for _, cv := range vars {
		c := st.newVariable(cv.Name, ctx+uint64(cv.Offset), cv.Type, st.l.Mem)
		if len(cv.Name) > 1 && cv.Name[0] == '&' && c.Kind == reflect.Ptr {
			p, err := readUint(st.l.Mem, c.Addr, ptrSize)
			if err != nil {
				c.Unreadable = err
			} else {
				c = st.newVariable(cv.Name[1:], p, pointee(cv.Type), st.l.Mem)
			}
		}
		st.load(c, level+1, st.l.Mem)
		v.Children = append(v.Children, *c)
	}
}
