package main

import (
	"fmt"
	"io"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// floorProbes attaches an empty BPF program (return 0: no capture, no ring
// buffer, nothing for user space) at the sites tinydbg probes for fn — its
// entry past the stack check and every RET, found by tinydbg's own
// probe.FindSites — through one uprobe_multi link, as tinydbg attaches.
// What the traced loop then loses per call is the mechanism's floor: the
// uprobe trap at entry, the single-step of each RET, the BPF dispatch.
// The probes fire in any process running the binary until the returned
// closer detaches them.
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
	sites, err := probe.FindSites(bi, f)
	if err != nil {
		return nil, 0, err
	}
	pcs := append([]uint64{sites.Entry}, sites.Returns...)
	pcs = append(pcs, sites.TailJumps...)
	var offs []uint64
	seen := map[uint64]bool{}
	for _, pc := range pcs {
		if seen[pc] {
			continue // a body that is one RET: entry and return share a site
		}
		seen[pc] = true
		off, err := probe.FileOffset(bi, pc)
		if err != nil {
			return nil, 0, err
		}
		offs = append(offs, off)
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
