package compat

import (
	"debug/elf"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// runCapabilities runs one scenario of dapclient/capabilities.js.
func runCapabilities(t *testing.T, dir, port string, cfg map[string]any) {
	t.Helper()
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	cfg["port"] = p
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "capabilities.js"), string(b))
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the DebugClient hung:\n%s", out)
	}
	if err != nil || !strings.HasSuffix(string(out), "PASS\n") {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// textAt returns where bin's .text is in memory and in the file.
func textAt(t *testing.T, bin string) (uint64, uint64) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil {
		t.Fatalf("%s has no .text", bin)
	}
	return s.Addr, s.Offset
}

// TestVSCodeCapabilities runs VS Code's DebugClient through the newest
// capabilities, the same script on tinydbg and dlv: logpoints (tinydbg
// runs those it can capture in the kernel, the rest stop, and both print
// Delve's lines), data breakpoints, readMemory and disassemble with the
// program's own bytes, instruction breakpoints, goroutineFilters, a
// restart by a client attached in mode "remote" to a multi-client server,
// exception breakpoints (unrecovered panic, fatal throw) with
// exceptionInfo, a step by instruction, writeMemory and the restart of a
// launched program.
func TestVSCodeCapabilities(t *testing.T) {
	testenv.RequirePtrace(t)
	dir := dapClientDir(t)
	basic := fixture.Build(t, "basic", fixture.Flavour{})
	basicSrc := fixture.Source("basic")
	watch := fixture.Build(t, "watch", fixture.Flavour{})
	goroutines := fixture.Build(t, "svcgoroutines", fixture.Flavour{})
	panics := fixture.Build(t, "panicexit", fixture.Flavour{})
	values := fixture.Build(t, "values", fixture.Flavour{})
	unlock := buildUnlock(t)
	textAddr, textOff := textAt(t, basic)
	debuggers := []struct{ name, path string }{{"tinydbg", tinydbgBin}}
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s to compare with: %v", dlvVersion, dlvErr)
	} else {
		debuggers = append(debuggers, struct{ name, path string }{"dlv", dlvBin})
	}
	for _, d := range debuggers {
		dapServer := func(t *testing.T) string { return startServer(t, d.path, "dap", "--listen=127.0.0.1:0").port }
		t.Run(d.name+"/logpoints", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "logpoints", "program": basic, "source": basicSrc,
				"logpoints": []map[string]any{
					{"line": 14, "logMessage": "add {a}+{b}"},
					{"line": 15, "logMessage": "sum {sum} {a+b}"},
					{"line": 20, "logMessage": "scale {p.X} {p.Name} {k}"}},
				"logged": []string{"> [Go 1]: add 3+4\n", "> [Go 1]: sum 7 7\n", "> [Go 1]: scale 6 \"pt\" 2\n"}})
		})
		t.Run(d.name+"/data-breakpoints", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "data", "program": watch, "source": fixture.Source("watch"),
				"line": 20, "watch": "counter", "after": 22, "values": []string{"1", "2"}})
		})
		t.Run(d.name+"/memory-instructions", func(t *testing.T) {
			// dlv reads memory only at the memoryReference of a variable it
			// listed (its referencesCollection), never at a frame's pc.
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "memory", "program": basic, "source": basicSrc,
				"line": 15, "textAddr": textAddr, "textOff": textOff, "readCode": d.name == "tinydbg"})
		})
		t.Run(d.name+"/goroutine-filters", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "filters", "program": goroutines,
				"filters": "-with label role=worker", "func": "main.ready", "threads": `^\[Go \d+\] main\.receive$`})
		})
		t.Run(d.name+"/unrecovered-panic", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "exceptions", "program": panics,
				"filter": "unrecovered-panic", "exceptionId": "panic", "text": `"level 3 too deep: bad config"`})
		})
		t.Run(d.name+"/fatal-throw", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "exceptions", "program": unlock,
				"filter": "runtime-fatal-throw", "exceptionId": "fatal error", "text": `"sync: unlock of unlocked mutex"`})
		})
		t.Run(d.name+"/step-instruction", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "stepInstruction", "program": basic, "source": basicSrc, "line": 14})
		})
		t.Run(d.name+"/write-memory", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "writeMemory", "program": values, "source": fixture.Source("values"),
				"line": 143, "global": "vBytes", "after": "ho"})
		})
		t.Run(d.name+"/restart-launch", func(t *testing.T) {
			runCapabilities(t, dir, dapServer(t), map[string]any{"scenario": "relaunch", "program": basic, "source": basicSrc, "line": 14})
		})
		if d.name == "dlv" {
			// dlv 1.27.2 answers the restart but then sends no initialized
			// event within a minute (tried with this script): only
			// tinydbg's restart is checked.
			continue
		}
		t.Run(d.name+"/restart-remote", func(t *testing.T) {
			s := startServer(t, d.path, "exec", "--headless", "--accept-multiclient", "--listen=127.0.0.1:0", basic)
			runCapabilities(t, dir, s.port, map[string]any{"scenario": "restart", "program": basic, "source": basicSrc, "line": 15})
		})
	}
}
