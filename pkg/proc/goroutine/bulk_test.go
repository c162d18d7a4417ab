package goroutine

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// fakeMem is memory [base, base+len(data)) with a hole that fails reads.
type fakeMem struct {
	base             uint64
	data             []byte
	holeLo, holeHi   uint64
	reads, holeFails int
}

func (m *fakeMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	m.reads++
	end := addr + uint64(len(buf))
	if addr < m.holeHi && end > m.holeLo {
		m.holeFails++
		return 0, errors.New("unmapped")
	}
	if addr < m.base || end > m.base+uint64(len(m.data)) {
		return 0, errors.New("out of range")
	}
	return copy(buf, m.data[addr-m.base:]), nil
}

// TestReadSpans reads records through coalesced spans: each record holds
// the bytes at its address, close records share one read, and a record
// whose span crosses an unreadable page is read alone.
func TestReadSpans(t *testing.T) {
	const size = 16
	m := &fakeMem{base: 0x1000, data: make([]byte, 0x10000), holeLo: 0x8000, holeHi: 0x8010}
	for i := range m.data {
		m.data[i] = byte(i * 7)
	}
	// Ten records packed at 0x1000, one far away, two beside the hole
	// (the span over them fails, each alone succeeds), one in the hole.
	var addrs []uint64
	for i := uint64(0); i < 10; i++ {
		addrs = append(addrs, 0x1000+size*(9-i)) // out of order, as allgs may be
	}
	addrs = append(addrs, 0, 0x6000, 0x7ff0, 0x8010, 0x8000)
	s := readSpans(m, addrs, size)
	// A lone record is left to be read alone: a span of one saves nothing.
	if m.reads != 2 || m.holeFails != 1 {
		t.Errorf("readSpans made %d reads (%d failed), want 2 (1 failed): the packed span and the one over the hole", m.reads, m.holeFails)
	}
	for i, a := range addrs {
		if a == 0 {
			continue
		}
		rec, err := s.record(i, a)
		if a == 0x8000 {
			if err == nil {
				t.Errorf("record in the hole read %x", rec)
			}
			continue
		}
		want := m.data[a-m.base : a-m.base+size]
		if err != nil || !bytes.Equal(rec, want) {
			t.Errorf("record %d at %#x = %x, %v; want %x", i, a, rec, err, want)
		}
	}
	if m.reads != 6 {
		t.Errorf("%d reads in all, want 6: two spans, then the far record and the three by the hole alone", m.reads)
	}
}

// TestStackWindow serves reads inside the prefetched top of a stack from
// the window and the others from memory.
func TestStackWindow(t *testing.T) {
	m := &fakeMem{base: 0x1000, data: make([]byte, 0x4000)}
	for i := range m.data {
		m.data[i] = byte(i)
	}
	g := &G{StackLo: 0x1000, StackHi: 0x1200, Sched: stack.Sched{SP: 0x1100}}
	w := windowed(m, g)
	if m.reads != 1 {
		t.Fatalf("windowed made %d reads, want 1", m.reads)
	}
	buf := make([]byte, 8)
	for _, tc := range []struct {
		addr  uint64
		reads int
	}{{0x1100, 1}, {0x11f8, 1}, {0x11fc, 2}, {0x10f8, 3}} {
		if n, err := w.ReadMemory(buf, tc.addr); err != nil || n != 8 || !bytes.Equal(buf, m.data[tc.addr-m.base:tc.addr-m.base+8]) {
			t.Errorf("read at %#x = %x, %d, %v", tc.addr, buf, n, err)
		}
		if m.reads != tc.reads {
			t.Errorf("after reading %#x: %d reads of memory, want %d", tc.addr, m.reads, tc.reads)
		}
	}
	if got := windowed(m, &G{StackLo: 0x1000, StackHi: 0x1200, Sched: stack.Sched{SP: 0x1300}}); got != MemoryReader(m) {
		t.Errorf("a saved SP outside the stack got a window")
	}
}
