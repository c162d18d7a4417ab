package bininfo

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// PackageVar is a package-level variable with a static address.
type PackageVar struct {
	Name   string       // e.g. "main.counter"
	Addr   uint64       // run-time address
	Offset dwarf.Offset // the DW_TAG_variable entry
	Type   dwarf.Offset // its DW_AT_type
	CU     *CompileUnit
}

// PackageVars returns the package variables of the unit, parsing them on
// first use.
func (cu *CompileUnit) PackageVars() ([]PackageVar, error) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	bias := cu.bi.Bias()
	if cu.varsDone && cu.varsBias == bias {
		return cu.vars, nil
	}
	d, err := cu.bi.DWARF()
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(cu.Offset)
	if _, err := r.Next(); err != nil {
		return nil, fmt.Errorf("reading unit %s: %w", cu.Name, err)
	}
	var vars []PackageVar
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading variables of %s: %w", cu.Name, err)
		}
		if e == nil || e.Tag == 0 {
			break
		}
		if e.Tag == dwarf.TagVariable {
			name, _ := e.Val(dwarf.AttrName).(string)
			loc, _ := e.Val(dwarf.AttrLocation).([]byte)
			if addr, ok := cu.staticAddr(loc); ok && name != "" {
				typ, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
				vars = append(vars, PackageVar{Name: name, Addr: addr + bias, Offset: e.Offset, Type: typ, CU: cu})
			}
		}
		r.SkipChildren()
	}
	cu.vars, cu.varsBias, cu.varsDone = vars, bias, true
	return vars, nil
}

// staticAddr decodes a location expression that is just an address:
// DW_OP_addr or DW_OP_addrx. It returns the link-time address.
func (cu *CompileUnit) staticAddr(loc []byte) (uint64, bool) {
	const opAddr, opAddrx = 0x03, 0xa1
	switch {
	case len(loc) == 9 && loc[0] == opAddr:
		return binary.LittleEndian.Uint64(loc[1:]), true
	case len(loc) >= 2 && loc[0] == opAddrx:
		idx, n, err := dwarfbuf.ULEB128(loc[1:])
		if err != nil || n != len(loc)-1 {
			return 0, false
		}
		addrs, err := cu.bi.Section(".debug_addr")
		off := cu.AddrBase + idx*8
		if err != nil || off+8 > uint64(len(addrs)) {
			return 0, false
		}
		return binary.LittleEndian.Uint64(addrs[off:]), true
	}
	return 0, false
}

// packageOf returns the package path of a qualified name: "a/b.c.d" -> "a/b".
func packageOf(name string) string {
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return name[:slash+1+dot]
}

// LookupPackageVar finds a package variable by qualified name
// ("main.counter", "runtime.allgs"). It searches the unit of the variable's
// package first and every unit only if that fails.
func (bi *BinaryInfo) LookupPackageVar(name string) (PackageVar, error) {
	units, err := bi.CompileUnits()
	if err != nil {
		return PackageVar{}, err
	}
	search := func(cu *CompileUnit) (PackageVar, bool) {
		vars, err := cu.PackageVars()
		if err != nil {
			return PackageVar{}, false
		}
		for _, v := range vars {
			if v.Name == name {
				return v, true
			}
		}
		return PackageVar{}, false
	}
	home := bi.CompileUnitByName(packageOf(name))
	if home != nil {
		if v, ok := search(home); ok {
			return v, nil
		}
	}
	for _, cu := range units {
		if cu == home {
			continue
		}
		if v, ok := search(cu); ok {
			return v, nil
		}
	}
	return PackageVar{}, fmt.Errorf("variable %s: %w", name, ErrVarNotFound)
}
