package debugger_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// stopAmong launches manygoroutines with n parked goroutines and stops it
// in main.ready, all of them alive.
func stopAmong(b *testing.B, n int) *debugger.Debugger {
	testenv.RequirePtrace(b)
	bin := fixture.Build(b, "manygoroutines", fixture.Flavour{})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { devnull.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Args: []string{strconv.Itoa(n)}, Stdout: devnull, Stderr: devnull})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Detach(true) })
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.ready"); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Command(api.DebuggerCommand{Name: api.Continue}, nil); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkGoroutinesPage10k measures the first page of 1024 goroutines
// (what a DAP threads request lists) out of 10,000, read afresh at each
// stop: a step between two listings drops whatever a stop cached.
func BenchmarkGoroutinesPage10k(b *testing.B) {
	d := stopAmong(b, 10000)
	if _, err := d.Command(api.DebuggerCommand{Name: api.StepOut}, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := d.Command(api.DebuggerCommand{Name: api.Next}, nil); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		gs, next, err := d.Goroutines(0, 1024)
		if err != nil || len(gs) != 1024 || next != 1024 {
			b.Fatalf("Goroutines(0, 1024) = %d goroutines, next %d, %v", len(gs), next, err)
		}
	}
}

// benchNext times one `next` in main.main's loop with n goroutines parked.
func benchNext(b *testing.B, n int) {
	d := stopAmong(b, n)
	if _, err := d.Command(api.DebuggerCommand{Name: api.StepOut}, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := d.Command(api.DebuggerCommand{Name: api.Next}, nil)
		if err != nil || st.Exited {
			b.Fatalf("next: %+v, %v", st, err)
		}
	}
}

// BenchmarkNext10 and BenchmarkNext10k compare a step with 10 and with
// 10,000 goroutines: a step must not cost more with more goroutines.
func BenchmarkNext10(b *testing.B)  { benchNext(b, 10) }
func BenchmarkNext10k(b *testing.B) { benchNext(b, 10000) }
