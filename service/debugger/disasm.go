package debugger

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/service/api"
)

const (
	dwarfAttrName       = dwarf.AttrName
	dwarfTagCompileUnit = dwarf.TagCompileUnit
)

// isTypeTag reports whether a DWARF entry declares a type.
func isTypeTag(tag dwarf.Tag) bool {
	switch tag {
	case dwarf.TagBaseType, dwarf.TagStructType, dwarf.TagTypedef, dwarf.TagPointerType,
		dwarf.TagArrayType, dwarf.TagSubroutineType, dwarf.TagUnionType, dwarf.TagEnumerationType:
		return true
	}
	return false
}

// maxDisassemble bounds one Disassemble request.
const maxDisassemble = 1 << 20

// Disassemble decodes [start, end) in the given syntax; with end 0 it
// decodes the whole function containing start. Code is read from the
// executable, not from memory, so our breakpoint bytes never show up.
func (d *Debugger) Disassemble(start, end uint64, flavour api.AssemblyFlavour) (api.AsmInstructions, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if end == 0 {
		fn := d.bi.PCToFunc(start)
		if fn == nil {
			return nil, fmt.Errorf("no function at %#x", start)
		}
		start, end = fn.Entry, fn.End
	}
	if end <= start || end-start > maxDisassemble {
		return nil, fmt.Errorf("bad address range [%#x, %#x)", start, end)
	}
	code, err := d.readCode(start, end-start)
	if err != nil {
		return nil, err
	}
	bpAt := map[uint64]bool{}
	for _, ub := range d.bps {
		if ub.pbp != nil {
			for _, a := range ub.pbp.Addrs {
				bpAt[a] = true
			}
		}
	}
	var curPC uint64
	if ths, err := t.Threads(); err == nil {
		for _, th := range ths {
			if th.ID == t.SelectedThread() {
				curPC = th.Regs.PC()
			}
		}
	}
	symname := func(addr uint64) (string, uint64) {
		if s, ok := d.bi.SymbolAt(addr); ok {
			return s.Name, s.Addr
		}
		return "", 0
	}
	var out api.AsmInstructions
	for off := uint64(0); off < uint64(len(code)); {
		pc := start + off
		inst, err := x86asm.Decode(code[off:], 64)
		n := uint64(inst.Len)
		ai := api.AsmInstruction{Loc: d.pcLocation(pc), Breakpoint: bpAt[pc], AtPC: pc == curPC}
		if err != nil || n == 0 {
			n = 1
			ai.Text = "?"
		} else {
			switch flavour {
			case api.IntelFlavour:
				ai.Text = x86asm.IntelSyntax(inst, pc, symname)
			case api.GoFlavour:
				ai.Text = x86asm.GoSyntax(inst, pc, symname)
			default:
				ai.Text = x86asm.GNUSyntax(inst, pc, symname)
			}
			if inst.Op == x86asm.CALL {
				if rel, ok := inst.Args[0].(x86asm.Rel); ok {
					dest := d.pcLocation(uint64(int64(pc) + int64(n) + int64(rel)))
					ai.DestLoc = &dest
				}
			}
		}
		ai.Bytes = append([]byte(nil), code[off:off+n]...)
		out = append(out, ai)
		off += n
	}
	return out, nil
}

// readCode reads n bytes of executable code at run-time address addr from
// the ELF file.
func (d *Debugger) readCode(addr, n uint64) ([]byte, error) {
	link := addr - d.bi.Bias()
	for _, s := range d.bi.ELF().Sections {
		if s.Flags&elf.SHF_EXECINSTR == 0 || s.Type != elf.SHT_PROGBITS {
			continue
		}
		if link >= s.Addr && link+n <= s.Addr+s.Size {
			buf := make([]byte, n)
			if _, err := s.ReadAt(buf, int64(link-s.Addr)); err != nil {
				return nil, fmt.Errorf("reading code at %#x: %w", addr, err)
			}
			return buf, nil
		}
	}
	return nil, fmt.Errorf("%#x is not inside the executable's code", addr)
}
