package compat

import (
	"debug/elf"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// diffProgram is a real program the differential test debugs: how to build
// it, how to run it, and which of its packages' functions are candidates.
type diffProgram struct {
	name string
	// build returns the arguments of `go build` after -o and the flags, and
	// the directory it runs in ("" for a temporary directory outside any
	// module, where GOROOT's commands build).
	pkg string
	dir string
	// args and env of the workload; argsFor may use the toolchain's GOROOT.
	argsFor func(goroot string) []string
	envFor  func(goroot string) []string
	// prefixes of the symbol names sampled as breakpoint candidates.
	prefixes []string
}

// stdPrefixes are standard-library packages every workload here calls into
// through its own code (parsing, printing, sorting, files).
var stdPrefixes = []string{"go/", "strings.", "bytes.", "sort.", "slices.", "fmt.", "os.", "path/filepath.",
	"text/tabwriter.", "flag.", "internal/diff.", "io/fs.", "bufio.", "strconv.", "maps.", "errors.", "sync."}

func testdataDir(parts ...string) string {
	wd, _ := os.Getwd()
	return filepath.Join(append([]string{wd, "testdata", "differential"}, parts...)...)
}

// diffPrograms are the programs, all written by others: GOROOT's gofmt and
// go commands (of whichever toolchain builds them) and gofumpt's command
// from the module proxy, pinned by testdata/differential/gofumpt/go.mod.
func diffPrograms() []diffProgram {
	input := testdataDir("input", "messy.go.in")
	plainEnv := func(string) []string { return nil }
	return []diffProgram{
		{
			name: "gofmt", pkg: "cmd/gofmt",
			argsFor:  func(string) []string { return []string{"-s", "-d", input} },
			envFor:   plainEnv,
			prefixes: append([]string{"main."}, stdPrefixes...),
		},
		{
			name: "gofumpt", pkg: "mvdan.cc/gofumpt", dir: testdataDir("gofumpt"),
			argsFor:  func(string) []string { return []string{"-d", "-extra", input} },
			envFor:   plainEnv,
			prefixes: append([]string{"main.", "mvdan.cc/", "golang.org/x/"}, stdPrefixes...),
		},
		{
			// go list loads packages in parallel through cmd/go/internal/par's
			// generic Cache and Queue: goroutines, generics and closures.
			name: "go", pkg: "cmd/go",
			argsFor: func(string) []string { return []string{"list", "-deps", "-f", "{{.ImportPath}} {{.Name}}", "fmt"} },
			envFor: func(goroot string) []string {
				return []string{"GOROOT=" + goroot, "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off", "GOENV=off",
					"GOPROXY=off", "GO111MODULE=on", "CGO_ENABLED=0"}
			},
			prefixes: append([]string{"main.", "cmd/go/", "cmd/internal/"}, stdPrefixes...),
		},
	}
}

// diffBuild is one program compiled one way.
type diffBuild struct {
	prog    diffProgram
	flavour fixture.Flavour
	bin     string
	goroot  string
}

func (b diffBuild) label() string { return b.prog.name + "/" + b.flavour.Name() }

var diffBuildMu sync.Mutex

// diffCache is where built programs and Delve live between runs.
func diffCache() string { return filepath.Join(os.TempDir(), "tinydbg-differential") }

// buildDiff compiles p with f into the cache (once per program, flavour
// and running Go) and finds the toolchain's GOROOT.
func buildDiff(p diffProgram, f fixture.Flavour) (diffBuild, error) {
	diffBuildMu.Lock()
	defer diffBuildMu.Unlock()
	env := append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	if f.Toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+f.Toolchain)
	}
	dir := p.dir
	if dir == "" {
		dir = diffCache()
		env = append(env, "GOFLAGS=-buildvcs=false")
	}
	if err := os.MkdirAll(diffCache(), 0o755); err != nil {
		return diffBuild{}, err
	}
	gr := exec.Command("go", "env", "GOROOT")
	gr.Dir, gr.Env = dir, env
	out, err := gr.Output()
	if err != nil {
		return diffBuild{}, fmt.Errorf("go env GOROOT (%s): %w", f.Name(), err)
	}
	b := diffBuild{prog: p, flavour: f, goroot: strings.TrimSpace(string(out))}
	b.bin = filepath.Join(diffCache(), fmt.Sprintf("%s-%s-%s", p.name, f.Name(), runtime.Version()))
	if _, err := os.Stat(b.bin); err == nil {
		return b, nil
	}
	args := []string{"build", "-o", b.bin + ".tmp"}
	if !f.Optimized {
		args = append(args, "-gcflags=all=-N -l")
	}
	args = append(args, p.pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return diffBuild{}, fmt.Errorf("go %s (%s): %w\n%s", strings.Join(args, " "), f.Name(), err, out)
	}
	return b, os.Rename(b.bin+".tmp", b.bin)
}

// typeParams matches an instantiation's type arguments.
var typeParams = regexp.MustCompile(`\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]`)

// candidates returns the functions of b's symbol table in its packages,
// shuffled with a fixed seed. A generic function is named by its instance
// (tinydbg does not take the bare generic name; see the report).
func candidates(b diffBuild) ([]string, error) {
	f, err := elf.Open(b.bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("symbols of %s: %w", b.bin, err)
	}
	seen := map[string]bool{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 {
			continue
		}
		name := s.Name
		if !hasAnyPrefix(name, b.prog.prefixes) || strings.Contains(name, "..") {
			continue
		}
		seen[name] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	rand.New(rand.NewSource(9)).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	return names, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// kindOf sorts a function into the shapes the test wants represented.
func kindOf(fn string) string {
	switch {
	case strings.HasSuffix(fn, "-fm"):
		return "methodvalue"
	case regexp.MustCompile(`\.(func|gowrap|deferwrap)\d+(\.\d+)?$`).MatchString(fn):
		return "closure"
	case strings.Contains(fn, "["):
		return "generic"
	default:
		return "plain"
	}
}

// pickHit chooses up to n of the hit functions, taking the kinds in turn
// (generic, closure, method value, plain) in candidate order, so that each
// shape the workload really calls is represented.
func pickHit(order []string, hit map[string]bool, n int) []string {
	byKind := map[string][]string{}
	for _, fn := range order {
		if hit[fn] {
			k := kindOf(fn)
			byKind[k] = append(byKind[k], fn)
		}
	}
	var out []string
	kinds := []string{"generic", "closure", "methodvalue", "plain", "plain"}
	for len(out) < n {
		added := false
		for _, k := range kinds {
			if len(out) < n && len(byKind[k]) > 0 {
				out = append(out, byKind[k][0])
				byKind[k] = byKind[k][1:]
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}
