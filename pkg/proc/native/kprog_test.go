package native

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// TestNotReplayable: the instructions a kernel condition's probe must not
// sit on, because running them twice from the registers of before would
// not do what running them once did.
func TestNotReplayable(t *testing.T) {
	for _, c := range []struct {
		code []byte
		want string
	}{
		{[]byte{0x48, 0x89, 0x44, 0x24, 0x18}, ""},                              // MOVQ AX, 0x18(SP)
		{[]byte{0x55}, ""},                                                      // PUSHQ BP
		{[]byte{0x48, 0x83, 0xec, 0x10}, ""},                                    // SUBQ $0x10, SP
		{[]byte{0x48, 0x03, 0x03}, ""},                                          // ADDQ 0(BX), AX: reads memory only
		{[]byte{0x48, 0x83, 0x00, 0x01}, "a read-modify-write of memory (ADD)"}, // ADDQ $1, 0(AX)
		{[]byte{0x48, 0x87, 0x08}, "a read-modify-write of memory (XCHG)"},
		{[]byte{0xf0, 0x48, 0x0f, 0xc1, 0x08}, "a locked instruction (XADD)"},
		{[]byte{0xf3, 0x48, 0xa5}, "a repeated string instruction (MOVSQ)"},
		{[]byte{0x48, 0xab}, "a string instruction (STOSQ)"},
		{[]byte{0x0f, 0x05}, "an instruction with effects outside memory (SYSCALL)"},
		{[]byte{0x06}, "an instruction that does not decode"}, // PUSH ES: invalid in 64-bit mode
	} {
		code := append(append([]byte(nil), c.code...), make([]byte, 16)...)
		if got := notReplayable(code); got != c.want {
			t.Errorf("% x: got %q, want %q", c.code, got, c.want)
		}
	}
}

// TestFetchAddEncoding: the total's fetching add is encoded with the
// immediate BPF_ADD | BPF_FETCH; with 0 the kernel does not fetch and two
// threads may see the same total.
func TestFetchAddEncoding(t *testing.T) {
	var b bytes.Buffer
	if err := (asm.Instructions{fetchAdd(asm.R0, asm.R9)}).Marshal(&b, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("% x", b.Bytes()), "db 90 00 00 01 00 00 00"; got != want {
		t.Fatalf("encoded %s, want %s", got, want)
	}
}
