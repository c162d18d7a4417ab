package arch

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

func TestFxsaveRoundTrip(t *testing.T) {
	img := make([]byte, FxsaveSize)
	img[0] = 0x7f // x87 control word: must survive PutFxsave
	binary.LittleEndian.PutUint32(img[24:], 0x1f80)
	binary.LittleEndian.PutUint64(img[160:], math.Float64bits(2.5))
	binary.LittleEndian.PutUint64(img[160+16*15+8:], 0x1122334455667788)
	f, err := FPRegistersFromFxsave(img)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mxcsr != 0x1f80 || math.Float64frombits(f.Low64(0)) != 2.5 {
		t.Fatalf("decoded mxcsr %#x x0 %v", f.Mxcsr, math.Float64frombits(f.Low64(0)))
	}
	x15, ok := f.DwarfXmm(regnum.Xmm15)
	if !ok || binary.LittleEndian.Uint64(x15[8:]) != 0x1122334455667788 {
		t.Fatalf("xmm15 = % x, %v", x15, ok)
	}
	if _, ok := f.DwarfXmm(regnum.Rip); ok {
		t.Fatal("rip is not an XMM register")
	}
	f.Xmm[1][0] = 0xAA
	out := make([]byte, FxsaveSize)
	out[0] = 0x7f
	if err := f.PutFxsave(out); err != nil {
		t.Fatal(err)
	}
	if out[0] != 0x7f || out[160+16] != 0xAA || string(out[160:176]) != string(img[160:176]) {
		t.Fatalf("re-encoded image differs: % x", out[:32])
	}
	if _, err := FPRegistersFromFxsave(img[:100]); err == nil {
		t.Fatal("short image accepted")
	}
}
