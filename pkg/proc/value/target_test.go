package value_test

import (
	"bufio"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// procMem reads a live process's memory through /proc/PID/mem, which root
// may do without attaching, so these tests need no ptrace backend.
type procMem struct{ f *os.File }

func (m procMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr > 1<<63 {
		return 0, fmt.Errorf("address %#x out of range", addr)
	}
	return m.f.ReadAt(buf, int64(addr))
}

// symbols names functions by PC from the ELF symbol table.
type symbols struct{ funcs []elf.Symbol }

func (s *symbols) FuncName(pc uint64) (string, bool) {
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].Value > pc }) - 1
	if i < 0 || pc >= s.funcs[i].Value+s.funcs[i].Size {
		return "", false
	}
	return s.funcs[i].Name, true
}

// target is a running values fixture with what the loader needs.
type target struct {
	bin    string
	mem    procMem
	loader *value.Loader
	vars   map[string]globalVar // "main.vInt" → address and type
}

type globalVar struct {
	addr uint64
	typ  godwarf.Type
}

// startValues builds and starts the values fixture and waits for "ready".
func startValues(t *testing.T, f fixture.Flavour) *target {
	t.Helper()
	return startFixture(t, "values", f)
}

// startFixture builds and starts fixture name, which prints "ready" once
// its values are built.
func startFixture(t *testing.T, name string, f fixture.Flavour) *target {
	t.Helper()
	testenv.RequireRoot(t)
	bin := fixture.Build(t, name, f)
	cmd := exec.Command(bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && !strings.HasPrefix(line, "ready") {
			err = fmt.Errorf("fixture said %q", line)
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("fixture did not get ready: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fixture did not print ready within 20s")
	}
	mf, err := os.Open(fmt.Sprintf("/proc/%d/mem", cmd.Process.Pid))
	if err != nil {
		testenv.SkipOrFail(t, "cannot open /proc/PID/mem: %v", err)
	}
	t.Cleanup(func() { mf.Close() })

	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	types := godwarf.New(d)
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	fr := &symbols{}
	var rtypes uint64
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			fr.funcs = append(fr.funcs, s)
		}
		if s.Name == "runtime.types" {
			rtypes = s.Value
		}
	}
	sort.Slice(fr.funcs, func(i, j int) bool { return fr.funcs[i].Value < fr.funcs[j].Value })
	if rtypes == 0 {
		t.Fatal("no runtime.types symbol")
	}
	tg := &target{
		bin:    bin,
		mem:    procMem{mf},
		loader: &value.Loader{Mem: procMem{mf}, Types: types, RuntimeTypes: rtypes, Funcs: fr, Consts: types},
		vars:   globals(t, d, types),
	}
	return tg
}

// globals finds main's package variables: DW_TAG_variable whose location
// is DW_OP_addr (the fixture is not PIE, so the address needs no bias).
func globals(t *testing.T, d *dwarf.Data, types *godwarf.Types) map[string]globalVar {
	t.Helper()
	vars := make(map[string]globalVar)
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			if name, _ := e.Val(dwarf.AttrName).(string); name != "main" {
				r.SkipChildren()
			}
			continue
		}
		if e.Tag != dwarf.TagVariable {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		loc, _ := e.Val(dwarf.AttrLocation).([]byte)
		toff, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
		if !strings.HasPrefix(name, "main.") || len(loc) != 9 || loc[0] != 0x03 || !ok {
			continue
		}
		typ, err := types.Type(toff)
		if err != nil {
			t.Fatalf("type of %s: %v", name, err)
		}
		vars[name] = globalVar{addr: binary.LittleEndian.Uint64(loc[1:]), typ: typ}
	}
	if len(vars) == 0 {
		t.Fatal("no package variables found in DWARF")
	}
	return vars
}

// load loads package variable name under cfg.
func (tg *target) load(t *testing.T, name string, cfg value.LoadConfig) *value.Variable {
	t.Helper()
	g, ok := tg.vars["main."+name]
	if !ok {
		t.Fatalf("no variable main.%s in %s", name, tg.bin)
	}
	return tg.loader.Load(name, g.addr, g.typ, cfg)
}

// word reads one pointer-sized word of the target, for expectations that
// contain addresses.
func (tg *target) word(t *testing.T, addr uint64) uint64 {
	t.Helper()
	var b [8]byte
	if _, err := tg.mem.ReadMemory(b[:], addr); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}
