package ebpf

import (
	"debug/elf"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// staticMemory serves reads of the executable's read-only data from the
// file: runtime type descriptors and statically built itabs never change
// at run time, so the loader can resolve an interface's dynamic type
// without the probe copying the descriptor.
type staticMemory struct {
	bi *bininfo.BinaryInfo
}

// ReadMemory implements value.MemoryReader for run-time addresses.
func (m staticMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	f := m.bi.ELF()
	link := addr - m.bi.Bias()
	end := link + uint64(len(buf))
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_W != 0 {
			continue
		}
		if link >= p.Vaddr && end <= p.Vaddr+p.Filesz && end >= link {
			return p.ReadAt(buf, int64(link-p.Vaddr))
		}
	}
	// A PIE keeps descriptors and itabs in .data.rel.ro: relocated once at
	// load, read-only afterwards. Its pointers hold link-time values in
	// the file, which is why the probe captures itabs; the descriptors'
	// flag bytes read through here are not relocated.
	if s := f.Section(".data.rel.ro"); s != nil && link >= s.Addr && end <= s.Addr+s.Size && end >= link {
		return s.ReadAt(buf, int64(link-s.Addr))
	}
	return 0, fmt.Errorf("%d bytes at %#x were not captured and are not read-only data", len(buf), addr)
}
