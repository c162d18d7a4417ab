package godwarf_test

import (
	"debug/elf"
	"errors"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

func open(t *testing.T, f fixture.Flavour) (*godwarf.Types, *elf.File) {
	t.Helper()
	return openFixture(t, "values", f)
}

// openFixture reads the types of fixture name, built as f.
func openFixture(t *testing.T, name string, f fixture.Flavour) (*godwarf.Types, *elf.File) {
	t.Helper()
	ef, err := elf.Open(fixture.Build(t, name, f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	return godwarf.New(d), ef
}

func mustName(t *testing.T, types *godwarf.Types, name string) godwarf.Type {
	t.Helper()
	typ, err := types.ByName(name)
	if err != nil {
		t.Fatalf("ByName(%q): %v", name, err)
	}
	if got := typ.Common().Name; got != name {
		t.Fatalf("ByName(%q) returned %q", name, got)
	}
	return typ
}

func TestTypes(t *testing.T) {
	for _, tc := range []string{"", "go1.22.12"} {
		t.Run(tc, func(t *testing.T) {
			types, _ := open(t, fixture.Flavour{Toolchain: tc})

			// Named struct: the typedef variables use, with the embedded flag kept.
			outer := mustName(t, types, "main.Outer")
			if _, ok := outer.(*godwarf.TypedefType); !ok {
				t.Fatalf("main.Outer is %T, want the typedef", outer)
			}
			st, ok := godwarf.ResolveTypedef(outer).(*godwarf.StructType)
			if !ok || st.Size() != 64 || outer.Size() != 64 {
				t.Fatalf("main.Outer resolves to %T size %d", godwarf.ResolveTypedef(outer), outer.Size())
			}
			var got []string
			for _, f := range st.Fields {
				got = append(got, f.Name, f.Type.String())
			}
			want := []string{"Point", "main.Point", "Z", "int", "Tags", "[]string"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fields %v, want %v", got, want)
			}
			if !st.Fields[0].Embedded || st.Fields[1].Embedded || st.Fields[1].ByteOffset != 32 || st.Fields[2].ByteOffset != 40 {
				t.Errorf("embedded/offsets wrong: %+v %+v %+v", *st.Fields[0], *st.Fields[1], *st.Fields[2])
			}
			if sl, ok := st.Fields[2].Type.(*godwarf.SliceType); !ok || sl.Elem.String() != "string" {
				t.Errorf("Tags is %T", st.Fields[2].Type)
			}

			m, ok := mustName(t, types, "map[string]int").(*godwarf.MapType)
			if !ok || m.Key.String() != "string" || m.Elem.String() != "int" || m.GoKind != reflect.Map {
				t.Fatalf("map[string]int decoded as %#v", m)
			}
			c, ok := mustName(t, types, "chan int").(*godwarf.ChanType)
			if !ok || c.Elem.String() != "int" {
				t.Fatalf("chan int decoded as %#v", c)
			}
			e, ok := mustName(t, types, "error").(*godwarf.InterfaceType)
			if !ok || e.IsEmptyInterface() {
				t.Fatalf("error decoded as %#v", e)
			}
			a, ok := mustName(t, types, "interface {}").(*godwarf.InterfaceType)
			if !ok || !a.IsEmptyInterface() {
				t.Fatalf("interface {} decoded as %#v", a)
			}
			if up, ok := mustName(t, types, "unsafe.Pointer").(*godwarf.PtrType); !ok || up.Elem != nil {
				t.Fatalf("unsafe.Pointer decoded as %#v", up)
			}
			if b, ok := mustName(t, types, "main.Celsius").(*godwarf.BasicType); !ok || b.Kind != reflect.Float64 {
				t.Fatalf("main.Celsius decoded as %#v", b)
			}
			arr, ok := mustName(t, types, "[2][2]string").(*godwarf.ArrayType)
			if !ok || arr.Count != 2 || arr.Stride != 32 || arr.Elem.String() != "[2]string" {
				t.Fatalf("[2][2]string decoded as %#v", arr)
			}
			fn, ok := mustName(t, types, "func(string, ...interface {}) string").(*godwarf.FuncType)
			// Go 1.22 lists results as pointer parameters without DW_AT_variable_parameter.
			if !ok || fn.Size() != 8 || (tc == "" && (len(fn.Params) != 2 || len(fn.Results) != 1)) {
				t.Fatalf("fmt.Sprintf's type decoded as %#v", fn)
			}
			// Recursive types terminate and share the cached type.
			node := godwarf.ResolveTypedef(mustName(t, types, "main.Node")).(*godwarf.StructType)
			next := node.Field("Next").Type.(*godwarf.PtrType)
			if godwarf.ResolveTypedef(next.Elem) != godwarf.Type(node) {
				t.Errorf("*main.Node does not point back at main.Node")
			}
			mustName(t, types, "main.Pair[string,int]")
			mustName(t, types, "runtime.g")

			if _, err := types.ByName("main.NoSuchType"); !errors.Is(err, godwarf.ErrNotFound) {
				t.Errorf("missing type: err = %v", err)
			}
		})
	}
}

// TestRuntimeType maps runtime type descriptors (as interfaces hold
// them) back to DWARF types.
func TestRuntimeType(t *testing.T) {
	types, _ := open(t, fixture.Flavour{})
	for _, name := range []string{"main.Point", "*errors.errorString", "int", "main.Celsius"} {
		typ := mustName(t, types, name)
		rt := godwarf.ResolveTypedef(typ).Common().RuntimeType
		if rt == 0 {
			rt = typ.Common().RuntimeType
		}
		if rt == 0 {
			t.Fatalf("%s has no DW_AT_go_runtime_type", name)
		}
		back, err := types.ByRuntimeType(rt)
		if err != nil {
			t.Fatalf("ByRuntimeType(%#x) for %s: %v", rt, name, err)
		}
		if back.Common().Name != name {
			t.Errorf("ByRuntimeType(%#x) = %s, want %s", rt, back.Common().Name, name)
		}
	}
	if _, err := types.ByRuntimeType(1); !errors.Is(err, godwarf.ErrNotFound) {
		t.Errorf("bogus offset: err = %v", err)
	}
}

func TestConstName(t *testing.T) {
	types, _ := open(t, fixture.Flavour{})
	color := mustName(t, types, "main.Color")
	// Green and Blue are single bits, so 3 reads as their union, as in Delve.
	for v, want := range map[int64]string{0: "Red", 1: "Green", 2: "Blue", 3: "Green|Blue", 4: "", -1: ""} {
		if got := types.ConstName(color, v); got != want {
			t.Errorf("ConstName(main.Color, %d) = %q, want %q", v, got, want)
		}
	}
	if got := types.ConstName(mustName(t, types, "int"), 1); got != "" {
		t.Errorf("ConstName(int, 1) = %q", got)
	}
}

// TestConstNameFlags checks Delve's flag-set descriptions: a value that is
// no constant is spelled as the union of single-bit constants, in
// ascending order, when every bit has one.
func TestConstNameFlags(t *testing.T) {
	types, _ := openFixture(t, "valuesmore", fixture.Flavour{})
	perm, mode := mustName(t, types, "main.Perm"), mustName(t, types, "main.Mode")
	for _, c := range []struct {
		typ  godwarf.Type
		v    int64
		want string
	}{
		{perm, 1, "PermRead"}, {perm, 3, "PermRead|PermWrite"}, {perm, 7, "PermRead|PermWrite|PermExec"},
		{perm, 6, "PermWrite|PermExec"}, {perm, 0, ""}, {perm, 9, ""},
		{mode, 3, "ModeA|ModeB"}, {mode, 7, "ModeAll"}, {mode, 5, "ModeA|ModeC"}, {mode, 8, ""},
	} {
		if got := types.ConstName(c.typ, c.v); got != c.want {
			t.Errorf("ConstName(%s, %d) = %q, want %q", c.typ.Common().Name, c.v, got, c.want)
		}
	}
}
