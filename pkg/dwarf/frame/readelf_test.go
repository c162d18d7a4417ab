package frame

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// This file cross-checks every row of every FDE against an independent
// implementation: binutils' `readelf --debug-dump=frames-interp`.

// oracleRow is one printed row of readelf's interpreted table.
type oracleRow struct {
	loc  uint64
	cfa  string
	cols []string // parallel to oracleEntry.header
}

// oracleEntry is one CIE or FDE as readelf prints it.
type oracleEntry struct {
	off        uint64
	isCIE      bool
	cie        uint64
	begin, end uint64
	header     []string // register column names after LOC and CFA
	rows       []oracleRow
}

var (
	sectionLine = regexp.MustCompile(`^Contents of the (\S+) section`)
	regNameRule = regexp.MustCompile(`\br\d+ \((\w+)\)`) // a register rule: "r9 (r9)", "r1 (rdx)"
	entryLine   = regexp.MustCompile(`^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ (CIE|FDE)(?: cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+))?`)
)

// readelfFrames runs readelf on path and returns its entries per section.
func readelfFrames(t *testing.T, path string) map[string][]*oracleEntry {
	t.Helper()
	if _, err := exec.LookPath("readelf"); err != nil {
		testenv.SkipOrFail(t, "readelf (binutils) is not installed")
	}
	out, err := exec.Command("readelf", "--debug-dump=frames-interp", path).Output()
	if err != nil && len(out) == 0 {
		// readelf exits 1 on mere warnings (e.g. about a separate debug
		// file), so only an empty listing is fatal; minFDEs catches the rest.
		t.Fatalf("readelf %s: %v", path, err)
	}
	res := make(map[string][]*oracleEntry)
	var section string
	var cur *oracleEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			section, cur = m[1], nil
			continue
		}
		if m := entryLine.FindStringSubmatch(line); m != nil {
			cur = &oracleEntry{off: hex(t, m[1]), isCIE: m[2] == "CIE"}
			if !cur.isCIE {
				cur.cie, cur.begin, cur.end = hex(t, m[3]), hex(t, m[4]), hex(t, m[5])
			}
			res[section] = append(res[section], cur)
			continue
		}
		fields := strings.Fields(regNameRule.ReplaceAllString(line, "$1"))
		switch {
		case len(fields) == 0:
			cur = nil // a blank line ends an entry's table
		case cur == nil:
		case fields[0] == "LOC":
			cur.header = fields[2:]
		case cur.header != nil && len(fields) == len(cur.header)+2:
			cur.rows = append(cur.rows, oracleRow{loc: hex(t, fields[0]), cfa: fields[1], cols: fields[2:]})
		default:
			t.Fatalf("unexpected readelf line in %s: %q", section, line)
		}
	}
	return res
}

func hex(t *testing.T, s string) uint64 {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("readelf output: %v", err)
	}
	return v
}

// readelfRegs maps readelf's x86-64 register names to DWARF numbers.
var readelfRegs = func() map[string]uint64 {
	m := map[string]uint64{"rax": 0, "rdx": 1, "rcx": 2, "rbx": 3, "rsi": 4, "rdi": 5, "rbp": 6, "rsp": 7, "ra": 16}
	for i := uint64(8); i < 16; i++ {
		m[fmt.Sprintf("r%d", i)] = i
	}
	for i := uint64(0); i < 16; i++ {
		m[fmt.Sprintf("xmm%d", i)] = 17 + i
	}
	return m
}()

// compareWithReadelf checks every row of every FDE of section in path.
func compareWithReadelf(t *testing.T, path, section string, minFDEs int) {
	entries := readelfFrames(t, path)[section]
	f := openELF(t, path)
	tab := parseSection(t, f, section)
	cies := make(map[uint64]*oracleEntry)
	fdes, points := 0, 0
	for _, e := range entries {
		if e.isCIE {
			cies[e.off] = e
			continue
		}
		if e.end <= e.begin {
			continue
		}
		fdes++
		fde, err := tab.FDEForPC(e.begin)
		if err != nil {
			t.Fatalf("FDE at %#x [%#x,%#x): %v", e.off, e.begin, e.end, err)
		}
		if fde.Offset != e.off || fde.Begin() != e.begin || fde.End() != e.end || fde.CIE.Offset != e.cie {
			t.Fatalf("FDEForPC(%#x) = offset %#x [%#x,%#x) CIE %#x, readelf says offset %#x [%#x,%#x) CIE %#x",
				e.begin, fde.Offset, fde.Begin(), fde.End(), fde.CIE.Offset, e.off, e.begin, e.end, e.cie)
		}
		rows, header := e.rows, e.header
		if len(rows) == 0 {
			// readelf prints no table for an FDE without instructions:
			// the CIE's initial row covers the whole range.
			c := cies[e.cie]
			if c == nil || len(c.rows) != 1 {
				t.Fatalf("FDE at %#x has no rows and its CIE %#x has no single row", e.off, e.cie)
			}
			rows, header = []oracleRow{{loc: e.begin, cfa: c.rows[0].cfa, cols: c.rows[0].cols}}, c.header
		}
		for i, row := range rows {
			next := e.end
			if i+1 < len(rows) {
				next = rows[i+1].loc
			}
			if next <= row.loc {
				continue // superseded by a row at the same address
			}
			for _, pc := range []uint64{row.loc, next - 1} {
				r, err := fde.RulesAt(pc)
				if err != nil {
					t.Fatalf("FDE at %#x: RulesAt(%#x): %v", e.off, pc, err)
				}
				if msg := diffRow(r, header, row); msg != "" {
					t.Fatalf("FDE at %#x, pc %#x: %s (readelf: CFA %s, %v = %v)", e.off, pc, msg, row.cfa, header, row.cols)
				}
				points++
			}
		}
	}
	if fdes < minFDEs {
		t.Fatalf("readelf listed %d FDEs in %s of %s, want at least %d", fdes, section, path, minFDEs)
	}
	t.Logf("%s %s: %d FDEs, %d addresses agree with readelf", path, section, fdes, points)
}

// diffRow describes how r differs from readelf's row, or returns "".
func diffRow(r *Rules, header []string, row oracleRow) string {
	if row.cfa == "exp" {
		if r.CFA.Expr == nil {
			return fmt.Sprintf("CFA %+v, want an expression", r.CFA)
		}
	} else {
		i := strings.LastIndexAny(row.cfa, "+-")
		reg, ok := readelfRegs[row.cfa[:i]]
		off, err := strconv.ParseInt(row.cfa[i:], 10, 64)
		if !ok || err != nil {
			return "unparsable readelf CFA " + row.cfa
		}
		if r.CFA.Expr != nil || r.CFA.Reg != reg || r.CFA.Offset != off {
			return fmt.Sprintf("CFA %+v", r.CFA)
		}
	}
	seen := make(map[uint64]bool)
	for i, name := range header {
		reg, ok := readelfRegs[name]
		if !ok {
			return "unknown readelf register " + name
		}
		if name == "ra" {
			reg = r.RetAddrReg
		}
		seen[reg] = true
		got, has := r.Regs[reg]
		want := row.cols[i]
		var ok2 bool
		switch {
		case want == "u":
			ok2 = !has || got.Kind == RuleUndefined
		case want == "s":
			ok2 = has && got.Kind == RuleSameValue
		case want == "exp":
			ok2 = has && got.Kind == RuleExpression
		case want == "vexp":
			ok2 = has && got.Kind == RuleValExpression
		case strings.HasPrefix(want, "c") || strings.HasPrefix(want, "v"):
			off, err := strconv.ParseInt(want[1:], 10, 64)
			kind := RuleOffset
			if want[0] == 'v' {
				kind = RuleValOffset
			}
			ok2 = err == nil && has && got.Kind == kind && got.Offset == off
		default:
			src, known := readelfRegs[want]
			ok2 = known && has && got.Kind == RuleRegister && got.Reg == src
		}
		if !ok2 {
			return fmt.Sprintf("register %s: rule %+v (present %v), want %s", name, got, has, want)
		}
	}
	for reg, rule := range r.Regs {
		if !seen[reg] && rule.Kind != RuleUndefined {
			return fmt.Sprintf("register %d has rule %+v that readelf does not list", reg, rule)
		}
	}
	return ""
}

func TestReadelfAgreesGo(t *testing.T) {
	compareWithReadelf(t, fixture.Build(t, "basic", fixture.Flavour{Optimized: true}), ".debug_frame", 1000)
}

func TestReadelfAgreesCgo(t *testing.T) {
	path := fixture.Build(t, "cgocall", fixture.Flavour{})
	t.Run("eh_frame", func(t *testing.T) { compareWithReadelf(t, path, ".eh_frame", 20) })
	t.Run("debug_frame", func(t *testing.T) { compareWithReadelf(t, path, ".debug_frame", 1000) })
}

func TestReadelfAgreesSystem(t *testing.T) {
	// libc exercises what compilers emit beyond the simple cases:
	// remember/restore_state, signal frames, expressions.
	for _, path := range []string{"/bin/true", "/lib/x86_64-linux-gnu/libc.so.6"} {
		if _, err := os.Stat(path); err != nil {
			t.Logf("skipping %s: %v", path, err)
			continue
		}
		t.Run(path, func(t *testing.T) { compareWithReadelf(t, path, ".eh_frame", 10) })
	}
}
