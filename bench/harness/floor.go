package main

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/arch/x86/x86asm"
)

// The probe floor of the stats step: a BPF program that only bumps one
// per-CPU counter, attached where tinydbg probes (each net/http function's
// entry past its stack check, and every RET), so the cost of the probe
// mechanism alone is measured on the same load. bpftrace 0.17 cannot probe
// at an offset inside a function ("compiled without (k|u)probe offset
// support"), hence this program of the harness's own.

// floorProbe is an attached counting program.
type floorProbe struct {
	count *ebpf.Map
	prog  *ebpf.Program
	link  link.Link
	sites int
}

// attachFloor attaches the counter at every site of the net/http functions
// of bin, in process pid only.
func attachFloor(bin string, pid int) (*floorProbe, error) {
	offs, err := floorSites(bin)
	if err != nil {
		return nil, err
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return nil, fmt.Errorf("creating the counter: %w", err)
	}
	fp := &floorProbe{count: m, sites: len(offs)}
	fp.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.Kprobe, AttachType: ebpf.AttachTraceUprobeMulti, License: "GPL",
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		}})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("loading the counter program: %w", err)
	}
	ex, err := link.OpenExecutable(bin)
	if err == nil {
		fp.link, err = ex.UprobeMulti(nil, fp.prog, &link.UprobeMultiOptions{Addresses: offs, PID: uint32(pid)})
	}
	if err != nil {
		fp.prog.Close()
		m.Close()
		return nil, fmt.Errorf("attaching %d uprobes: %w", len(offs), err)
	}
	return fp, nil
}

// close detaches the probes and returns how many hits they counted.
func (fp *floorProbe) close() (uint64, error) {
	lerr := fp.link.Close()
	var perCPU []uint64
	err := fp.count.Lookup(uint32(0), &perCPU)
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	fp.prog.Close()
	fp.count.Close()
	return n, errors.Join(lerr, err)
}

// floorSites returns the file offsets of every net/http function's entry
// (past a leading stack check: CMP against 16(R14) and its conditional
// jump, as tinydbg's package probe places it) and of every RET in it.
func floorSites(bin string) ([]uint64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	text := f.Section(".text")
	if text == nil {
		return nil, errors.New(bin + " has no .text")
	}
	code, err := text.Data()
	if err != nil {
		return nil, err
	}
	var offs []uint64
	seen := map[uint64]bool{} // an empty body's entry is its RET: one probe
	add := func(off uint64) {
		if !seen[off] {
			seen[off] = true
			offs = append(offs, off)
		}
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || len(s.Name) < 9 || s.Name[:9] != "net/http." || s.Size == 0 ||
			s.Value < text.Addr || s.Value+s.Size > text.Addr+text.Size {
			continue
		}
		body := code[s.Value-text.Addr : s.Value-text.Addr+s.Size]
		entry, sawCheck := 0, false
		for off, i := 0, 0; off < len(body); i++ {
			inst, err := x86asm.Decode(body[off:], 64)
			if err != nil {
				off++
				continue
			}
			if i < 3 && inst.Op == x86asm.CMP {
				if mem, ok := inst.Args[1].(x86asm.Mem); ok && mem.Base == x86asm.R14 && mem.Disp == 16 {
					sawCheck = true
				}
			}
			off += inst.Len
			if sawCheck && entry == 0 && (inst.Op == x86asm.JBE || inst.Op == x86asm.JB) {
				entry = off
			}
			if inst.Op == x86asm.RET {
				add(s.Value + uint64(off-inst.Len) - text.Addr + text.Offset)
			}
		}
		add(s.Value + uint64(entry) - text.Addr + text.Offset)
	}
	return offs, nil
}
