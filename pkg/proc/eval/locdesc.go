package eval

import (
	"debug/dwarf"
	"fmt"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// LocationExpr describes where the variable name (a local, an argument or
// a package variable, found as an expression naming it would find it)
// lives at the scope's PC, in the notation of Delve's
// api.Variable.LocationExpr, which `whatis` prints when
// show-location-expr is on: "[block] " and the operations of a single
// expression, or "[OFF:PC] " for the location list entry at offset OFF
// that covers PC; each operation and operand followed by a space,
// operands in hex, register operations naming the register, and
// " (escaped)" for a variable moved to the heap; none for a captured
// variable still read from the closure context. ok is false when the
// name is no variable or its location cannot be found there.
func (s *Scope) LocationExpr(name string) (string, bool) {
	if ents, err := s.entries(); err == nil {
		for i := len(ents) - 1; i >= 0; i-- {
			if n := ents[i].name; n == name || n == "&"+name {
				if _, ok := s.closureContext(&ents[i]); ok {
					// Read from the closure context (DX), not from
					// where its location says: Delve shows none.
					return "", false
				}
				return s.describeEntry(ents[i].entry, strings.HasPrefix(n, "&"))
			}
		}
	}
	full := name
	if s.fn.CU != nil && !strings.Contains(name, ".") {
		full = s.fn.CU.Name + "." + name
	}
	pv, err := s.prog.BI.LookupPackageVar(full)
	if err != nil {
		return "", false
	}
	d, err := s.prog.BI.DWARF()
	if err != nil {
		return "", false
	}
	r := d.Reader()
	r.Seek(pv.Offset)
	e, err := r.Next()
	if err != nil || e == nil {
		return "", false
	}
	return s.describeEntry(e, false)
}

// describeEntry is LocationExpr for one DWARF variable entry.
func (s *Scope) describeEntry(e *dwarf.Entry, escaped bool) (string, bool) {
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return "", false
	}
	expr, err := s.locationExpr(e)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	switch v := f.Val.(type) {
	case []byte:
		b.WriteString("[block] ")
	case int64:
		fmt.Fprintf(&b, "[%#x:%#x] ", v, s.pc)
	case uint64: // a .debug_loclists index: show the offset it names
		off := int64(v)
		if _, l5, _ := s.prog.loclists(); l5 != nil && s.fn.CU != nil {
			if o, err := l5.OffsetOfIndex(s.fn.CU.LoclistsBase, v); err == nil {
				off = o
			}
		}
		fmt.Fprintf(&b, "[%#x:%#x] ", off, s.pc)
	default:
		return "", false
	}
	b.WriteString(delveOps(expr))
	if escaped {
		b.WriteString(" (escaped)")
	}
	return b.String(), true
}

// delveOps rewrites op.Disassemble's listing ("DW_OP_fbreg -24;
// DW_OP_deref") in Delve's notation ("DW_OP_fbreg -0x18 DW_OP_deref "):
// numbers in hex, DW_OP_regN and DW_OP_bregN followed by the register's
// name in parentheses.
func delveOps(expr []byte) string {
	var b strings.Builder
	for _, part := range strings.Split(op.Disassemble(expr), "; ") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		name := fields[0]
		b.WriteString(name)
		for _, prefix := range []string{"DW_OP_reg", "DW_OP_breg"} {
			if n, err := strconv.Atoi(strings.TrimPrefix(name, prefix)); err == nil && strings.HasPrefix(name, prefix) && n < 32 {
				fmt.Fprintf(&b, "(%s)", delveRegName(n))
			}
		}
		b.WriteByte(' ')
		for _, arg := range fields[1:] {
			if n, err := strconv.ParseInt(arg, 0, 64); err == nil {
				fmt.Fprintf(&b, "%#x ", n)
			} else if u, err := strconv.ParseUint(arg, 0, 64); err == nil {
				fmt.Fprintf(&b, "%#x ", u)
			} else {
				b.WriteString(arg + " ")
			}
		}
	}
	return b.String()
}

// delveRegName is Delve's spelling of an amd64 DWARF register: "Rax",
// "R8", "Rip", "XMM0".
func delveRegName(n int) string {
	name := regnum.Name(n)
	if regnum.IsXmm(uint64(n)) {
		return strings.ToUpper(name)
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
