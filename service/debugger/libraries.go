package debugger

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// Library is a shared object loaded into the process: its path and the
// load bias the dynamic linker gave it.
type Library struct {
	Path    string
	Address uint64
}

// maxLibraries bounds the walk of a link map the program may have corrupted.
const maxLibraries = 1 << 16

// Libraries lists the shared objects of the process from the dynamic
// linker's list (r_debug.r_map, reached through DT_DEBUG), in its order,
// as Delve does: the executable and entries without an absolute path
// (the vDSO) are left out. A static binary, or one stopped before the
// dynamic linker ran, has none.
func (d *Debugger) Libraries() ([]Library, error) {
	dyn := d.bi.ELF().Section(".dynamic")
	if dyn == nil {
		return nil, nil
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	read := func(addr uint64, n int) ([]byte, error) {
		buf := make([]byte, n)
		got, err := t.Process().ReadMemory(buf, addr)
		if err != nil {
			return nil, fmt.Errorf("reading %d bytes at %#x: %w", n, addr, err)
		}
		return buf[:got], nil
	}
	ptr := func(addr uint64) (uint64, error) {
		b, err := read(addr, 8)
		if err != nil {
			return 0, err
		}
		if len(b) < 8 {
			return 0, fmt.Errorf("short read at %#x", addr)
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	entries, err := read(dyn.Addr+d.bi.Bias(), int(dyn.Size))
	if err != nil {
		return nil, fmt.Errorf("reading the dynamic section: %w", err)
	}
	var rdebug uint64
	for i := 0; i+16 <= len(entries); i += 16 {
		tag := elf.DynTag(binary.LittleEndian.Uint64(entries[i:]))
		if tag == elf.DT_NULL {
			break
		}
		if tag == elf.DT_DEBUG {
			rdebug = binary.LittleEndian.Uint64(entries[i+8:])
			break
		}
	}
	if rdebug == 0 {
		return nil, nil
	}
	// r_debug is {int r_version; link_map *r_map; ...}; link_map is
	// {l_addr, l_name, l_ld, l_next, l_prev}, all pointer-sized.
	lm, err := ptr(rdebug + 8)
	if err != nil {
		return nil, err
	}
	var libs []Library
	for n := 0; lm != 0; n++ {
		if n > maxLibraries {
			return nil, fmt.Errorf("more than %d entries in the link map", maxLibraries)
		}
		addr, err := ptr(lm)
		if err != nil {
			return nil, err
		}
		nameAddr, err := ptr(lm + 8)
		if err != nil {
			return nil, err
		}
		name, err := readCString(read, nameAddr)
		if err != nil {
			return nil, err
		}
		// The first entry is the executable; Delve keeps it only if it
		// has a load bias, and then drops it for its relative name.
		if strings.HasPrefix(name, "/") && !hasLibrary(libs, name, addr) {
			libs = append(libs, Library{Path: name, Address: addr})
		}
		if lm, err = ptr(lm + 24); err != nil {
			return nil, err
		}
	}
	return libs, nil
}

func hasLibrary(libs []Library, path string, addr uint64) bool {
	for _, l := range libs {
		if l.Path == path && l.Address == addr {
			return true
		}
	}
	return false
}

// readCString reads a NUL-terminated string in chunks, up to 4 KiB; no
// chunk crosses a page, so a string ending just before an unmapped page
// still reads.
func readCString(read func(uint64, int) ([]byte, error), addr uint64) (string, error) {
	if addr == 0 {
		return "", nil
	}
	var out []byte
	for len(out) < 4096 {
		at := addr + uint64(len(out))
		n := 64
		if left := int(4096 - at%4096); left < n {
			n = left
		}
		b, err := read(at, n)
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return string(append(out, b[:i]...)), nil
		}
		if len(b) == 0 {
			break
		}
		out = append(out, b...)
	}
	return string(out), nil
}
