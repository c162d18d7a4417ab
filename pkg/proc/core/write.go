package core

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// Snapshot is what Write records of a stopped live process.
type Snapshot struct {
	Pid      int
	Name     string // the command name (/proc/PID/comm)
	Args     string // the command line, for NT_PRPSINFO
	Threads  []ThreadState
	Auxv     []byte
	Mappings []Mapping
	Mem      MemoryReader
}

// ThreadState is one thread of a Snapshot; the first is the current one.
type ThreadState struct {
	ID   int
	Regs arch.Registers
	FP   *arch.FPRegisters // nil: not read
}

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End, Offset uint64
	Read, Write, Exec  bool
	Path               string // "" for anonymous memory, "[stack]" and the like for the kernel's
}

// MemoryReader reads the live process's memory.
type MemoryReader interface {
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// Progress is told how far Write got; it returns false to cancel.
type Progress func(threadsDone, threadsTotal int, memDone, memTotal uint64) bool

// ErrCanceled is returned by Write when Progress asked it to stop.
var ErrCanceled = errors.New("core dump canceled")

const pageSize = 4096

// Write writes s to w as a standard Linux ELF core, the layout the kernel
// uses: one PT_NOTE (NT_PRPSINFO, NT_AUXV, NT_FILE, then per thread
// NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE) and a PT_LOAD per mapping. Unlike
// the kernel it stores every readable mapping whole, the executable's text
// included, so the core needs nothing but itself to be read. Memory that
// cannot be read is written as zeros; Write reports how many bytes were.
func Write(w io.Writer, s Snapshot, progress Progress) (unreadable uint64, err error) {
	if len(s.Threads) == 0 {
		return 0, ErrNoThreads
	}
	if progress == nil {
		progress = func(int, int, uint64, uint64) bool { return true }
	}
	note := s.notes()
	const ehsize, phsize = 64, 56
	phnum := 1 + len(s.Mappings)
	noteOff := uint64(ehsize + phsize*phnum)
	dataOff := (noteOff + uint64(len(note)) + pageSize - 1) &^ (pageSize - 1)

	var memTotal uint64
	bw := bufio.NewWriterSize(w, 1<<20)
	hdr := elf.Header64{
		Type: uint16(elf.ET_CORE), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(phnum),
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	progs := []elf.Prog64{{Type: uint32(elf.PT_NOTE), Off: noteOff, Filesz: uint64(len(note)), Align: 4}}
	off := dataOff
	for _, m := range s.Mappings {
		ph := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: m.flags(), Off: off, Vaddr: m.Start, Memsz: m.End - m.Start, Align: pageSize}
		if m.dumped() {
			ph.Filesz = ph.Memsz
			memTotal += ph.Filesz
		}
		off += ph.Filesz
		progs = append(progs, ph)
	}
	if err := binary.Write(bw, binary.LittleEndian, &hdr); err != nil {
		return 0, err
	}
	if err := binary.Write(bw, binary.LittleEndian, progs); err != nil {
		return 0, err
	}
	bw.Write(note)
	bw.Write(make([]byte, dataOff-noteOff-uint64(len(note))))
	if !progress(len(s.Threads), len(s.Threads), 0, memTotal) {
		return 0, ErrCanceled
	}

	var done uint64
	buf := make([]byte, 64*pageSize)
	for _, m := range s.Mappings {
		if !m.dumped() {
			continue
		}
		for a := m.Start; a < m.End; {
			chunk := buf[:min(uint64(len(buf)), m.End-a)]
			unreadable += readOrZero(s.Mem, chunk, a)
			if _, err := bw.Write(chunk); err != nil {
				return unreadable, fmt.Errorf("writing the core: %w", err)
			}
			a += uint64(len(chunk))
			done += uint64(len(chunk))
			if !progress(len(s.Threads), len(s.Threads), done, memTotal) {
				return unreadable, ErrCanceled
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return unreadable, fmt.Errorf("writing the core: %w", err)
	}
	return unreadable, nil
}

// readOrZero fills chunk from addr, page by page after a failure so that
// one unreadable page (a guard, [vvar]) costs only itself; it returns how
// many bytes were left as zeros.
func readOrZero(mem MemoryReader, chunk []byte, addr uint64) (zeroed uint64) {
	if n, err := mem.ReadMemory(chunk, addr); err == nil && n == len(chunk) {
		return 0
	}
	for p := 0; p < len(chunk); p += pageSize {
		page := chunk[p:min(p+pageSize, len(chunk))]
		if n, err := mem.ReadMemory(page, addr+uint64(p)); err != nil || n < len(page) {
			clear(page)
			zeroed += uint64(len(page))
		}
	}
	return zeroed
}

// dumped says whether the mapping's bytes go into the core: readable
// memory, except the kernel's pages ([vsyscall], [vvar] and its clock
// pages), which cannot all be read through the process and which the
// kernel leaves out of its cores too.
func (m Mapping) dumped() bool {
	switch m.Path {
	case "[vsyscall]", "[vvar]", "[vvar_vclock]":
		return false
	}
	return m.Read
}

func (m Mapping) flags() uint32 {
	var f elf.ProgFlag
	if m.Read {
		f |= elf.PF_R
	}
	if m.Write {
		f |= elf.PF_W
	}
	if m.Exec {
		f |= elf.PF_X
	}
	return uint32(f)
}

// notes builds the PT_NOTE contents.
func (s *Snapshot) notes() []byte {
	var b bytes.Buffer
	put := func(name string, typ elf.NType, desc []byte) {
		hdr := [3]uint32{uint32(len(name) + 1), uint32(len(desc)), uint32(typ)}
		binary.Write(&b, binary.LittleEndian, hdr)
		b.WriteString(name)
		b.Write(make([]byte, align4(uint32(len(name)+1))-len(name)))
		b.Write(desc)
		b.Write(make([]byte, align4(uint32(len(desc)))-len(desc)))
	}
	put("CORE", ntPrpsinfo, s.prpsinfo())
	if len(s.Auxv) > 0 {
		put("CORE", ntAuxv, s.Auxv)
	}
	put("CORE", ntFile, s.fileNote())
	for _, th := range s.Threads {
		put("CORE", ntPrstatus, prstatus(s.Pid, th))
		if th.FP != nil {
			img := fxsave(th.FP)
			put("CORE", ntFPRegset, img)
			put("LINUX", ntX86State, xsave(img))
		}
	}
	return b.Bytes()
}

func (s *Snapshot) prpsinfo() []byte {
	d := make([]byte, prpsinfoSize)
	binary.LittleEndian.PutUint32(d[prpsinfoPid:], uint32(s.Pid))
	copy(d[prpsinfoFname:prpsinfoFname+15], s.Name)
	copy(d[prpsinfoArgs:prpsinfoSize-1], s.Args)
	return d
}

// fileNote lists the file-backed mappings, as the kernel does.
func (s *Snapshot) fileNote() []byte {
	var ents, names bytes.Buffer
	n := 0
	for _, m := range s.Mappings {
		if m.Path == "" || m.Path[0] != '/' {
			continue
		}
		binary.Write(&ents, binary.LittleEndian, [3]uint64{m.Start, m.End, m.Offset / pageSize})
		names.WriteString(m.Path)
		names.WriteByte(0)
		n++
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [2]uint64{uint64(n), pageSize})
	b.Write(ents.Bytes())
	b.Write(names.Bytes())
	return b.Bytes()
}

func prstatus(pid int, th ThreadState) []byte {
	d := make([]byte, prstatusSize)
	binary.LittleEndian.PutUint32(d[prstatusPid:], uint32(th.ID))
	binary.LittleEndian.PutUint32(d[prstatusPid+4:], 0)           // ppid: unknown
	binary.LittleEndian.PutUint32(d[prstatusPid+8:], uint32(pid)) // pgrp: the process, as far as we know
	regs := th.Regs
	for i, f := range userRegs(&regs) {
		binary.LittleEndian.PutUint64(d[prstatusReg+8*i:], *f)
	}
	if th.FP != nil {
		binary.LittleEndian.PutUint32(d[prstatusFPOK:], 1)
	}
	return d
}

// fxsave rebuilds an FXSAVE image from the SSE state; the x87 part gets
// its reset value (control word 0x37f), which is all Go programs use.
func fxsave(fp *arch.FPRegisters) []byte {
	img := make([]byte, arch.FxsaveSize)
	binary.LittleEndian.PutUint16(img, 0x37f)
	binary.LittleEndian.PutUint32(img[28:], 0xffff) // MXCSR_MASK: every bit writable
	fp.PutFxsave(img)
	return img
}

// xsave extends an FXSAVE image to an XSAVE one holding x87 and SSE state
// only (XSTATE_BV = 3). The room of an AVX area follows, zero, because
// Delve ignores an image no longer than its legacy part and header.
func xsave(fx []byte) []byte {
	img := make([]byte, arch.FxsaveSize+64+256)
	copy(img, fx)
	binary.LittleEndian.PutUint64(img[arch.FxsaveSize:], 3)
	return img
}
