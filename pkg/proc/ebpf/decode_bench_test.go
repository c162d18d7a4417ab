package ebpf

import (
	"encoding/binary"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// hotRecord builds the ring buffer record the probe writes for main.hot of
// the hotloop fixture: one register segment holding v.
func hotRecord(kind uint8, v uint64) []byte {
	raw := make([]byte, 40+16+8)
	le := binary.LittleEndian
	le.PutUint64(raw[0:], 7)     // goid
	le.PutUint64(raw[8:], 1000)  // time
	le.PutUint64(raw[16:], 4096) // stack offset
	le.PutUint32(raw[28:], uint32(kind))
	le.PutUint16(raw[32:], 24)
	raw[34] = kind
	le.PutUint32(raw[48:], 8) // want
	le.PutUint16(raw[52:], 8) // len
	le.PutUint64(raw[56:], v)
	return raw
}

// decodeTracer prepares, without attaching anything, a Tracer for main.hot.
func decodeTracer(tb testing.TB) *Tracer {
	path := fixture.Build(tb, "hotloop", fixture.Flavour{})
	bi, err := bininfo.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bi.Close() })
	d, err := bi.DWARF()
	if err != nil {
		tb.Fatal(err)
	}
	fn, err := bi.LookupFunc("main.hot")
	if err != nil {
		tb.Fatal(err)
	}
	opts := withDefaults(DefaultOptions)
	t := &Tracer{bi: bi, opts: opts, types: godwarf.New(d), static: staticMemory{bi: bi}, pairs: newPairer()}
	tf, err := t.prepare(fn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	t.funcs = []*tracedFunc{tf}
	return t
}

// TestDecodeHotRecord checks the records the benchmark decodes.
func TestDecodeHotRecord(t *testing.T) {
	tr := decodeTracer(t)
	call, err := tr.decode(hotRecord(evCall, 41))
	if err != nil || call.Kind != event.Call || call.Goroutine != 7 || len(call.Values) != 1 || text(call.Values[0]) != "i=41" {
		t.Fatalf("call %+v, %v", call, err)
	}
	ret, err := tr.decode(hotRecord(evReturn, 124))
	if err != nil || ret.Kind != event.Return || ret.Unpaired || len(ret.Values) != 1 || text(ret.Values[0]) != "~r0=124" {
		t.Fatalf("return %+v %v, %v", ret, ret.Values, err)
	}
}

// BenchmarkDecodeCallReturn measures the user-space cost of decoding one
// call and its return (two events), the reader's work per traced call.
func BenchmarkDecodeCallReturn(b *testing.B) {
	tr := decodeTracer(b)
	call, ret := hotRecord(evCall, 41), hotRecord(evReturn, 124)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.decode(call); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.decode(ret); err != nil {
			b.Fatal(err)
		}
	}
}
