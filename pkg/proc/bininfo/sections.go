package bininfo

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"unsafe"
)

var errNoSection = errors.New("section not present")

// sectionData is one lazily decompressed section.
type sectionData struct {
	once sync.Once
	data []byte
	err  error
}

// Section returns the contents of the named section (".debug_frame",
// ".eh_frame", ".debug_loc", ".debug_loclists", ".debug_addr", ...),
// decompressed (SHF_COMPRESSED or legacy .zdebug_*) and cached. The returned
// slice is shared: callers must not modify it. Different sections may be
// decompressed concurrently.
func (bi *BinaryInfo) Section(name string) ([]byte, error) {
	bi.secMu.Lock()
	sd, ok := bi.sections[name]
	if !ok {
		sd = &sectionData{}
		bi.sections[name] = sd
	}
	bi.secMu.Unlock()
	sd.once.Do(func() {
		sd.data, sd.err = bi.readSection(name)
		if sd.err != nil {
			sd.err = fmt.Errorf("section %s: %w", name, sd.err)
		}
	})
	return sd.data, sd.err
}

// prefetchSections decompresses the named sections in parallel; inflating
// .debug_info and .debug_line dominates the cost of the first lookup.
func (bi *BinaryInfo) prefetchSections(names ...string) {
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bi.Section(n)
		}()
	}
	wg.Wait()
}

func (bi *BinaryInfo) readSection(name string) ([]byte, error) {
	if s := bi.elf.Section(name); s != nil {
		if s.Type == elf.SHT_NOBITS {
			return make([]byte, s.Size), nil
		}
		// debug/elf transparently inflates SHF_COMPRESSED sections.
		return s.Data()
	}
	if len(name) > 7 && name[:7] == ".debug_" {
		if s := bi.elf.Section(".zdebug_" + name[7:]); s != nil {
			raw, err := s.Data()
			if err != nil {
				return nil, err
			}
			return inflateZdebug(raw)
		}
	}
	return nil, errNoSection
}

// inflateZdebug decodes the pre-SHF_COMPRESSED GNU format: "ZLIB", the
// big-endian uncompressed size, then a zlib stream.
func inflateZdebug(raw []byte) ([]byte, error) {
	if len(raw) < 12 || string(raw[:4]) != "ZLIB" {
		return raw, nil
	}
	size := binary.BigEndian.Uint64(raw[4:12])
	zr, err := zlib.NewReader(bytes.NewReader(raw[12:]))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	buf := bytes.NewBuffer(out)
	if _, err := io.Copy(buf, zr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readCode reads n bytes of the loaded image at link-time address addr.
func (bi *BinaryInfo) readCode(addr uint64, n int) ([]byte, error) {
	for _, p := range bi.elf.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr >= p.Vaddr+p.Filesz {
			continue
		}
		if rem := p.Vaddr + p.Filesz - addr; uint64(n) > rem {
			n = int(rem)
		}
		buf := make([]byte, n)
		_, err := p.ReadAt(buf, int64(addr-p.Vaddr))
		return buf, err
	}
	return nil, fmt.Errorf("address %#x is not in a loaded segment", addr)
}

// SymbolKind says what an ELF symbol names.
type SymbolKind int

// Symbol kinds.
const (
	SymFunc   SymbolKind = iota // code (STT_FUNC)
	SymObject                   // data (STT_OBJECT)
	SymTLS                      // thread-local; Addr is an offset in the TLS block
	SymOther                    // anything else (sections, files, untyped)
)

// Symbol is one entry of the ELF symbol table, at its run-time address.
type Symbol struct {
	Name string
	Addr uint64
	Size uint64
	Kind SymbolKind
}

// rawSymbol is one ELF symbol; its name points into the string table.
type rawSymbol struct {
	name  string
	value uint64
	size  uint64
	info  byte
	shndx uint16
}

func (s rawSymbol) typ() elf.SymType { return elf.ST_TYPE(s.info) }

type symbolTable struct {
	all    []rawSymbol // sorted by value
	byName map[string]int

	funcsOnce sync.Once
	funcs     []string // sorted, unique names of function symbols
}

// loadSymbols parses .symtab without copying names: each name is a string
// view of the string table, which is read once and never modified. On a
// 20 MB binary this saves tens of thousands of small allocations.
func (bi *BinaryInfo) loadSymbols() *symbolTable {
	bi.symOnce.Do(func() {
		st := &bi.syms
		st.byName = map[string]int{}
		symtab := bi.elf.SectionByType(elf.SHT_SYMTAB)
		if symtab == nil || symtab.Link >= uint32(len(bi.elf.Sections)) {
			return
		}
		data, err := symtab.Data()
		if err != nil {
			return
		}
		strtab, err := bi.elf.Sections[symtab.Link].Data()
		if err != nil {
			return
		}
		const entSize = 24
		le := binary.LittleEndian
		st.all = make([]rawSymbol, 0, len(data)/entSize)
		for off := entSize; off+entSize <= len(data); off += entSize {
			e := data[off : off+entSize]
			st.all = append(st.all, rawSymbol{
				name:  cString(strtab, le.Uint32(e[0:4])),
				info:  e[4],
				shndx: le.Uint16(e[6:8]),
				value: le.Uint64(e[8:16]),
				size:  le.Uint64(e[16:24]),
			})
		}
		sort.SliceStable(st.all, func(i, j int) bool { return st.all[i].value < st.all[j].value })
		st.byName = make(map[string]int, len(st.all))
		for i, s := range st.all {
			if _, dup := st.byName[s.name]; !dup && s.name != "" {
				st.byName[s.name] = i
			}
		}
	})
	return &bi.syms
}

// cString returns the NUL-terminated string at off, sharing tab's memory.
func cString(tab []byte, off uint32) string {
	if int(off) >= len(tab) {
		return ""
	}
	b := tab[off:]
	if n := bytes.IndexByte(b, 0); n >= 0 {
		b = b[:n]
	}
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// funcNames returns the sorted unique function symbol names.
func (bi *BinaryInfo) funcNames() []string {
	st := bi.loadSymbols()
	st.funcsOnce.Do(func() {
		for _, s := range st.all {
			if s.typ() == elf.STT_FUNC && s.name != "" {
				st.funcs = append(st.funcs, s.name)
			}
		}
		sort.Strings(st.funcs)
		st.funcs = uniqSorted(st.funcs)
	})
	return st.funcs
}

// symbolsLinkTime returns the name index; used by Open's Go-ness check.
func (bi *BinaryInfo) symbolsLinkTime() map[string]int { return bi.loadSymbols().byName }

func uniqSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (bi *BinaryInfo) toSymbol(s rawSymbol) Symbol {
	kind := SymOther
	switch s.typ() {
	case elf.STT_FUNC:
		kind = SymFunc
	case elf.STT_OBJECT:
		kind = SymObject
	case elf.STT_TLS:
		kind = SymTLS
	}
	addr := s.value
	if kind != SymTLS && elf.SectionIndex(s.shndx) != elf.SHN_UNDEF && elf.SectionIndex(s.shndx) != elf.SHN_ABS {
		addr += bi.Bias()
	}
	return Symbol{Name: s.name, Addr: addr, Size: s.size, Kind: kind}
}

// Symbol looks up an ELF symbol by exact name.
func (bi *BinaryInfo) Symbol(name string) (Symbol, bool) {
	st := bi.loadSymbols()
	i, ok := st.byName[name]
	if !ok {
		return Symbol{}, false
	}
	return bi.toSymbol(st.all[i]), true
}

// SymbolAt returns the function or object symbol whose extent contains pc.
func (bi *BinaryInfo) SymbolAt(pc uint64) (Symbol, bool) {
	st := bi.loadSymbols()
	addr := pc - bi.Bias()
	i := sort.Search(len(st.all), func(i int) bool { return st.all[i].value > addr }) - 1
	// Several symbols may share an address (zero-sized markers, aliases);
	// look back a few entries for one whose extent covers addr.
	for stop := i - 8; i >= 0 && i > stop; i-- {
		s := st.all[i]
		if t := s.typ(); t != elf.STT_FUNC && t != elf.STT_OBJECT {
			continue
		}
		if addr >= s.value && (addr < s.value+s.size || (s.size == 0 && addr == s.value)) {
			return bi.toSymbol(s), true
		}
	}
	return Symbol{}, false
}

// Functions returns the sorted names of all function symbols, for matching
// with regular expressions.
func (bi *BinaryInfo) Functions() []string {
	return append([]string(nil), bi.funcNames()...)
}
