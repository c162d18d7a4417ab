package bininfo

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// funcPostSetup is the start of gofumpt v0.7.0's format.File.func2 (the
// `post` closure) built -N -l by go1.22.12, at 0x67e960, up to its first
// statement (format.go:148): stack check, frame setup, the spill of c
// (AX), the copies of f (context +8) and &topFuncType (context +16), and
// the zeroing of ~r0. The breakpoint is at the SUBQ (prologue_end).
const funcPostSetup = "493b6610" + "0f869c010000" + "55" + "4889e5" + "4883ec60" +
	"4889442470" + "488b4a08" + "48894c2430" + "488b4a10" + "48894c2458" + "c644241a00"

func TestSetupStoresOfGo122Closure(t *testing.T) {
	code, err := hex.DecodeString(funcPostSetup)
	if err != nil {
		t.Fatal(err)
	}
	stores, until := scanSetup(code, 0x67e960)
	// CFA offsets as DWARF gives them: c's spill at the CFA (its location
	// list's DW_OP_call_frame_cfa), f fbreg -64, &topFuncType fbreg -24,
	// ~r0 fbreg -86.
	want := []SetupStore{
		{PC: 0x67e972, CFAOff: 0, Size: 8, CtxOff: -1},
		{PC: 0x67e97b, CFAOff: -64, Size: 8, CtxOff: 8},
		{PC: 0x67e984, CFAOff: -24, Size: 8, CtxOff: 16},
		{PC: 0x67e989, CFAOff: -86, Size: 1, CtxOff: -1},
	}
	if !reflect.DeepEqual(stores, want) {
		t.Errorf("stores:\n got %+v\nwant %+v", stores, want)
	}
	if until != 0x67e98e {
		t.Errorf("context held until %#x, want the end of the setup 0x67e98e", until)
	}

	// With DX overwritten before the copies (MOVQ 0x8(SP), DX), the
	// store is still seen, but it is no copy of the context, which DX no
	// longer holds from that instruction on.
	clobbered, _ := hex.DecodeString("493b6610" + "0f869c010000" + "55" + "4889e5" + "4883ec60" + "488b542408" +
		"488b4a08" + "48894c2430")
	stores, until = scanSetup(clobbered, 0x1000)
	if until != 0x1012 {
		t.Errorf("clobbered: context held until %#x, want 0x1012", until)
	}
	if want := []SetupStore{{PC: 0x101b, CFAOff: -64, Size: 8, CtxOff: -1}}; !reflect.DeepEqual(stores, want) {
		t.Errorf("clobbered: stores\n got %+v\nwant %+v", stores, want)
	}

	// _fixtures/truth, go1.22 -N -l: greet's closure loads two words of
	// name before storing them; capture's loads its last word into DX.
	for _, c := range []struct {
		what  string
		code  string
		entry uint64
		want  []SetupStore
		until uint64
	}{
		{"greet.func1", "493b6610" + "7659" + "55" + "4889e5" + "4883ec50" + "488b7208" + "488b7a10" + "4889742430" +
			"48897c2438" + "488b5218" + "4889542418" + "440f117c2420", 0x49c3a0, []SetupStore{
			{PC: 0x49c3b6, CFAOff: -48, Size: 8, CtxOff: 8}, {PC: 0x49c3bb, CFAOff: -40, Size: 8, CtxOff: 16},
			{PC: 0x49c3c4, CFAOff: -72, Size: 8, CtxOff: 24}, {PC: 0x49c3c9, CFAOff: -64, Size: 16, CtxOff: -1},
		}, 0x49c3c0},
		{"capture.func1", "55" + "4889e5" + "4883ec18" + "4889442428" + "488b4a08" + "48894c2410" + "488b5210" +
			"4889542408" + "48c7042400000000", 0x49c260, []SetupStore{
			{PC: 0x49c268, CFAOff: 0, Size: 8, CtxOff: -1}, {PC: 0x49c271, CFAOff: -24, Size: 8, CtxOff: 8},
			{PC: 0x49c27a, CFAOff: -32, Size: 8, CtxOff: 16}, {PC: 0x49c27f, CFAOff: -40, Size: 8, CtxOff: -1},
		}, 0x49c276},
	} {
		code, err := hex.DecodeString(c.code)
		if err != nil {
			t.Fatal(err)
		}
		stores, until := scanSetup(code, c.entry)
		if !reflect.DeepEqual(stores, c.want) {
			t.Errorf("%s: stores\n got %+v\nwant %+v", c.what, stores, c.want)
		}
		if until != c.until {
			t.Errorf("%s: context held until %#x, want %#x", c.what, until, c.until)
		}
	}
}
