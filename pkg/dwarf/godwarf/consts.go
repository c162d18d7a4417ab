package godwarf

import (
	"debug/dwarf"
	"math/bits"
	"sort"
	"strings"
)

// constant is one DW_TAG_constant of a named integer type.
type constant struct {
	name  string // without the package prefix, as Delve prints it
	value int64
}

// ConstName returns the name of the constant of typ's named type whose
// value is v ("Green" for main.Color(1)), or, as Delve does for flag
// sets, the single-bit constants whose union is v ("Read|Write" for 3);
// "" when neither describes v. Only the compile unit of the type's
// package is read, the first time one of its types is asked.
func (t *Types) ConstName(typ Type, v int64) string {
	if typ == nil {
		return ""
	}
	name := typ.Common().Name
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || strings.ContainsAny(name, "[]*(){} ") {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	consts := t.constsOf(name[:dot])[name]
	i := sort.Search(len(consts), func(i int) bool { return consts[i].value >= v })
	if i < len(consts) && consts[i].value == v {
		return consts[i].name
	}
	return flagNames(consts, v)
}

// flagNames spells v as a union of the single-bit constants, in
// ascending order, or "" when bits of v have no constant.
func flagNames(consts []constant, v int64) string {
	if v == 0 {
		return ""
	}
	var names []string
	for _, c := range consts {
		if bits.OnesCount64(uint64(c.value)) == 1 && v&c.value != 0 {
			names = append(names, c.name)
			v &^= c.value
		}
	}
	if v != 0 {
		return ""
	}
	return strings.Join(names, "|")
}

// constsOf indexes the constants declared in package pkg by type name.
func (t *Types) constsOf(pkg string) map[string][]constant {
	if m, ok := t.consts[pkg]; ok {
		return m
	}
	if t.consts == nil {
		t.consts = make(map[string]map[string][]constant)
	}
	m := make(map[string][]constant)
	t.consts[pkg] = m
	r := t.data.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			break
		}
		if cu.Tag != dwarf.TagCompileUnit {
			if cu.Children {
				r.SkipChildren()
			}
			continue
		}
		if n, _ := cu.Val(dwarf.AttrName).(string); n != pkg {
			r.SkipChildren()
			continue
		}
		for {
			e, err := r.Next()
			if err != nil || e == nil || e.Tag == 0 {
				break
			}
			if e.Children {
				r.SkipChildren()
			}
			if e.Tag != dwarf.TagConstant {
				continue
			}
			cname, _ := e.Val(dwarf.AttrName).(string)
			val, ok := e.Val(dwarf.AttrConstValue).(int64)
			off, okt := e.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok || !okt || !strings.HasPrefix(cname, pkg+".") {
				continue
			}
			ct, err := t.readType(off, 0)
			if err != nil || ct.Common().Name == "" {
				continue
			}
			tn := ct.Common().Name
			m[tn] = append(m[tn], constant{name: cname[len(pkg)+1:], value: val})
		}
		break
	}
	for _, cs := range m {
		sort.Slice(cs, func(i, j int) bool { return cs[i].value < cs[j].value })
	}
	return m
}
