package debugger

import (
	"errors"
	"fmt"
	"go/token"
	"reflect"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/service/api"
)

// varSupport is the per-binary evaluation state, built on first use.
type varSupport struct {
	prog *eval.Program
	gOff *goroutine.ExtraLayout // extra runtime.g field offsets, once computed
}

// program returns the evaluation program of the current binary.
func (d *Debugger) program() (*eval.Program, error) {
	if d.vars == nil {
		p, err := eval.NewProgram(d.bi)
		if err != nil {
			return nil, err
		}
		d.vars = &varSupport{prog: p}
	}
	return d.vars.prog, nil
}

func convertScopeVars(vars []eval.ScopeVar) []api.Variable {
	out := make([]api.Variable, 0, len(vars))
	for _, sv := range vars {
		v := api.ConvertVar(sv.Var)
		if sv.Arg {
			v.Flags |= api.VariableArgument
		}
		if sv.Return {
			v.Flags |= api.VariableReturnArgument
		}
		if sv.Shadowed {
			v.Flags |= api.VariableShadowed
		}
		if sv.Escaped {
			v.Flags |= api.VariableEscaped
		}
		v.DeclLine = int64(sv.DeclLine)
		out = append(out, v)
	}
	return out
}

// scope builds the evaluation scope of frame of goroutine goid.
func (d *Debugger) scope(t *proc.Target, goid int64, frame int) (*eval.Scope, error) {
	prog, err := d.program()
	if err != nil {
		return nil, err
	}
	frames, err := d.goroutineFrames(t, goid, frame+1)
	if err != nil && len(frames) <= frame {
		return nil, err
	}
	return prog.FrameScope(t.Process(), frames, frame)
}

// frameVars loads the arguments (args set) or locals of a frame.
func (d *Debugger) frameVars(t *proc.Target, goid int64, frame int, cfg api.LoadConfig, args bool) ([]api.Variable, error) {
	sc, err := d.scope(t, goid, frame)
	if err != nil {
		return nil, err
	}
	return scopeVars(sc, cfg, args)
}

// scopeVars loads the arguments (args set) or locals of a scope.
func scopeVars(sc *eval.Scope, cfg api.LoadConfig, args bool) ([]api.Variable, error) {
	var vars []eval.ScopeVar
	var err error
	if args {
		vars, err = sc.Args(api.LoadConfigToValue(cfg))
	} else {
		vars, err = sc.Locals(api.LoadConfigToValue(cfg))
	}
	if err != nil {
		return nil, err
	}
	return convertScopeVars(vars), nil
}

// scopeGoroutine resolves the -1 "selected goroutine" convention.
func (d *Debugger) scopeGoroutine(t *proc.Target, goid int64) int64 {
	if goid < 0 {
		return d.selectedG(t)
	}
	return goid
}

// LocalVariables lists the locals of a frame of goroutine goid (-1: selected).
func (d *Debugger) LocalVariables(goid int64, frame int, cfg api.LoadConfig) ([]api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return d.frameVars(t, d.scopeGoroutine(t, goid), frame, cfg, false)
}

// FunctionArguments lists the arguments and results of a frame.
func (d *Debugger) FunctionArguments(goid int64, frame int, cfg api.LoadConfig) ([]api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return d.frameVars(t, d.scopeGoroutine(t, goid), frame, cfg, true)
}

// Eval evaluates expr in a frame of goroutine goid (-1: selected).
func (d *Debugger) Eval(goid int64, frame int, expr string, cfg api.LoadConfig) (*api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return d.evalLocked(t, d.scopeGoroutine(t, goid), frame, expr, cfg)
}

func (d *Debugger) evalLocked(t *proc.Target, goid int64, frame int, expr string, cfg api.LoadConfig) (*api.Variable, error) {
	sc, err := d.scope(t, goid, frame)
	if err != nil {
		// Package variables need no frame.
		if v, perr := d.packageVar(t, expr, cfg); perr == nil {
			return v, nil
		}
		return nil, err
	}
	v, err := sc.Eval(expr, api.LoadConfigToValue(cfg))
	if err != nil {
		return nil, err
	}
	out := api.ConvertVar(v)
	if isVarName(expr) {
		// As Delve fills it for a variable named by the expression alone.
		out.LocationExpr, _ = sc.LocationExpr(expr)
	}
	return &out, nil
}

// isVarName reports whether expr only names a variable: x or pkg.x.
func isVarName(expr string) bool {
	pkg, name, dotted := strings.Cut(expr, ".")
	return token.IsIdentifier(pkg) && (!dotted || token.IsIdentifier(name))
}

// Set assigns value to the variable or expression symbol in a frame.
func (d *Debugger) Set(goid int64, frame int, symbol, val string) error {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return err
	}
	defer unlock()
	sc, err := d.scope(t, d.scopeGoroutine(t, goid), frame)
	if err != nil {
		return err
	}
	// The evaluator's message is what Delve's clients show the user; on
	// a core Delve says only that it cannot write.
	err = sc.SetVariable(symbol, val)
	d.forgetG() // the value may be one the goroutine list is read from
	if errors.Is(err, core.ErrWriteCore) {
		return core.ErrWriteCore
	}
	return err
}

// packageVar loads one package variable by its full name.
func (d *Debugger) packageVar(t *proc.Target, name string, cfg api.LoadConfig) (*api.Variable, error) {
	pv, err := d.bi.LookupPackageVar(name)
	if err != nil {
		return nil, err
	}
	v, err := d.loadPackageVar(t, pv, cfg)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (d *Debugger) loadPackageVar(t *proc.Target, pv bininfo.PackageVar, cfg api.LoadConfig) (api.Variable, error) {
	prog, err := d.program()
	if err != nil {
		return api.Variable{}, err
	}
	typ, err := prog.Types.Type(pv.Type)
	if err != nil {
		return api.Variable{}, fmt.Errorf("type of %s: %w", pv.Name, err)
	}
	return api.ConvertVar(prog.Loader(t.Process()).Load(pv.Name, pv.Addr, typ, api.LoadConfigToValue(cfg))), nil
}

// PackageVariables loads the package variables whose names match filter.
func (d *Debugger) PackageVariables(filter string, cfg api.LoadConfig) ([]api.Variable, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cus, err := d.bi.CompileUnits()
	if err != nil {
		return nil, err
	}
	var names []string
	byName := map[string]bininfo.PackageVar{}
	for _, cu := range cus {
		pvs, err := cu.PackageVars()
		if err != nil {
			continue
		}
		for _, pv := range pvs {
			if _, dup := byName[pv.Name]; !dup && pv.Addr != 0 {
				byName[pv.Name] = pv
				names = append(names, pv.Name)
			}
		}
	}
	names, err = filterNames(names, filter)
	if err != nil {
		return nil, err
	}
	out := make([]api.Variable, 0, len(names))
	for _, n := range names {
		v, err := d.loadPackageVar(t, byName[n], cfg)
		if err != nil {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// returnValues reads the results of the function the step of stop
// returned from, right after it returned: the registers still hold
// register-assigned results and the old frame still holds the stack ones,
// so the function's entry scope with its frame address, as proc re-derived
// it on the goroutine's current stack, describes them (eval.ReturnScope).
// Results DWARF does not locate are read where the register ABI put them,
// while the thread is still at the return address. A function without results gives an
// empty, non-nil list: Delve still prints the header.
func (d *Debugger) returnValues(t *proc.Target, stop proc.Stop, cfg api.LoadConfig) []api.Variable {
	ret := stop.Return
	ths, err := t.Threads()
	if err != nil {
		return nil
	}
	var ti *proc.ThreadInfo
	for i := range ths {
		if ths[i].ID == stop.ThreadID {
			ti = &ths[i]
		}
	}
	fn := d.bi.PCToFunc(ret.Fn.Entry)
	if ti == nil || fn == nil {
		return nil
	}
	prog, err := d.program()
	if err != nil {
		return nil
	}
	var at *eval.JustReturned
	if ret.JustReturned(&ti.Regs) {
		regs := ti.Regs
		at = &eval.JustReturned{Regs: &regs, LoadFP: ti.LoadFP}
	}
	sc, err := prog.ReturnScope(t.Process(), ti.Regs, fn, ret.CFA)
	if err != nil {
		return []api.Variable{{Name: "?", Unreadable: err.Error()}}
	}
	vars, err := sc.Results(api.LoadConfigToValue(cfg), at)
	if err != nil {
		return []api.Variable{{Name: "?", Unreadable: err.Error()}}
	}
	return append([]api.Variable{}, convertScopeVars(vars)...)
}

// installEvaluator gives the target a breakpoint condition evaluator when
// the expression evaluator can provide one.
func (d *Debugger) installEvaluator(t *proc.Target) {
	if t.Eval != nil {
		return
	}
	t.Eval = func(t *proc.Target, goid int64, expr string) (bool, error) {
		v, err := d.evalLocked(t, goid, 0, expr, api.LoadConfig{MaxStringLen: 64})
		if err != nil {
			return false, err
		}
		if v.Kind != reflect.Bool {
			return false, fmt.Errorf("condition %q is not boolean", expr)
		}
		return v.Value == "true", nil
	}
}
