package godwarf_test

import (
	"debug/dwarf"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

func TestMemberOffset(t *testing.T) {
	member := func(v any) *dwarf.Entry {
		return &dwarf.Entry{Tag: dwarf.TagMember, Field: []dwarf.Field{{Attr: dwarf.AttrDataMemberLoc, Val: v}}}
	}
	for _, c := range []struct {
		name string
		e    *dwarf.Entry
		off  int64
		ok   bool
	}{
		{"constant", member(int64(24)), 24, true},
		{"plus_uconst", member([]byte{0x23, 0x90, 0x01}), 144, true},
		{"absent", &dwarf.Entry{Tag: dwarf.TagMember}, 0, false},
		{"other expression", member([]byte{0x91, 0x08}), 0, false},
		{"trailing bytes", member([]byte{0x23, 0x08, 0x06}), 8, false},
		{"truncated uleb", member([]byte{0x23, 0x90}), 0, false},
	} {
		if off, ok := godwarf.MemberOffset(c.e); off != c.off || ok != c.ok {
			t.Errorf("%s: MemberOffset = %d, %v; want %d, %v", c.name, off, ok, c.off, c.ok)
		}
	}
}
