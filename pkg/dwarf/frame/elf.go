package frame

import (
	"debug/elf"
	"errors"
	"fmt"
)

// ErrNoSection is returned by ParseELF when the binary lacks the section
// (for example .debug_frame in a binary linked with -ldflags=-w).
var ErrNoSection = errors.New("section not present")

// ParseELF indexes the named CFI section (".debug_frame" or ".eh_frame") of
// an ELF file. Compressed sections are decompressed by debug/elf. A missing
// section yields an error wrapping ErrNoSection.
func ParseELF(f *elf.File, name string) (*Table, error) {
	var isEH bool
	switch name {
	case ".debug_frame":
	case ".eh_frame":
		isEH = true
	default:
		return nil, fmt.Errorf("frame.ParseELF: %q is not a CFI section", name)
	}
	sec := f.Section(name)
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%s: %w", name, ErrNoSection)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	ptrSize := 8
	if f.Class == elf.ELFCLASS32 {
		ptrSize = 4
	}
	return Parse(data, f.ByteOrder, ptrSize, sec.Addr, isEH)
}
