package debugger

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// PackageBuildInfo is one Go package of the binary: its import path, the
// directory it was compiled in (a guess from its first source line) and,
// when asked for, its files.
type PackageBuildInfo struct {
	ImportPath    string
	DirectoryPath string
	Files         []string
}

// Packages lists the Go packages of the binary, one per Go compile unit
// with a line table, sorted by import path, as Delve's
// ListPackagesBuildInfo does.
func (d *Debugger) Packages(includeFiles bool) ([]PackageBuildInfo, error) {
	data, err := d.bi.DWARF()
	if err != nil {
		return nil, err
	}
	byPath := map[string]*PackageBuildInfo{}
	files := map[string]map[string]bool{}
	r := data.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF compile units: %w", err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarfTagCompileUnit {
			r.SkipChildren()
			continue
		}
		r.SkipChildren()
		if lang, _ := e.Val(dwarf.AttrLanguage).(int64); lang != dwarfLangGo {
			continue
		}
		name, _ := e.Val(dwarfAttrName).(string)
		lr, err := data.LineReader(e)
		if err != nil || lr == nil {
			continue
		}
		ip := strings.ReplaceAll(name, "\\", "/")
		p := byPath[ip]
		if p == nil {
			first, err := firstLineFile(lr)
			if err != nil {
				return nil, err
			}
			if ext := filepath.Ext(first); ext != ".go" && ext != ".s" {
				continue
			}
			p = &PackageBuildInfo{ImportPath: ip, DirectoryPath: filepath.Dir(first)}
			byPath[ip] = p
			files[ip] = map[string]bool{}
		}
		if includeFiles {
			for _, f := range lr.Files() {
				if f != nil {
					files[ip][f.Name] = true
				}
			}
		}
	}
	out := make([]PackageBuildInfo, 0, len(byPath))
	for ip, p := range byPath {
		for f := range files[ip] {
			p.Files = append(p.Files, f)
		}
		sort.Strings(p.Files)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImportPath < out[j].ImportPath })
	return out, nil
}

// dwarfLangGo is DW_LANG_Go.
const dwarfLangGo = 0x16

// firstLineFile is the file of a line table's first row, where Delve
// looks for a package's directory.
func firstLineFile(lr *dwarf.LineReader) (string, error) {
	var le dwarf.LineEntry
	if err := lr.Next(&le); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		return "", fmt.Errorf("reading line table: %w", err)
	}
	if le.File == nil {
		return "", nil
	}
	return le.File.Name, nil
}
