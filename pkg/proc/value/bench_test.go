package value

import (
	"encoding/binary"
	"reflect"
	"runtime"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// segments is memory made of separate blocks, viewed in place as an eBPF
// event's captured buffer is.
type segments []segment

type segment struct {
	base uint64
	data []byte
}

func (m segments) ViewMemory(addr uint64, size int) []byte {
	for _, s := range m {
		if addr >= s.base && addr-s.base+uint64(size) <= uint64(len(s.data)) {
			return s.data[addr-s.base : addr-s.base+uint64(size)]
		}
	}
	return nil
}

func (m segments) ReadMemory(buf []byte, addr uint64) (int, error) {
	if b := m.ViewMemory(addr, len(buf)); b != nil {
		return copy(buf, b), nil
	}
	return 0, syscall.EFAULT
}

// BenchmarkLoadBig loads hotloop's main.big(s string, it *Item) as a trace
// of pointer depth 1 does, per event, in thread CPU time.
func BenchmarkLoadBig(b *testing.B) {
	intT := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "int", ByteSize: 8}, Kind: reflect.Int}
	u8 := &godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*uint8", ByteSize: 8},
		Elem: &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "uint8", ByteSize: 1}, Kind: reflect.Uint8}}
	strT := &godwarf.StringType{StructType: godwarf.StructType{CommonType: godwarf.CommonType{Name: "string", ByteSize: 16},
		Fields: []*godwarf.StructField{{Name: "str", Type: u8}, {Name: "len", Type: intT, ByteOffset: 8}}}}
	item := &godwarf.StructType{CommonType: godwarf.CommonType{Name: "main.Item", ByteSize: 32}}
	itemPtr := &godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*main.Item", ByteSize: 8}, Elem: item}
	item.Fields = []*godwarf.StructField{{Name: "Weight", Type: intT}, {Name: "Tag", Type: strT, ByteOffset: 8},
		{Name: "Next", Type: itemPtr, ByteOffset: 24}}

	le := binary.LittleEndian
	sHdr, itArg, itBody := make([]byte, 16), make([]byte, 8), make([]byte, 32)
	le.PutUint64(sHdr, 0x4000)
	le.PutUint64(sHdr[8:], 40)
	le.PutUint64(itArg, 0xc000)
	le.PutUint64(itBody, 3)
	le.PutUint64(itBody[8:], 0x5000)
	le.PutUint64(itBody[16:], 3)
	le.PutUint64(itBody[24:], 0xd000)
	nextBody := make([]byte, 32)
	le.PutUint64(nextBody, 8)
	le.PutUint64(nextBody[8:], 0x6000)
	le.PutUint64(nextBody[16:], 4)
	mem := segments{{0x1000, sHdr}, {0x2000, itArg}, {0xc000, itBody}, {0xd000, nextBody},
		{0x4000, []byte("0123456789012345678901234567890123456789")}, {0x5000, []byte("tag")}, {0x6000, []byte("next")}}
	cfg := DefaultLoadConfig
	cfg.FollowPointers, cfg.MaxVariableRecurse = true, 1
	l := &Loader{Mem: mem, Arena: &Arena{}}

	b.ReportAllocs()
	runtime.LockOSThread() // for threadCPU
	defer runtime.UnlockOSThread()
	before := testenv.ThreadCPU()
	var s, it *Variable
	for i := 0; i < b.N; i++ {
		l.Arena.Reset()
		s = l.Load("s", 0x1000, strT, cfg)
		it = l.Load("it", 0x2000, itemPtr, cfg)
	}
	b.ReportMetric(float64(testenv.ThreadCPU()-before)/float64(b.N), "cpu-ns/op")
	if s.Value != "0123456789012345678901234567890123456789" || len(it.Children) != 1 || len(it.Children[0].Children) != 3 ||
		it.Children[0].Children[1].Value != "tag" || it.Children[0].Children[2].Children[0].Children[1].Value != "next" {
		b.Fatalf("loaded %+v %+v", s, it)
	}
}
