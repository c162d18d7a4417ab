package eval_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// session is a fixture stopped under the debugger, with its own symbols
// for unwinding and evaluation.
type session struct {
	t    *testing.T
	tg   *proc.Target
	bi   *bininfo.BinaryInfo
	prog *eval.Program
	un   *stack.Unwinder
	fl   fixture.Flavour
	name string // the fixture
}

func start(t *testing.T, name string, fl fixture.Flavour) *session {
	t.Helper()
	testenv.RequirePtrace(t)
	path := fixture.Build(t, name, fl)
	tg, err := proc.Launch(native.Backend{}, path, nil, proc.LaunchConfig{Stdout: devNull(t), Stderr: devNull(t)})
	if err != nil {
		t.Fatalf("launch %s: %v", name, err)
	}
	t.Cleanup(func() { _ = tg.Kill() })
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bi.Close() })
	entry, err := tg.Process().AuxvEntry()
	if err != nil {
		t.Fatal(err)
	}
	bi.SetLoadBias(entry - bi.EntryPoint())
	prog, err := eval.NewProgram(bi)
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t, tg: tg, bi: bi, prog: prog, un: stack.New(bi), fl: fl, name: name}
}

func devNull(t *testing.T) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// cont resumes until the next breakpoint or runtime.Breakpoint trap.
func (s *session) cont() proc.Stop {
	s.t.Helper()
	st, err := s.tg.Continue()
	if err != nil {
		s.t.Fatalf("continue: %v", err)
	}
	if st.Reason != proc.StopBreakpoint && st.Reason != proc.StopTrap {
		s.t.Fatalf("continue: stopped with %v", st)
	}
	// Like Delve at a hard-coded breakpoint, leave runtime.Breakpoint so
	// that the function being inspected is frame 0 with all its registers.
	// Single instructions rather than stepout: runtime.breakpoint is a
	// frameless assembly function.
	for i := 0; st.Reason != proc.StopBreakpoint && strings.HasPrefix(st.Function, "runtime.") && i < 50; i++ {
		if st, err = s.tg.StepInstruction(); err != nil {
			s.t.Fatalf("step-instruction: %v", err)
		}
	}
	return st
}

// registerSetter writes a thread's registers (the native backend has it).
type registerSetter interface {
	SetRegisters(arch.Registers) error
}

// fpReader reads a thread's XMM registers (the native backend has it).
type fpReader interface {
	FPRegisters() (arch.FPRegisters, error)
}

// scope unwinds the stopped thread and returns the scope of the first
// frame of function fn (frames of runtime.Breakpoint come first).
func (s *session) scope(fn string) *eval.Scope {
	s.t.Helper()
	tid := s.tg.LastStop().ThreadID
	var th proc.Thread
	for _, x := range s.tg.Process().Threads() {
		if x.ID() == tid {
			th = x
		}
	}
	if th == nil {
		s.t.Fatalf("no thread %d", tid)
	}
	regs, err := th.Registers()
	if err != nil {
		s.t.Fatal(err)
	}
	start := stack.FromRegisters(&regs)
	if fr, ok := th.(fpReader); ok {
		start = stack.FromRegistersFP(&regs, fr.FPRegisters)
	}
	frames, err := s.un.Unwind(s.tg.Process(), start, stack.Options{MaxDepth: 20})
	if len(frames) == 0 {
		s.t.Fatalf("unwind: %v", err)
	}
	var names []string
	for i, f := range frames {
		names = append(names, f.Func.Name)
		if f.Func.Name != fn {
			continue
		}
		sc, err := s.prog.FrameScope(s.tg.Process(), frames, i)
		if err != nil {
			s.t.Fatalf("scope of %s: %v", fn, err)
		}
		if rs, ok := th.(registerSetter); ok && i == 0 {
			sc.SetRegister = func(reg, val uint64) error {
				r, err := th.Registers()
				if err != nil {
					return err
				}
				if err := setDwarfReg(&r, reg, val); err != nil {
					return err
				}
				return rs.SetRegisters(r)
			}
		}
		return sc
	}
	s.t.Fatalf("no frame of %s in %s", fn, strings.Join(names, " < "))
	return nil
}

func setDwarfReg(r *arch.Registers, reg, val uint64) error {
	ptrs := map[uint64]*uint64{0: &r.Rax, 1: &r.Rdx, 2: &r.Rcx, 3: &r.Rbx, 4: &r.Rsi, 5: &r.Rdi,
		8: &r.R8, 9: &r.R9, 10: &r.R10, 11: &r.R11, 12: &r.R12, 13: &r.R13, 14: &r.R14, 15: &r.R15}
	p, ok := ptrs[reg]
	if !ok {
		return os.ErrInvalid
	}
	*p = val
	return nil
}

// expr evaluates e and checks print's output (Delve's multi-line format).
func expr(t *testing.T, sc *eval.Scope, e, want string) {
	t.Helper()
	v, err := sc.Eval(e, value.DefaultLoadConfig)
	if err != nil {
		t.Errorf("print %s: error %v, want %q", e, err, want)
		return
	}
	if got := api.FormatVarMultiline(v); got != want {
		t.Errorf("print %s:\n got %q\nwant %q", e, got, want)
	}
}

// exprErr checks that evaluating e fails with exactly msg.
func exprErr(t *testing.T, sc *eval.Scope, e, msg string) {
	t.Helper()
	v, err := sc.Eval(e, value.DefaultLoadConfig)
	if err == nil {
		t.Errorf("print %s: got %q, want error %q", e, api.FormatVarMultiline(v), msg)
		return
	}
	if err.Error() != msg {
		t.Errorf("print %s: error %q, want %q", e, err, msg)
	}
}

// vars formats locals or args as Delve's commands print them.
func vars(t *testing.T, sc *eval.Scope, args bool) string {
	t.Helper()
	var list []eval.ScopeVar
	var err error
	what := "locals"
	if args {
		list, err = sc.Args(value.DefaultLoadConfig)
		what = "args"
	} else {
		list, err = sc.Locals(value.DefaultLoadConfig)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return formatVars(list, what, true)
}

// formatVars renders variables one per line as Delve's locals and args
// commands do: "name = value", shadowed names in parentheses, and
// "(no locals)" / "(no args)" for an empty list. multiline selects print's
// layout (locals -v) over the one-line layout.
func formatVars(vars []eval.ScopeVar, what string, multiline bool) string {
	if len(vars) == 0 {
		return "(no " + what + ")\n"
	}
	var b strings.Builder
	for _, v := range vars {
		name := v.Var.Name
		if v.Shadowed {
			name = "(" + name + ")"
		}
		text := api.FormatVar(v.Var)
		if multiline {
			text = api.FormatVarMultiline(v.Var)
		}
		b.WriteString(name + " = " + text + "\n")
	}
	return b.String()
}
