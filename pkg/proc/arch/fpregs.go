package arch

import (
	"encoding/binary"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// NumXmm is how many XMM registers an amd64 thread has (XMM0–XMM15).
const NumXmm = 16

// The FXSAVE image (Linux's user_fpregs_struct) that PTRACE_GETFPREGS
// returns: MXCSR at byte 24, the XMM registers at byte 160, 16 bytes each.
const (
	FxsaveSize        = 512
	fxsaveMxcsrOffset = 24
	fxsaveXmmOffset   = 160
)

// FPRegisters is the SSE state of one amd64 thread. It is read apart from
// Registers because the hot paths (breakpoints, stepping, unwinding) never
// need it; x87 and AVX upper halves are not kept.
type FPRegisters struct {
	// Xmm holds XMM0–XMM15, each as its 16 bytes in memory order (the low
	// lane first), which is how DWARF pieces address a register.
	Xmm   [NumXmm][16]byte
	Mxcsr uint32
}

// DwarfXmm returns the 16 bytes of the XMM register with DWARF number n.
func (f *FPRegisters) DwarfXmm(n uint64) ([]byte, bool) {
	if !regnum.IsXmm(n) {
		return nil, false
	}
	return f.Xmm[n-regnum.Xmm0][:], true
}

// Low64 returns the low 8 bytes of XMMi, where a float64 lives.
func (f *FPRegisters) Low64(i int) uint64 {
	if i < 0 || i >= NumXmm {
		return 0
	}
	return binary.LittleEndian.Uint64(f.Xmm[i][:8])
}

// FPRegistersFromFxsave decodes the SSE part of an FXSAVE image.
func FPRegistersFromFxsave(img []byte) (FPRegisters, error) {
	var f FPRegisters
	if len(img) < FxsaveSize {
		return f, fmt.Errorf("FXSAVE image of %d bytes, want %d", len(img), FxsaveSize)
	}
	f.Mxcsr = binary.LittleEndian.Uint32(img[fxsaveMxcsrOffset:])
	for i := range f.Xmm {
		copy(f.Xmm[i][:], img[fxsaveXmmOffset+16*i:])
	}
	return f, nil
}

// PutFxsave writes the SSE state into an FXSAVE image, leaving its x87
// part alone so that writing registers back does not disturb it.
func (f *FPRegisters) PutFxsave(img []byte) error {
	if len(img) < FxsaveSize {
		return fmt.Errorf("FXSAVE image of %d bytes, want %d", len(img), FxsaveSize)
	}
	binary.LittleEndian.PutUint32(img[fxsaveMxcsrOffset:], f.Mxcsr)
	for i := range f.Xmm {
		copy(img[fxsaveXmmOffset+16*i:], f.Xmm[i][:])
	}
	return nil
}
