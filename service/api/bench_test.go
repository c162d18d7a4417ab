package api

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// bigArgs are the loaded trees of hotloop's main.big(s string, it *Item)
// as a trace of depth 1 loads them: it.Next is followed too.
func bigArgs() []*value.Variable {
	s := &value.Variable{Name: "s", Type: "string", Kind: reflect.String, Addr: 0x1000, Base: 0x4b0000,
		Value: "0123456789012345678901234567890123456789", Len: 40}
	nilNext := value.Variable{Name: "Next", Type: "*main.Item", Kind: reflect.Ptr, Addr: 0xd018, Value: "0", Len: 1,
		Children: []value.Variable{{Type: "main.Item", Kind: reflect.Struct}}}
	next := value.Variable{Name: "Next", Type: "*main.Item", Kind: reflect.Ptr, Addr: 0xc018, Value: "53248", Len: 1,
		Children: []value.Variable{{Type: "main.Item", Kind: reflect.Struct, Addr: 0xd000, Len: 3, Children: []value.Variable{
			{Name: "Weight", Type: "int", Kind: reflect.Int, Addr: 0xd000, Value: "8"},
			{Name: "Tag", Type: "string", Kind: reflect.String, Addr: 0xd008, Base: 0x6000, Value: "next", Len: 4},
			nilNext,
		}}}}
	item := value.Variable{Type: "main.Item", Kind: reflect.Struct, Addr: 0xc000012000, Len: 3, Children: []value.Variable{
		{Name: "Weight", Type: "int", Kind: reflect.Int, Addr: 0xc000012000, Value: "3"},
		{Name: "Tag", Type: "string", Kind: reflect.String, Addr: 0xc000012008, Base: 0x4b1000, Value: "tag", Len: 3},
		next,
	}}
	it := &value.Variable{Name: "it", Type: "*main.Item", Kind: reflect.Ptr, Addr: 0x2000, Value: "824633794560", Len: 1,
		Children: []value.Variable{item}}
	return []*value.Variable{s, it}
}

// BenchmarkAppendVarBig is what printing main.big's arguments costs a
// trace per event.
func BenchmarkAppendVarBig(b *testing.B) {
	args := bigArgs()
	var out []byte
	b.ReportAllocs()
	runtime.LockOSThread() // for threadCPU
	defer runtime.UnlockOSThread()
	before := testenv.ThreadCPU()
	for i := 0; i < b.N; i++ {
		out = out[:0]
		for _, v := range args {
			out = AppendVar(out, v)
		}
	}
	b.ReportMetric(float64(testenv.ThreadCPU()-before)/float64(b.N), "cpu-ns/op")
	if want := `"0123456789012345678901234567890123456789"*main.Item {Weight: 3, Tag: "tag", Next: *main.Item {Weight: 8, Tag: "next", Next: *main.Item nil}}`; string(out) != want {
		b.Fatalf("got %s, want %s", out, want)
	}
}
