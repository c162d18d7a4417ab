// Package core is a read-only backend over ELF core files: those the Linux
// kernel writes when a program dies (GOTRACEBACK=crash) and those Write
// produces from a live process (the dump command). It implements
// proc.Process and proc.FPThread for inspection; every call that would run
// or change the process fails with Delve's words for it.
package core

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// The refusals, worded as Delve words them so that clients matching on
// them keep working.
var (
	// ErrContinueCore refuses continue, step, next and the like.
	ErrContinueCore = errors.New("can not continue execution of core process")
	// ErrWriteCore refuses writes to memory (set).
	ErrWriteCore = errors.New("can not write to core process")
	// ErrBreakpointCore refuses breakpoints, which would be written to memory.
	ErrBreakpointCore = errors.New("cannot write a breakpoint to a core file")
	// ErrChangeRegisterCore refuses register writes.
	ErrChangeRegisterCore = errors.New("can not change register values of core process")
	// ErrNoThreads says the core records no thread, so there is nothing to show.
	ErrNoThreads = errors.New("no threads found in core file")
)

// Process is a dead process as a core file recorded it.
type Process struct {
	core, exe *os.File
	mem       memory
	pid       int
	threads   []*Thread // sorted by id
	current   int       // the first thread of the notes: the one that crashed
	auxv      []byte
}

// Thread is one thread of a core file, with the registers it had.
type Thread struct {
	id   int
	regs arch.Registers
	fp   *arch.FPRegisters // nil when the core has no FP note for it
}

// Open reads corePath, the core of a run of the executable exePath.
func Open(corePath, exePath string) (*Process, error) {
	cf, err := os.Open(corePath)
	if err != nil {
		return nil, fmt.Errorf("opening core file: %w", err)
	}
	p, err := open(cf, exePath)
	if err != nil {
		cf.Close()
		return nil, fmt.Errorf("%s: %w", corePath, err)
	}
	return p, nil
}

func open(cf *os.File, exePath string) (*Process, error) {
	ce, err := elf.NewFile(cf)
	if err != nil {
		return nil, fmt.Errorf("not an ELF core file: %w", err)
	}
	if ce.Type != elf.ET_CORE {
		return nil, fmt.Errorf("not a core file (ELF type %v)", ce.Type)
	}
	if ce.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("core file for %v: only x86-64 is supported", ce.Machine)
	}
	ns, err := readNotes(ce)
	if err != nil {
		return nil, err
	}
	if len(ns.threads) == 0 {
		return nil, ErrNoThreads
	}
	xf, err := os.Open(exePath)
	if err != nil {
		return nil, fmt.Errorf("opening executable: %w", err)
	}
	xe, err := elf.NewFile(xf)
	if err != nil {
		xf.Close()
		return nil, fmt.Errorf("executable %s: %w", exePath, err)
	}
	if xe.Machine != ce.Machine {
		xf.Close()
		return nil, fmt.Errorf("architecture mismatch between core file (%v) and executable file (%v)", ce.Machine, xe.Machine)
	}
	p := &Process{core: cf, exe: xf, pid: ns.pid, current: ns.threads[0].id, auxv: ns.auxv}
	p.threads = append(p.threads, ns.threads...)
	sort.Slice(p.threads, func(i, j int) bool { return p.threads[i].id < p.threads[j].id })
	for _, prog := range ce.Progs {
		if prog.Type == elf.PT_LOAD && prog.Filesz > 0 {
			p.mem.add(region{start: prog.Vaddr, end: prog.Vaddr + prog.Filesz, src: cf, srcOff: int64(prog.Off)})
		}
	}
	p.addExecutable(xe, xf, exePath, ns.files)
	return p, nil
}

// addExecutable adds, below the core's own segments, the file-backed
// mappings of the executable, which the kernel leaves out of a core
// (coredump_filter keeps only their first page): its text and read-only
// data. NT_FILE says where each piece was mapped, PIE or not; without
// it the ELF segments are placed by the load bias from AT_ENTRY.
func (p *Process) addExecutable(xe *elf.File, xf *os.File, exePath string, files []fileMapping) {
	mine := exeMappings(files, exePath)
	for _, f := range mine {
		p.mem.add(region{start: f.Start, end: f.End, src: xf, srcOff: int64(f.Offset)})
	}
	if len(mine) > 0 {
		return
	}
	var bias uint64
	if entry, ok := auxvValue(p.auxv, atEntry); ok {
		bias = entry - xe.Entry
	}
	for _, prog := range xe.Progs {
		if prog.Type == elf.PT_LOAD && prog.Filesz > 0 {
			p.mem.add(region{start: prog.Vaddr + bias, end: prog.Vaddr + bias + prog.Filesz, src: xf, srcOff: int64(prog.Off)})
		}
	}
}

// exeMappings picks the NT_FILE entries of the executable: those with its
// path, else with its file name (the binary was moved or copied since).
func exeMappings(files []fileMapping, exePath string) []fileMapping {
	abs, _ := filepath.Abs(exePath)
	var byPath, byName []fileMapping
	for _, f := range files {
		switch {
		case f.Path == abs:
			byPath = append(byPath, f)
		case filepath.Base(f.Path) == filepath.Base(exePath):
			byName = append(byName, f)
		}
	}
	if len(byPath) > 0 {
		return byPath
	}
	return byName
}

// CurrentThread returns the id of the thread the core lists first, the
// one that received the fatal signal in a kernel core.
func (p *Process) CurrentThread() int { return p.current }

// Pid implements proc.Process: the pid the process had.
func (p *Process) Pid() int { return p.pid }

// ReadMemory implements proc.Process.
func (p *Process) ReadMemory(buf []byte, addr uint64) (int, error) {
	return p.mem.ReadMemory(buf, addr)
}

// WriteMemory implements proc.Process; a core cannot be written.
func (p *Process) WriteMemory(addr uint64, data []byte) (int, error) {
	return 0, ErrWriteCore
}

// Threads implements proc.Process.
func (p *Process) Threads() []proc.Thread {
	out := make([]proc.Thread, len(p.threads))
	for i, th := range p.threads {
		out[i] = th
	}
	return out
}

// Continue implements proc.Process; a dead process does not run.
func (p *Process) Continue() (proc.StopEvent, error) { return proc.StopEvent{}, ErrContinueCore }

// RequestHalt implements proc.Process: nothing runs, so nothing to halt.
func (p *Process) RequestHalt() {}

// Detach implements proc.Process by closing the files.
func (p *Process) Detach() error { return p.close() }

// Kill implements proc.Process by closing the files.
func (p *Process) Kill() error { return p.close() }

func (p *Process) close() error {
	var errs []error
	for _, f := range []**os.File{&p.core, &p.exe} {
		if *f != nil {
			errs = append(errs, (*f).Close())
			*f = nil
		}
	}
	return errors.Join(errs...)
}

// AuxvEntry implements proc.Process from NT_AUXV.
func (p *Process) AuxvEntry() (uint64, error) {
	entry, ok := auxvValue(p.auxv, atEntry)
	if !ok {
		return 0, errors.New("the core file has no AT_ENTRY in NT_AUXV")
	}
	return entry, nil
}

// Exclusive implements proc.Process: a core has no thread of its own to
// run on, so f runs here; a panic in f becomes the error, as on ptrace.
func (p *Process) Exclusive(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while reading the core file: %v", r)
		}
	}()
	f()
	return nil
}

// ID implements proc.Thread.
func (t *Thread) ID() int { return t.id }

// Registers implements proc.Thread.
func (t *Thread) Registers() (arch.Registers, error) { return t.regs, nil }

// FPRegisters implements proc.FPThread.
func (t *Thread) FPRegisters() (arch.FPRegisters, error) {
	if t.fp == nil {
		return arch.FPRegisters{}, fmt.Errorf("thread %d: the core file has no floating point registers for it", t.id)
	}
	return *t.fp, nil
}

// SetPC implements proc.Thread; registers of a core are fixed.
func (t *Thread) SetPC(uint64) error { return ErrChangeRegisterCore }

// StepInstruction implements proc.Thread; a core does not run.
func (t *Thread) StepInstruction() error { return ErrContinueCore }

var _ proc.Process = (*Process)(nil)
var _ proc.FPThread = (*Thread)(nil)
