package core_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
)

// fakeMem is memory of a made-up process: each byte is its address's low
// byte plus one, and one page cannot be read.
type fakeMem struct{ hole uint64 }

func (m fakeMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	for i := range buf {
		a := addr + uint64(i)
		if a >= m.hole && a < m.hole+4096 {
			return i, errors.New("unreadable")
		}
		buf[i] = byte(a) + 1
	}
	return len(buf), nil
}

const (
	memBase = 0x10000
	memHole = 0x12000
)

func snapshot() core.Snapshot {
	fp := &arch.FPRegisters{Mxcsr: 0x1f80}
	fp.Xmm[0] = [16]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f} // 1.5
	fp.Xmm[15][15] = 0xee
	var auxv [48]byte
	binary.LittleEndian.PutUint64(auxv[0:], 9) // AT_ENTRY
	binary.LittleEndian.PutUint64(auxv[8:], 0x401234)
	return core.Snapshot{
		Pid: 4242, Name: "prog", Args: "prog -x",
		Threads: []core.ThreadState{
			{ID: 4250, Regs: arch.Registers{Rip: 0x401000, Rsp: 0x7ff0, Rax: 1, R15: 15, FsBase: 0x5000, OrigRax: ^uint64(0), Cs: 0x33, Eflags: 0x246}, FP: fp},
			{ID: 4242, Regs: arch.Registers{Rip: 0x402000, Rsp: 0x6ff0, Rbx: 2, Gs: 7}},
		},
		Auxv: auxv[:],
		Mappings: []core.Mapping{
			{Start: memBase, End: memBase + 3*4096, Read: true, Write: true},
			{Start: memBase + 3*4096, End: memBase + 4*4096}, // PROT_NONE: kept out
			{Start: 0x20000, End: 0x21000, Read: true, Path: "[vvar]"},
		},
		Mem: fakeMem{hole: memHole},
	}
}

func openWritten(t *testing.T, s core.Snapshot) *core.Process {
	t.Helper()
	path := filepath.Join(t.TempDir(), "core")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var last [4]uint64
	unreadable, err := core.Write(f, s, func(td, tt int, md, mt uint64) bool {
		last = [4]uint64{uint64(td), uint64(tt), md, mt}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if unreadable != 4096 {
		t.Errorf("unreadable = %d, want the one page of the hole", unreadable)
	}
	if want := [4]uint64{2, 2, 3 * 4096, 3 * 4096}; last != want {
		t.Errorf("last progress %v, want %v", last, want)
	}
	// Any executable will do: the snapshot maps nothing of it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := core.Open(path, exe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Detach() })
	return p
}

// TestWriteRoundTrip writes a snapshot and reads it back: threads in id
// order with the first one current, every register, the SSE state where
// there was one, AT_ENTRY, and memory with the unreadable page as zeros
// and the kept-out mappings absent.
func TestWriteRoundTrip(t *testing.T) {
	s := snapshot()
	p := openWritten(t, s)
	if p.Pid() != 4242 || p.CurrentThread() != 4250 {
		t.Errorf("pid %d, current thread %d; want 4242, 4250", p.Pid(), p.CurrentThread())
	}
	ths := p.Threads()
	if len(ths) != 2 || ths[0].ID() != 4242 || ths[1].ID() != 4250 {
		t.Fatalf("threads %v", ths)
	}
	for _, want := range s.Threads {
		var th *core.Thread
		for _, x := range ths {
			if x.ID() == want.ID {
				th = x.(*core.Thread)
			}
		}
		regs, _ := th.Registers()
		if regs != want.Regs {
			t.Errorf("thread %d registers\n got %+v\nwant %+v", want.ID, regs, want.Regs)
		}
		fp, err := th.FPRegisters()
		switch {
		case want.FP == nil && err == nil:
			t.Errorf("thread %d: FP registers out of nothing", want.ID)
		case want.FP != nil && (err != nil || !reflect.DeepEqual(fp, *want.FP)):
			t.Errorf("thread %d FP: %v, %+v", want.ID, err, fp)
		}
	}
	if e, err := p.AuxvEntry(); err != nil || e != 0x401234 {
		t.Errorf("AuxvEntry = %#x, %v", e, err)
	}
	got := make([]byte, 3*4096)
	if _, err := p.ReadMemory(got, memBase); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(got))
	fakeMem{hole: memHole}.ReadMemory(want[:memHole-memBase], memBase)
	fakeMem{}.ReadMemory(want[memHole-memBase+4096:], memHole+4096)
	if !bytes.Equal(got, want) {
		t.Error("memory read back differs from the snapshot's")
	}
	one := make([]byte, 1)
	for _, addr := range []uint64{memBase + 3*4096, 0x20000} {
		if _, err := p.ReadMemory(one, addr); err == nil {
			t.Errorf("read at %#x, which the core must not hold", addr)
		}
	}
	if n, err := p.ReadMemory(make([]byte, 8), memBase+3*4096-4); err == nil || n != 4 {
		t.Errorf("read across the end of memory: %d bytes, %v", n, err)
	}
}

// TestWriteCancel stops a dump from its progress callback.
func TestWriteCancel(t *testing.T) {
	var buf bytes.Buffer
	_, err := core.Write(&buf, snapshot(), func(int, int, uint64, uint64) bool { return false })
	if !errors.Is(err, core.ErrCanceled) {
		t.Errorf("Write = %v, want ErrCanceled", err)
	}
}
