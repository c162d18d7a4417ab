package compat

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"
	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestDelveResultsAfterStepOutOfOptimized proves class D13 on gofmt's
// optimized binary. internal/diff.Diff returns a []byte; under Go's
// register ABI the caller finds it in RAX (pointer), RBX (len) and RCX
// (cap) right after the RET, which is where stepout stops. Delve 1.27.2
// looks the result up in the callee's location list, which does not cover
// the return, and says "(unreadable)"; tinydbg reads the ABI registers. The
// proof reads Delve's own view of those registers and of the memory at RAX
// in the same stop and requires tinydbg's len, cap and bytes to match.
func TestDelveResultsAfterStepOutOfOptimized(t *testing.T) {
	if dlvErr != nil {
		t.Fatalf("no dlv %s: %v", dlvVersion, dlvErr)
	}
	b := buildDiffProgram(t, "gofmt", fixture.Flavour{Optimized: true})
	const fn = "internal/diff.Diff"
	stepOut := func(who string, debugger []string) (*api.DebuggerState, *debugSession) {
		s, err := startSession(who, debugger, b.bin, diffCache(), b.prog.argsFor(b.goroot), sessionEnv(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := setBreakpoint(s, fn); len(got) != 1 || got[0] == "" || got[0][0] == 'e' {
			s.close()
			t.Fatalf("%s: break %s: %v", who, fn, got)
		}
		if hit := continueToHit(s); len(hit) != 1 || hit[0][:len(fn)] != fn {
			s.close()
			t.Fatalf("%s: first hit %v", who, hit)
		}
		cfg := diffLoadConfig
		cfg.MaxArrayValues = 64
		s.client.SetReturnValuesLoadConfig(&cfg)
		var st *api.DebuggerState
		if err := s.call(60*time.Second, func() error { var err error; st, err = s.client.StepOut(); return err }); err != nil || st.CurrentThread == nil {
			s.close()
			t.Fatalf("%s: stepout: %v", who, err)
		}
		return st, s
	}
	dst, dlv := stepOut("dlv", dlvArgv())
	defer dlv.close()
	tst, tiny := stepOut("tinydbg", []string{tinydbgBin})
	defer tiny.close()

	dres := dst.CurrentThread.ReturnValues
	if len(dres) == 0 || dres[0].Unreadable == "" {
		t.Errorf("dlv's result after stepout is readable now (%+v): class D13 no longer holds", dres)
	}
	var regs api.Registers
	if err := dlv.call(20*time.Second, func() error {
		var err error
		regs, err = dlv.client.ListThreadRegisters(dst.CurrentThread.ID, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	reg := map[string]uint64{}
	for _, r := range regs {
		if v, err := strconv.ParseUint(r.Value, 0, 64); err == nil {
			reg[r.Name] = v
		}
	}
	ptr, n, c := reg["Rax"], reg["Rbx"], reg["Rcx"]
	if ptr == 0 || n == 0 || n > c {
		t.Fatalf("dlv's registers after stepout do not hold a []byte: rax=%#x rbx=%d rcx=%d (%v)", ptr, n, c, regs)
	}
	var mem []byte
	if err := dlv.call(20*time.Second, func() error {
		var err error
		mem, _, err = dlv.client.ExamineMemory(ptr, 64)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	tres := tst.CurrentThread.ReturnValues
	if len(tres) != 1 || tres[0].Unreadable != "" {
		t.Fatalf("tinydbg's results after stepout: %+v", tres)
	}
	r := tres[0]
	if r.Len != int64(n) || r.Cap != int64(c) {
		t.Errorf("tinydbg: len=%d cap=%d; the ABI registers in dlv: rbx=%d rcx=%d", r.Len, r.Cap, n, c)
	}
	var got []byte
	for _, e := range r.Children {
		v, err := strconv.ParseUint(e.Value, 10, 8)
		if err != nil {
			t.Fatalf("element %q: %v", e.Value, err)
		}
		got = append(got, byte(v))
	}
	if len(got) == 0 || !bytes.Equal(got, mem[:len(got)]) {
		t.Errorf("tinydbg's bytes %q; dlv's memory at rax %q", got, mem)
	}
	t.Logf("dlv: %s; registers rax=%#x rbx=%d rcx=%d; tinydbg len=%d cap=%d %q", dres[0].Unreadable, ptr, n, c, r.Len, r.Cap, got)
}
