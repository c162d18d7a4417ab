package op

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// fpState has known values in the low and high lanes of X0, X1 and X2.
func fpState() *xmmFile {
	fp := &xmmFile{}
	binary.LittleEndian.PutUint64(fp.Xmm[0][:], math.Float64bits(0.25))
	binary.LittleEndian.PutUint64(fp.Xmm[0][8:], 0xdeadbeefdeadbeef)
	binary.LittleEndian.PutUint64(fp.Xmm[1][:], math.Float64bits(-4))
	binary.LittleEndian.PutUint32(fp.Xmm[2][:], math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(fp.Xmm[2][4:], 0xffffffff)
	return fp
}

// xmmFile stands in for the debugger's FPRegisters, which this package
// must not import.
type xmmFile struct{ Xmm [16][16]byte }

func (f *xmmFile) DwarfXmm(n uint64) ([]byte, bool) {
	if !regnum.IsXmm(n) {
		return nil, false
	}
	return f.Xmm[n-regnum.Xmm0][:], true
}

func TestXmmPieces(t *testing.T) {
	loads := 0
	r := NewDwarfRegisters([]uint64{0: 7}, []bool{0: true})
	r.SetFPLoader(func() (VectorRegisters, error) { loads++; return fpState(), nil })

	// An integer in RAX does not touch the XMM registers.
	loc, err := Execute([]byte{byte(DW_OP_reg0)}, r, nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := loc.Bytes(8, r, nil); err != nil || binary.LittleEndian.Uint64(b) != 7 || loads != 0 {
		t.Fatalf("rax: % x, %v, %d loads", b, err, loads)
	}

	// float64 in X0: the low 8 bytes, not the garbage of the high lane.
	c := *r // scopes copy the registers; the load must still happen once
	loc, _ = Execute([]byte{byte(DW_OP_reg0 + 17)}, &c, nil, 8)
	b, err := loc.Bytes(8, &c, nil)
	if err != nil || math.Float64frombits(binary.LittleEndian.Uint64(b)) != 0.25 {
		t.Fatalf("float64 in x0: % x, %v", b, err)
	}
	// float32 in X2: 4 bytes.
	loc, _ = Execute([]byte{byte(DW_OP_reg0 + 19)}, r, nil, 8)
	b, err = loc.Bytes(4, r, nil)
	if err != nil || math.Float32frombits(binary.LittleEndian.Uint32(b)) != 1.5 {
		t.Fatalf("float32 in x2: % x, %v", b, err)
	}
	// complex128 split in X0 and X1 (DW_OP_reg17 piece 8 DW_OP_regx 18 piece 8).
	expr := []byte{byte(DW_OP_reg0 + 17), byte(DW_OP_piece), 8, byte(DW_OP_regx), 18, byte(DW_OP_piece), 8}
	loc, err = Execute(expr, r, nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	b, err = loc.Bytes(16, r, nil)
	re := math.Float64frombits(binary.LittleEndian.Uint64(b))
	im := math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	if err != nil || re != 0.25 || im != -4 {
		t.Fatalf("complex128: (%v, %v), %v", re, im, err)
	}
	if loads != 1 {
		t.Fatalf("FP registers loaded %d times, want 1", loads)
	}
	// A whole XMM register, high lane included.
	x0, err := r.RegBytes(regnum.Xmm0)
	if err != nil || binary.LittleEndian.Uint64(x0[8:]) != 0xdeadbeefdeadbeef {
		t.Fatalf("xmm0 = % x, %v", x0, err)
	}
}

func TestXmmUnavailable(t *testing.T) {
	loc := Location{Pieces: []Piece{{Kind: RegisterPiece, Reg: regnum.Xmm0}}}
	// A caller frame has no XMM registers: Go does not preserve them.
	caller := NewDwarfRegisters(nil, nil)
	if _, err := loc.Bytes(8, caller, nil); !errors.Is(err, ErrRegisterUnavailable) {
		t.Fatalf("no FP source: %v, want ErrRegisterUnavailable", err)
	}
	// A thread that cannot be read reports why.
	cause := errors.New("thread 42 is running")
	failing := NewDwarfRegisters(nil, nil)
	failing.SetFPLoader(func() (VectorRegisters, error) { return nil, cause })
	_, err := loc.Bytes(8, failing, nil)
	if !errors.Is(err, ErrRegisterUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("failing loader: %v", err)
	}
	if got := err.Error(); got != "piece 0: register xmm0: register value unavailable: thread 42 is running" {
		t.Fatalf("message %q", got)
	}
	// Captured values work without a loader, and are shared with copies.
	set := NewDwarfRegisters(nil, nil)
	set.SetFPRegisters(fpState())
	cp := NewDwarfRegisters(nil, nil)
	cp.ShareFPRegisters(set)
	if b, err := loc.Bytes(8, cp, nil); err != nil || math.Float64frombits(binary.LittleEndian.Uint64(b)) != 0.25 {
		t.Fatalf("shared captured X0: % x, %v", b, err)
	}
}
