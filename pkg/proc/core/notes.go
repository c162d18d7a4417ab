package core

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// Note types of a Linux core beyond those debug/elf names. The values are
// the kernel's (include/uapi/linux/elf.h).
const (
	ntPrstatus = elf.NT_PRSTATUS // one per thread: signal, ids, registers
	ntFPRegset = elf.NT_FPREGSET // the thread's FXSAVE image
	ntPrpsinfo = elf.NT_PRPSINFO // the process: pid, command name
	ntAuxv     = elf.NType(6)    // the auxiliary vector
	ntFile     = elf.NType(0x46494c45)
	ntX86State = elf.NType(0x202) // the thread's XSAVE image
)

// Offsets inside the x86-64 struct elf_prstatus and elf_prpsinfo
// (include/uapi/linux/elfcore.h): pr_pid follows siginfo, cursig, sigpend
// and sighold; pr_reg follows pid, ppid, pgrp, sid and four timevals.
const (
	prstatusSize   = 336
	prstatusPid    = 32
	prstatusReg    = 112
	prstatusRegEnd = prstatusReg + 27*8
	prstatusFPOK   = 328
	prpsinfoSize   = 136
	prpsinfoPid    = 24
	prpsinfoFname  = 40
	prpsinfoArgs   = 56
	atEntry        = 9 // AT_ENTRY in the auxiliary vector
)

// fileMapping is one entry of NT_FILE: [Start, End) maps Path at Offset.
type fileMapping struct {
	Start, End, Offset uint64
	Path               string
}

// notes is what a core's PT_NOTE segments say about the process.
type notes struct {
	pid     int
	threads []*Thread // in note order: the kernel writes the crashing thread first
	auxv    []byte
	files   []fileMapping
}

// readNotes decodes every PT_NOTE segment of f.
func readNotes(f *elf.File) (*notes, error) {
	n := &notes{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading notes: %w", err)
		}
		if err := n.parse(data); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func align4(n uint32) int { return int((n + 3) &^ 3) }

// parse decodes one segment of notes: each a 12-byte header (name size,
// descriptor size, type), the name and the descriptor, each padded to 4.
func (n *notes) parse(data []byte) error {
	for len(data) >= 12 {
		namesz := binary.LittleEndian.Uint32(data[0:])
		descsz := binary.LittleEndian.Uint32(data[4:])
		typ := elf.NType(binary.LittleEndian.Uint32(data[8:]))
		off := 12 + align4(namesz)
		if off+int(descsz) > len(data) {
			return fmt.Errorf("note of type %#x: descriptor of %d bytes runs past its segment", uint32(typ), descsz)
		}
		desc := data[off : off+int(descsz)]
		if err := n.add(typ, desc); err != nil {
			return err
		}
		next := off + align4(descsz)
		if next > len(data) {
			break
		}
		data = data[next:]
	}
	return nil
}

// add records one note; notes of other types are ignored.
func (n *notes) add(typ elf.NType, desc []byte) error {
	last := func() *Thread {
		if len(n.threads) == 0 {
			return nil
		}
		return n.threads[len(n.threads)-1]
	}
	switch typ {
	case ntPrstatus:
		if len(desc) < prstatusRegEnd {
			return fmt.Errorf("NT_PRSTATUS of %d bytes, want %d", len(desc), prstatusSize)
		}
		th := &Thread{id: int(int32(binary.LittleEndian.Uint32(desc[prstatusPid:])))}
		for i, f := range userRegs(&th.regs) {
			*f = binary.LittleEndian.Uint64(desc[prstatusReg+8*i:])
		}
		n.threads = append(n.threads, th)
	case ntFPRegset, ntX86State:
		// Both begin with the FXSAVE image; the first of them wins.
		if th := last(); th != nil && th.fp == nil && len(desc) >= arch.FxsaveSize {
			fp, err := arch.FPRegistersFromFxsave(desc)
			if err != nil {
				return err
			}
			th.fp = &fp
		}
	case ntPrpsinfo:
		if len(desc) >= prpsinfoPid+4 {
			n.pid = int(int32(binary.LittleEndian.Uint32(desc[prpsinfoPid:])))
		}
	case ntAuxv:
		n.auxv = append([]byte(nil), desc...)
	case ntFile:
		files, err := parseFileNote(desc)
		if err != nil {
			return err
		}
		n.files = files
	}
	return nil
}

// parseFileNote decodes NT_FILE: a count and the page size, count
// (start, end, offset in pages) triples, then count NUL-terminated paths.
func parseFileNote(desc []byte) ([]fileMapping, error) {
	if len(desc) < 16 {
		return nil, fmt.Errorf("NT_FILE of %d bytes", len(desc))
	}
	count := binary.LittleEndian.Uint64(desc)
	page := binary.LittleEndian.Uint64(desc[8:])
	if count > uint64(len(desc)-16)/24 {
		return nil, fmt.Errorf("NT_FILE claims %d entries in %d bytes", count, len(desc))
	}
	out := make([]fileMapping, count)
	p := desc[16:]
	for i := range out {
		out[i] = fileMapping{
			Start:  binary.LittleEndian.Uint64(p),
			End:    binary.LittleEndian.Uint64(p[8:]),
			Offset: binary.LittleEndian.Uint64(p[16:]) * page,
		}
		p = p[24:]
	}
	for i := range out {
		name, rest, ok := bytes.Cut(p, []byte{0})
		if !ok {
			return nil, fmt.Errorf("NT_FILE: path %d is not terminated", i)
		}
		out[i].Path, p = string(name), rest
	}
	return out, nil
}

// auxvValue returns the value of tag in an auxiliary vector of (tag, value) pairs.
func auxvValue(auxv []byte, tag uint64) (uint64, bool) {
	for ; len(auxv) >= 16; auxv = auxv[16:] {
		t := binary.LittleEndian.Uint64(auxv)
		if t == 0 {
			break
		}
		if t == tag {
			return binary.LittleEndian.Uint64(auxv[8:]), true
		}
	}
	return 0, false
}

// userRegs lists the fields of r in the order of the kernel's
// user_regs_struct, which is pr_reg of NT_PRSTATUS: 27 little-endian words.
func userRegs(r *arch.Registers) []*uint64 {
	return []*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10,
		&r.R9, &r.R8, &r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.OrigRax,
		&r.Rip, &r.Cs, &r.Eflags, &r.Rsp, &r.Ss, &r.FsBase, &r.GsBase,
		&r.Ds, &r.Es, &r.Fs, &r.Gs}
}
