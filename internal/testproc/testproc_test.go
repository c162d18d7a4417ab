package testproc

import (
	"bytes"
	"os"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestStartPid starts the sleeper untraced: its pid line is checked, it has
// no tracer, and its code in memory is the file's .text, byte for byte.
func TestStartPid(t *testing.T) {
	exe := fixture.Build(t, "sleeper", fixture.Flavour{})
	cmd := StartPid(t, exe)
	pid := cmd.Process.Pid
	if tp := TracerPid(pid); tp != 0 {
		t.Fatalf("TracerPid(%d) = %d, want 0", pid, tp)
	}
	if tp := TracerPid(os.Getpid()); tp != 0 {
		t.Fatalf("TracerPid(self) = %d, want 0 (the test runs untraced)", tp)
	}
	text, addr := Text(t, exe)
	if tick := Symbol(t, exe, "main.tick"); tick.Value < addr || tick.Value >= addr+uint64(len(text)) {
		t.Fatalf("main.tick at %#x outside .text [%#x, %#x)", tick.Value, addr, addr+uint64(len(text)))
	}
	if mem := Memory(t, pid, addr, len(text)); !bytes.Equal(mem, text) {
		t.Fatal("the sleeper's .text in memory differs from the file's")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if tp := TracerPid(pid); tp != -1 {
		t.Fatalf("TracerPid of a reaped process = %d, want -1", tp)
	}
}

// TestStartReady starts traceprog's loop, which prints "ready", and checks
// StartPid's line check would have refused it while StartReady accepts it.
func TestStartReady(t *testing.T) {
	exe := fixture.Build(t, "traceprog", fixture.Flavour{})
	cmd, line := Start(t, exe, "loop")
	if line != "ready" {
		t.Fatalf("traceprog loop printed %q, want ready", line)
	}
	cmd.Process.Kill()
	cmd.Wait()
	StartReady(t, exe, "loop")
}
