// Package bininfo answers questions about one Go executable: its symbols,
// functions, line tables, inlined calls, package variables and the layout of
// the Go runtime structures the debugger reads from memory.
//
// Everything is computed lazily so that opening a large binary stays cheap:
// Open only reads the ELF headers and the build info; DWARF sections are
// decompressed on first use, compile units are indexed from their top-level
// entries only, and a unit's functions, line table and variables are parsed
// the first time a query touches that unit.
//
// Every address accepted or returned by the exported API is a run-time
// address: the load bias set with SetLoadBias has been added to it.
// Addresses stored inside DWARF sections returned by Section are link-time
// addresses; add Bias() to them.
package bininfo

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors returned by Open, usable with errors.Is.
var (
	ErrNotExist  = errors.New("no such file")
	ErrNotELF    = errors.New("not an ELF executable")
	ErrNotGo     = errors.New("not a Go program")
	ErrNoDWARF   = errors.New("no DWARF debug information (was it built with -ldflags=-w?)")
	ErrWrongArch = errors.New("unsupported architecture (only linux/amd64 is supported)")
)

// Errors returned by lookups, usable with errors.Is.
var (
	ErrFuncNotFound = errors.New("function not found")
	ErrFileNotFound = errors.New("source file not found")
	ErrNoCode       = errors.New("no code at this line")
	ErrVarNotFound  = errors.New("package variable not found")
)

// ArchError is Open's error for an ELF built for another machine, so that
// a caller can name the machine; errors.Is(err, ErrWrongArch) holds.
type ArchError struct {
	Path    string
	Machine elf.Machine
	Class   elf.Class
}

func (e *ArchError) Error() string {
	return fmt.Sprintf("%s: %v: machine %v", e.Path, ErrWrongArch, e.Machine)
}

// Is makes errors.Is(err, ErrWrongArch) true for an *ArchError.
func (e *ArchError) Is(target error) bool { return target == ErrWrongArch }

// BinaryInfo describes one executable. It is safe for concurrent use.
type BinaryInfo struct {
	path      string
	osFile    *os.File
	elf       *elf.File
	goVersion string
	bias      atomic.Uint64

	dwarfOnce sync.Once
	dwarf     *dwarf.Data
	dwarfErr  error

	secMu    sync.Mutex
	sections map[string]*sectionData

	symOnce sync.Once
	syms    symbolTable

	unitOnce sync.Once
	units    unitIndex

	srcOnce sync.Once
	sources sourceIndex

	instOnce  sync.Once
	instances instanceIndex
	// mainInstances indexes package main's units only (loadMainInstances).
	mainInstOnce  sync.Once
	mainInstances instanceIndex

	rtOnce sync.Once
	rt     *Runtime
	rtErr  error

	pclnOnce sync.Once
	pcln     *gosym.Table // nil when .gopclntab cannot be read
}

// Open reads the headers of the Go executable at path. It fails with one of
// ErrNotExist, ErrNotELF, ErrWrongArch, ErrNotGo or ErrNoDWARF (wrapped).
func Open(path string) (*BinaryInfo, error) {
	osf, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotExist)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	bi, err := newBinaryInfo(path, osf)
	if err != nil {
		osf.Close()
		return nil, err
	}
	return bi, nil
}

func newBinaryInfo(path string, osf *os.File) (*BinaryInfo, error) {
	ef, err := elf.NewFile(osf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrNotELF, err)
	}
	if ef.Machine != elf.EM_X86_64 || ef.Class != elf.ELFCLASS64 {
		return nil, &ArchError{Path: path, Machine: ef.Machine, Class: ef.Class}
	}
	bi := &BinaryInfo{path: path, osFile: osf, elf: ef, sections: map[string]*sectionData{}}
	if ef.Section(".go.buildinfo") == nil {
		if _, ok := bi.symbolsLinkTime()["runtime.main"]; !ok {
			return nil, fmt.Errorf("%s: %w (no .go.buildinfo section and no runtime.main symbol)", path, ErrNotGo)
		}
	}
	if info, err := buildinfo.Read(osf); err == nil {
		bi.goVersion = info.GoVersion
	}
	if ef.Section(".debug_info") == nil && ef.Section(".zdebug_info") == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNoDWARF)
	}
	return bi, nil
}

// Close releases the underlying file. Lookups that still need to read
// sections fail afterwards.
func (bi *BinaryInfo) Close() error { return bi.osFile.Close() }

// Path returns the path the binary was opened from.
func (bi *BinaryInfo) Path() string { return bi.path }

// GoVersion returns the toolchain version recorded in the build info, e.g. "go1.26.8".
func (bi *BinaryInfo) GoVersion() string { return bi.goVersion }

// GoMinor returns the minor version of GoVersion (26 for go1.26.8), or 0 if unknown.
func (bi *BinaryInfo) GoMinor() int {
	v := strings.TrimPrefix(bi.goVersion, "go1.")
	if v == bi.goVersion {
		return 0
	}
	if i := strings.IndexAny(v, ".-+ "); i >= 0 {
		v = v[:i]
	}
	n, _ := strconv.Atoi(v)
	return n
}

// Arch returns the GOARCH of the binary; Open only accepts "amd64".
func (bi *BinaryInfo) Arch() string { return "amd64" }

// PtrSize returns the size of a pointer in bytes.
func (bi *BinaryInfo) PtrSize() int { return 8 }

// ELF returns the parsed ELF file, for callers needing program headers.
func (bi *BinaryInfo) ELF() *elf.File { return bi.elf }

// EntryPoint returns the link-time entry address from the ELF header; the
// load bias of a PIE is AT_ENTRY minus this value.
func (bi *BinaryInfo) EntryPoint() uint64 { return bi.elf.Entry }

// IsPIE reports whether the binary is position independent (ET_DYN), i.e.
// whether it needs SetLoadBias once the process is running.
func (bi *BinaryInfo) IsPIE() bool { return bi.elf.Type == elf.ET_DYN }

// SetLoadBias sets the difference between run-time and link-time addresses.
// Call it before handing out Functions: Function values obtained earlier keep
// the addresses computed with the previous bias.
func (bi *BinaryInfo) SetLoadBias(bias uint64) { bi.bias.Store(bias) }

// Bias returns the load bias set with SetLoadBias (0 by default).
func (bi *BinaryInfo) Bias() uint64 { return bi.bias.Load() }

// DWARF returns the parsed debug information, loading it on first use.
func (bi *BinaryInfo) DWARF() (*dwarf.Data, error) {
	bi.dwarfOnce.Do(func() { bi.dwarf, bi.dwarfErr = bi.loadDWARF() })
	return bi.dwarf, bi.dwarfErr
}

// loadDWARF builds a dwarf.Data from only the sections needed for names,
// ranges and lines; location lists and CFI stay compressed until Section is
// asked for them.
func (bi *BinaryInfo) loadDWARF() (*dwarf.Data, error) {
	get := func(name string) ([]byte, error) {
		b, err := bi.Section(name)
		if errors.Is(err, errNoSection) {
			return nil, nil
		}
		return b, err
	}
	bi.prefetchSections(".debug_info", ".debug_line", ".debug_rnglists", ".debug_ranges", ".debug_addr", ".debug_abbrev")
	var data [6][]byte
	for i, name := range []string{".debug_abbrev", ".debug_info", ".debug_line", ".debug_ranges", ".debug_str", ".debug_aranges"} {
		b, err := get(name)
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		data[i] = b
	}
	d, err := dwarf.New(data[0], data[5], nil, data[1], data[2], nil, data[3], data[4])
	if err != nil {
		return nil, fmt.Errorf("parsing DWARF: %w", err)
	}
	for _, name := range []string{".debug_addr", ".debug_line_str", ".debug_str_offsets", ".debug_rnglists"} {
		b, err := get(name)
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if b != nil {
			if err := d.AddSection(name, b); err != nil {
				return nil, fmt.Errorf("parsing DWARF section %s: %w", name, err)
			}
		}
	}
	return d, nil
}
