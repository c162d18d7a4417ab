package debugger

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/service/api"
)

// regSlot is one general-purpose register as Delve lists it: its name,
// where ptrace puts it and its DWARF number (-1: none).
type regSlot struct {
	name string
	get  func(*arch.Registers) uint64
	dw   int
}

// regSlots are the registers in Delve's order for linux/amd64.
var regSlots = []regSlot{
	{"Rip", func(r *arch.Registers) uint64 { return r.Rip }, 16},
	{"Rsp", func(r *arch.Registers) uint64 { return r.Rsp }, 7},
	{"Rax", func(r *arch.Registers) uint64 { return r.Rax }, 0},
	{"Rbx", func(r *arch.Registers) uint64 { return r.Rbx }, 3},
	{"Rcx", func(r *arch.Registers) uint64 { return r.Rcx }, 2},
	{"Rdx", func(r *arch.Registers) uint64 { return r.Rdx }, 1},
	{"Rsi", func(r *arch.Registers) uint64 { return r.Rsi }, 4},
	{"Rdi", func(r *arch.Registers) uint64 { return r.Rdi }, 5},
	{"Rbp", func(r *arch.Registers) uint64 { return r.Rbp }, 6},
	{"R8", func(r *arch.Registers) uint64 { return r.R8 }, 8},
	{"R9", func(r *arch.Registers) uint64 { return r.R9 }, 9},
	{"R10", func(r *arch.Registers) uint64 { return r.R10 }, 10},
	{"R11", func(r *arch.Registers) uint64 { return r.R11 }, 11},
	{"R12", func(r *arch.Registers) uint64 { return r.R12 }, 12},
	{"R13", func(r *arch.Registers) uint64 { return r.R13 }, 13},
	{"R14", func(r *arch.Registers) uint64 { return r.R14 }, 14},
	{"R15", func(r *arch.Registers) uint64 { return r.R15 }, 15},
	{"Rflags", func(r *arch.Registers) uint64 { return r.Eflags }, 49},
	{"Es", func(r *arch.Registers) uint64 { return r.Es }, 50},
	{"Cs", func(r *arch.Registers) uint64 { return r.Cs }, 51},
	{"Ss", func(r *arch.Registers) uint64 { return r.Ss }, 52},
	{"Ds", func(r *arch.Registers) uint64 { return r.Ds }, 53},
	{"Fs", func(r *arch.Registers) uint64 { return r.Fs }, 54},
	{"Gs", func(r *arch.Registers) uint64 { return r.Gs }, 55},
	{"Fs_base", func(r *arch.Registers) uint64 { return r.FsBase }, 58},
	{"Gs_base", func(r *arch.Registers) uint64 { return r.GsBase }, 59},
}

func regValue(v uint64) string { return fmt.Sprintf("%#016x", v) }

// eflagsBits names the flag bits of Rflags, low bit first; users read
// "[ZF IF]" faster than the hex, and Delve shows them that way.
var eflagsBits = []struct {
	bit  uint
	name string
}{
	{0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"}, {10, "DF"},
	{11, "OF"}, {14, "NT"}, {16, "RF"}, {17, "VM"}, {18, "AC"}, {19, "VIF"}, {20, "VIP"}, {21, "ID"},
}

// rflagsValue is Rflags' hex value followed by its set flags and IOPL.
func rflagsValue(v uint64) string {
	var names []string
	for _, b := range eflagsBits {
		if v&(1<<b.bit) != 0 {
			names = append(names, b.name)
		}
	}
	names = append(names, fmt.Sprintf("IOPL=%d", (v>>12)&3))
	return regValue(v) + "\t[" + strings.Join(names, " ") + "]"
}

// slotValue formats register s holding v.
func slotValue(s regSlot, v uint64) string {
	if s.name == "Rflags" {
		return rflagsValue(v)
	}
	return regValue(v)
}

// threadRegisters lists a thread's general-purpose registers.
func threadRegisters(r *arch.Registers) api.Registers {
	out := make(api.Registers, 0, len(regSlots))
	for _, s := range regSlots {
		out = append(out, api.Register{Name: s.name, Value: slotValue(s, s.get(r)), DwarfNumber: s.dw})
	}
	return out
}

// ScopeRegisters returns the registers of frame of goroutine goid (-1:
// the selected one), as Delve's ListRegisters with a scope does. Frame 0
// of a goroutine running on a thread has the thread's registers. Any
// other frame has the registers the unwinder recovered there: Rip, Rsp and
// Rbp of the frame, plus the callee-saved ones the call frame information
// restores; the others are unknown after a call and are left out rather
// than shown with frame 0's values. includeFp asks for floating point and
// vector registers, which tinydbg does not read: the list is the same.
func (d *Debugger) ScopeRegisters(goid int64, frame int, includeFp bool) (api.Registers, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if goid < 0 {
		goid = d.selectedG(t)
	}
	if frame < 0 {
		return nil, fmt.Errorf("frame %d does not exist", frame)
	}
	if frame == 0 {
		ths, err := t.Threads()
		if err != nil {
			return nil, err
		}
		ti := threadRegsOf(ths, goid)
		if goid == 0 {
			for i := range ths {
				if ths[i].ID == t.SelectedThread() {
					ti = &ths[i]
				}
			}
		}
		if ti != nil {
			return threadRegisters(&ti.Regs), nil
		}
	}
	frames, err := d.goroutineFrames(t, goid, frame+1)
	if frame >= len(frames) {
		if err != nil {
			return nil, fmt.Errorf("registers of frame %d: %w", frame, err)
		}
		return nil, fmt.Errorf("frame %d does not exist", frame)
	}
	f := frames[frame]
	known := map[int]uint64{16: f.PC, 7: f.SP}
	if f.BP != 0 {
		known[6] = f.BP
	}
	if f.Regs != nil {
		for _, s := range regSlots {
			if _, ok := known[s.dw]; ok || s.dw < 0 || s.dw > 16 {
				continue
			}
			if v, ok := f.Regs.Reg(uint64(s.dw)); ok {
				known[s.dw] = v
			}
		}
	}
	var out api.Registers
	for _, s := range regSlots {
		if v, ok := known[s.dw]; ok && s.dw >= 0 {
			out = append(out, api.Register{Name: s.name, Value: slotValue(s, v), DwarfNumber: s.dw})
		}
	}
	return out, nil
}
