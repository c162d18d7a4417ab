package terminal

import (
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/tinydbg/tinydbg/service/api"
)

// Values of "config position", as in Delve: where a stop is shown.
const (
	positionDefault     = "default"     // or "": source, disassembly after an instruction step
	positionSource      = "source"      // always the source
	positionDisassembly = "disassembly" // always the instructions
)

// flavours names the syntaxes "config disassemble-flavor" accepts.
var flavours = map[string]api.AssemblyFlavour{"intel": api.IntelFlavour, "gnu": api.GNUFlavour, "go": api.GoFlavour}

// printPos shows where th stopped: the source, or, after an instruction
// step or with position disassembly, the instructions around the PC.
func (t *Term) printPos(th *api.Thread, instrStep bool) {
	pos := t.set.position
	if th == nil || pos == positionSource || (pos != positionDisassembly && !instrStep) {
		t.printSource(th)
		return
	}
	if err := t.printDisassPC(th.PC); err != nil {
		fmt.Fprintf(t.errOut, "%v\n", err)
	}
}

// printDisassPC prints source-list-line-count instructions either side of
// pc in its function; the TEXT header only when the window starts at the
// function's first instruction.
func (t *Term) printDisassPC(pc uint64) error {
	insts, err := t.client.Disassemble(pc, 0, t.flavour())
	if err != nil {
		return fmt.Errorf("disassemble around %#x: %w", pc, err)
	}
	header := true
	for i := range insts {
		if insts[i].AtPC {
			s, e := max(i-t.set.listLines, 0), min(i+t.set.listLines+1, len(insts))
			header = s == 0
			insts = insts[s:e]
			break
		}
	}
	return printInstructions(t.out, insts, header)
}

func (t *Term) flavour() api.AssemblyFlavour {
	if f, ok := flavours[t.set.flavour]; ok {
		return f
	}
	return api.IntelFlavour
}

// printInstructions writes insts as Delve's disassemble does: "=>" at the
// PC, "*" after the address of a breakpoint.
func printInstructions(out io.Writer, insts api.AsmInstructions, header bool) error {
	if header && len(insts) > 0 && insts[0].Loc.Function != nil {
		fmt.Fprintf(out, "TEXT %s(SB) %s\n", insts[0].Loc.Function.Name(), insts[0].Loc.File)
	}
	w := tabwriter.NewWriter(out, 1, 8, 1, '\t', 0)
	for _, in := range insts {
		pc, bp := "", ""
		if in.AtPC {
			pc = "=>"
		}
		if in.Breakpoint {
			bp = "*"
		}
		fmt.Fprintf(w, "%s\t%s:%d\t%#x%s\t%x\t%s\n", pc, filepath.Base(in.Loc.File), in.Loc.Line, in.Loc.PC, bp, in.Bytes, in.Text)
	}
	return w.Flush()
}
