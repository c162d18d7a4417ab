package godwarf

import (
	"cmp"
	"debug/dwarf"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// constant is one DW_TAG_constant of a named integer type.
type constant struct {
	name  string // qualified; without the type's package once sorted
	value int64
}

// constIndex holds every constant of the binary by the DIE offset of its
// type, as Delve indexes them: a type's constants may be declared by any
// package (os declares ModeDir of io/fs.FileMode, main a combination of a
// library's flags).
type constIndex struct {
	read   bool
	byType map[dwarf.Offset][]constant
	sorted map[dwarf.Offset]bool
	all    []namedConst   // in DWARF order, for lookups by name
	byName map[string]int // first index in all of each qualified name
}

// namedConst is one constant with its qualified name and type.
type namedConst struct {
	name  string
	typ   dwarf.Offset
	value int64
}

// langGo is DW_LANG_Go.
const langGo = 0x16

// ConstName returns the name of the constant of typ's named type whose
// value is v ("Green" for main.Color(1); another package's constant keeps
// its package, "main.ReadWrite"), or, as Delve does for flag sets, the
// single-bit constants whose union is v ("Read|Write" for 3); "" when
// neither describes v. Like Delve, the constants are sorted by value and
// the first equal one names v. The whole .debug_info is read once, the
// first time a named type is asked.
func (t *Types) ConstName(typ Type, v int64) string {
	if typ == nil {
		return ""
	}
	name := typ.Common().Name
	if !strings.Contains(name, ".") || strings.HasPrefix(name, "C.") {
		// Only user-defined types: an int of 1 is not io.SeekCurrent.
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	consts := t.constsOf(typ.Common().Offset, name)
	for _, c := range consts {
		if c.value == v {
			return c.name
		}
	}
	return flagNames(consts, v)
}

// Constant finds the constant called name ("main.High") or whose name
// ends in "/"+name ("flags.Read" for fixtures/truth/flags.Read), as
// Delve's expressions do, and returns its type and value.
func (t *Types) Constant(name string) (Type, int64, error) {
	t.mu.Lock()
	t.readConstIndex()
	var found *namedConst
	if i, ok := t.consts.byName[name]; ok {
		found = &t.consts.all[i]
	}
	for i := 0; found == nil && i < len(t.consts.all); i++ {
		if c := &t.consts.all[i]; strings.HasSuffix(c.name, "/"+name) {
			found = c
		}
	}
	t.mu.Unlock()
	if found == nil {
		return nil, 0, ErrNotFound
	}
	typ, err := t.Type(found.typ)
	if err != nil {
		return nil, 0, fmt.Errorf("type of constant %s: %w", found.name, err)
	}
	return typ, found.value, nil
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

// constsOf returns the constants of the type at off named name, sorted by
// value, their names relative to the type's package.
func (t *Types) constsOf(off dwarf.Offset, name string) []constant {
	ci := t.readConstIndex()
	cs := ci.byType[off]
	if !ci.sorted[off] {
		ci.sorted[off] = true
		// The same sort as Delve's, over the same order (the DWARF's),
		// so that equal values resolve to the same name.
		slices.SortFunc(cs, func(a, b constant) int { return cmp.Compare(a.value, b.value) })
		prefix := packageOf(name) + "."
		for i := range cs {
			cs[i].name = strings.TrimPrefix(cs[i].name, prefix)
		}
	}
	return cs
}

// readConstIndex reads the constants the first time they are needed;
// t.mu must be held.
func (t *Types) readConstIndex() *constIndex {
	ci := &t.consts
	if !ci.read {
		ci.read = true
		ci.all = t.readConsts()
		ci.byType = make(map[dwarf.Offset][]constant)
		ci.byName = make(map[string]int)
		for i, c := range ci.all {
			ci.byType[c.typ] = append(ci.byType[c.typ], constant{name: c.name, value: c.value})
			if _, dup := ci.byName[c.name]; !dup {
				ci.byName[c.name] = i
			}
		}
		ci.sorted = make(map[dwarf.Offset]bool)
	}
	return ci
}

// readConsts collects the top-level DW_TAG_constant entries of every
// compile unit; those of C units are named C.x, as cgo spells them.
func (t *Types) readConsts() []namedConst {
	var m []namedConst
	r := t.data.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			return m
		}
		if cu.Tag != dwarf.TagCompileUnit {
			if cu.Children {
				r.SkipChildren()
			}
			continue
		}
		lang, _ := cu.Val(dwarf.AttrLanguage).(int64)
		for cu.Children {
			e, err := r.Next()
			if err != nil {
				return m
			}
			if e == nil || e.Tag == 0 {
				break
			}
			if e.Children {
				r.SkipChildren()
			}
			if e.Tag != dwarf.TagConstant {
				continue
			}
			cname, okn := e.Val(dwarf.AttrName).(string)
			val, okv := e.Val(dwarf.AttrConstValue).(int64)
			off, okt := e.Val(dwarf.AttrType).(dwarf.Offset)
			if !okn || !okv || !okt {
				continue
			}
			if lang != langGo {
				cname = "C." + cname
			}
			m = append(m, namedConst{name: cname, typ: off, value: val})
		}
	}
}

// packageOf returns the package path of a qualified name:
// "io/fs" for "io/fs.FileMode".
func packageOf(name string) string {
	slash := max(strings.LastIndexByte(name, '/'), 0)
	if i := strings.IndexByte(name[slash:], '.'); i >= 0 {
		return name[:slash+i]
	}
	return ""
}
