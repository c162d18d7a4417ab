package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// The probe floor: BPF programs attached exactly where tinydbg probes —
// each function's entry past the stack check and every RET, found by
// tinydbg's own probe.FindSites — through one uprobe_multi link, as tinydbg
// attaches. What a traced program then loses is the mechanism's own cost:
// the uprobe trap at entry, the single-step of each RET, the BPF dispatch.

// floorOffsets returns the file offsets of every probe site of funcs.
func floorOffsets(bi *bininfo.BinaryInfo, funcs []*bininfo.Function) ([]uint64, error) {
	var offs []uint64
	seen := map[uint64]bool{}
	for _, f := range funcs {
		sites, err := probe.FindSites(bi, f)
		if err != nil {
			return nil, fmt.Errorf("probe sites of %s: %w", f.Name, err)
		}
		pcs := append([]uint64{sites.Entry}, sites.Returns...)
		pcs = append(pcs, sites.TailJumps...)
		for _, pc := range pcs {
			if seen[pc] {
				continue // a body that is one RET: entry and return share a site
			}
			seen[pc] = true
			off, err := probe.FileOffset(bi, pc)
			if err != nil {
				return nil, err
			}
			offs = append(offs, off)
		}
	}
	return offs, nil
}

// floorProbes attaches an empty program (return 0: no capture, no ring
// buffer, nothing for user space) at fn's sites. The probes fire in any
// process running the binary until the returned closer detaches them.
func floorProbes(path, fn string) (io.Closer, int, error) {
	bi, err := bininfo.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer bi.Close()
	f, err := bi.LookupFunc(fn)
	if err != nil {
		return nil, 0, err
	}
	offs, err := floorOffsets(bi, []*bininfo.Function{f})
	if err != nil {
		return nil, 0, err
	}
	prog, err := cebpf.NewProgram(&cebpf.ProgramSpec{
		Name:         "floor",
		Type:         cebpf.Kprobe,
		AttachType:   cebpf.AttachTraceUprobeMulti,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("loading the empty BPF program: %w", err)
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		prog.Close()
		return nil, 0, err
	}
	l, err := ex.UprobeMulti(nil, prog, &link.UprobeMultiOptions{Addresses: offs})
	if err != nil {
		prog.Close()
		return nil, 0, fmt.Errorf("attaching %d empty uprobes: %w", len(offs), err)
	}
	return closers{l, prog}, len(offs), nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// floorProbe is an attached counting program: the stats step's floor,
// which also says how many probe hits the load made.
type floorProbe struct {
	count *cebpf.Map
	prog  *cebpf.Program
	link  link.Link
	sites int
}

// netHTTP is the stats step's pattern, as traced.
var netHTTP = regexp.MustCompile(`^net/http\.`)

// attachFloor attaches a per-CPU counter at every site of the net/http
// functions of bin, in process pid only.
func attachFloor(bin string, pid int) (*floorProbe, error) {
	bi, err := bininfo.Open(bin)
	if err != nil {
		return nil, err
	}
	defer bi.Close()
	offs, err := floorOffsets(bi, bi.FuncsMatching(netHTTP))
	if err != nil {
		return nil, err
	}
	m, err := cebpf.NewMap(&cebpf.MapSpec{Type: cebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return nil, fmt.Errorf("creating the counter: %w", err)
	}
	fp := &floorProbe{count: m, sites: len(offs)}
	fp.prog, err = cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.Kprobe, AttachType: cebpf.AttachTraceUprobeMulti, License: "GPL",
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
