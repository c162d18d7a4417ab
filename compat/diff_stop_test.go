package compat

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-delve/delve/service/api"
)

// diffLoadConfig is the one LoadConfig every value is read with, by both.
var diffLoadConfig = api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 64, MaxArrayValues: 16, MaxStructFields: -1}

// The items compared at each stop, in the order they are taken. The
// control items move the program; once two debuggers have gone to
// different places the later ones are not compared.
var (
	diffItems    = []string{"breakpoint", "hit", "stack", "args", "locals", "goroutine-ids", "goroutine-locs", "next1", "next2", "next3", "step", "stepout", "retvals"}
	controlItems = map[string]bool{"next1": true, "next2": true, "next3": true, "step": true, "stepout": true}
)

// observation is what one debugger showed at one stop: item -> lines.
type observation map[string][]string

// stopResult is what tinydbg, Delve and Delve again (the control: items
// on which two runs under Delve differ depend on the run, not on the
// debugger) showed at one function's first hit.
type stopResult struct {
	build     string
	fn        string
	tiny, dlv observation
	ctl       observation
	from      map[string]string // control item -> where it started, agreed by all
	err       string            // a failure to run the stop at all
	skipped   []string          // items not compared, after the runs diverged
}

// sessionEnv is the program's environment under every debugger: one P, so
// that goroutines run in the same order, and the CGO_CFLAGS Delve sets in
// its own environment (which its program inherits) set for all, so that
// the programs' stacks start at the same address.
func sessionEnv(b diffBuild) []string {
	return append([]string{"GOMAXPROCS=1", "CGO_CFLAGS=-O0 -g"}, b.prog.envFor(b.goroot)...)
}

// runStop starts the three sessions on b and observes fn's first hit in
// each, taking every item from all three in step.
func runStop(b diffBuild, fn string) stopResult {
	r := stopResult{build: b.label(), fn: fn}
	env := sessionEnv(b)
	args := b.prog.argsFor(b.goroot)
	dir := diffCache()
	sessions := make([]*debugSession, 3)
	errs := make([]error, 3)
	debuggers := [][]string{{tinydbgBin}, dlvArgv(), dlvArgv()}
	names := []string{"tinydbg", "dlv", "dlv-control"}
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sessions[i], errs[i] = startSession(names[i], debuggers[i], b.bin, dir, args, env)
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.close()
			}
		}
	}()
	if errs[0] != nil || errs[1] != nil || errs[2] != nil {
		r.err = fmt.Sprintf("start: tinydbg %v; dlv %v; control %v", errs[0], errs[1], errs[2])
		return r
	}
	r.tiny, r.dlv, r.ctl = observation{}, observation{}, observation{}
	obs := []observation{r.tiny, r.dlv, r.ctl}
	steps := []struct {
		item string
		do   func(s *debugSession) []string
	}{
		{"breakpoint", func(s *debugSession) []string { return setBreakpoint(s, fn) }},
		{"hit", func(s *debugSession) []string { return continueToHit(s) }},
		{"stack", stackOf},
		{"args", func(s *debugSession) []string { return varsOf(s, true) }},
		{"locals", func(s *debugSession) []string { return varsOf(s, false) }},
		{"goroutine-ids", goroutineIDs},
		{"goroutine-locs", goroutineLocs},
		{"next1", func(s *debugSession) []string { return move(s, "next") }},
		{"next2", func(s *debugSession) []string { return move(s, "next") }},
		{"next3", func(s *debugSession) []string { return move(s, "next") }},
		{"step", func(s *debugSession) []string { return move(s, "step") }},
		{"stepout", func(s *debugSession) []string { return move(s, "stepout") }},
	}
	diverged := false
	r.from = map[string]string{}
	last := ""
	for _, st := range steps {
		if controlItems[st.item] {
			r.from[st.item] = last
		}
		if diverged {
			r.skipped = append(r.skipped, st.item)
			continue
		}
		for i, s := range sessions {
			wg.Add(1)
			go func() { defer wg.Done(); obs[i][st.item] = nil; v := st.do(s); obs[i][st.item] = v }()
		}
		wg.Wait()
		if st.item == "goroutine-locs" {
			g := []map[int64]string{sessions[0].glocs, sessions[1].glocs, sessions[2].glocs}
			for i := range sessions {
				obs[i][st.item] = commonLocs(g[i], g...)
			}
		}
		if st.item == "stepout" {
			for i, s := range sessions {
				obs[i]["retvals"] = s.retvals
			}
		}
		a, d, c := r.tiny[st.item], r.dlv[st.item], r.ctl[st.item]
		same := reflect.DeepEqual(a, d) && reflect.DeepEqual(d, c)
		if st.item == "hit" && (!same || !strings.HasPrefix(typeParams.ReplaceAllString(first(a), ""), typeParams.ReplaceAllString(fn, "")+" ")) {
			// One never stopped in fn, or they stopped in different
			// goroutines: nothing else is comparable.
			diverged = true
		}
		if controlItems[st.item] && !same {
			diverged = true
		}
		if st.item == "hit" || controlItems[st.item] {
			last = first(a)
		}
		if st.item == "stepout" && !same {
			r.skipped = append(r.skipped, "retvals")
		}
	}
	return r
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func setBreakpoint(s *debugSession, fn string) []string {
	var out []string
	err := s.call(30*time.Second, func() error {
		bp, err := s.client.CreateBreakpoint(&api.Breakpoint{FunctionName: fn})
		if err != nil {
			return err
		}
		s.bpID = bp.ID
		out = []string{fmt.Sprintf("%d addresses, %s:%d", len(bp.Addrs), short(bp.File), bp.Line)}
		return nil
	})
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	return out
}

// continueToHit continues to the breakpoint's first hit and clears it, so
// that another goroutine's hit cannot interrupt the steps that follow.
func continueToHit(s *debugSession) []string {
	last, err := continueSession(s)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	loc := where(last)
	if s.bpID != 0 {
		_ = s.call(20*time.Second, func() error { _, err := s.client.ClearBreakpoint(s.bpID); return err })
	}
	return []string{loc}
}

// continueSession continues until the program stops or exits and returns
// the last state the server sent.
func continueSession(s *debugSession) (*api.DebuggerState, error) {
	var last *api.DebuggerState
	err := s.call(120*time.Second, func() error {
		for st := range s.client.Continue() {
			last = st
		}
		if last == nil {
			return fmt.Errorf("no state")
		}
		return last.Err
	})
	return last, err
}

// where is the current thread's function and line, as a user reads it.
func where(st *api.DebuggerState) string {
	switch {
	case st == nil:
		return "no state"
	case st.Exited:
		return fmt.Sprintf("exited %d", st.ExitStatus)
	case st.CurrentThread == nil:
		return "no current thread"
	}
	th := st.CurrentThread
	g := int64(0)
	if st.SelectedGoroutine != nil {
		g = st.SelectedGoroutine.ID
	}
	return fmt.Sprintf("%s %s:%d g%d", th.Function.Name(), short(th.File), th.Line, g)
}

// short drops the directories above GOROOT's src and the module cache, the
// same for both debuggers but long to read.
func short(file string) string {
	for _, marker := range []string{"/src/", "/pkg/mod/"} {
		if i := strings.LastIndex(file, marker); i >= 0 {
			return file[i+len(marker):]
		}
	}
	return filepath.Base(file)
}

func stackOf(s *debugSession) []string {
	var out []string
	err := s.call(30*time.Second, func() error {
		frames, err := s.client.Stacktrace(-1, 20, 0, 0, nil)
		if err != nil {
			return err
		}
		for _, f := range frames {
			line := fmt.Sprintf("%s %s:%d", f.Function.Name(), short(f.File), f.Line)
			if f.Err != "" {
				line += " err: " + f.Err
			}
			out = append(out, line)
		}
		return nil
	})
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	return out
}

func varsOf(s *debugSession, args bool) []string {
	var vars []api.Variable
	scope := api.EvalScope{GoroutineID: -1}
	err := s.call(30*time.Second, func() error {
		var err error
		if args {
			vars, err = s.client.ListFunctionArgs(scope, diffLoadConfig)
		} else {
			vars, err = s.client.ListLocalVariables(scope, diffLoadConfig)
		}
		return err
	})
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	return renderVars(vars)
}

func renderVars(vars []api.Variable) []string {
	out := make([]string, 0, len(vars))
	for _, v := range vars {
		out = append(out, fmt.Sprintf("%s %s = %s", v.Name, v.Type, renderValue(v)))
	}
	return out
}

// shownFlags are the variable flags a user sees (shadowing, constants, the
// argument and return markers); VariableEscaped is an implementation
// detail.
const shownFlags = api.VariableShadowed | api.VariableConstant | api.VariableArgument | api.VariableReturnArgument

// renderValue writes a value as the terminal would, with its kind, lengths
// and children, but without addresses: a pointer shows only whether it is
// nil. Unreadable values compare equal whatever the message says why.
func renderValue(v api.Variable) string {
	var b strings.Builder
	kind := reflect.Kind(v.Kind)
	b.WriteString(kind.String())
	if f := v.Flags & shownFlags; f != 0 {
		fmt.Fprintf(&b, "[flags %d]", f)
	}
	if v.Unreadable != "" {
		b.WriteString(" (unreadable)")
		return b.String()
	}
	switch {
	case kind == reflect.Ptr && v.Value == "0":
		b.WriteString(" nil")
	case kind == reflect.Ptr:
	case v.Value != "":
		fmt.Fprintf(&b, " %q", v.Value)
	}
	switch kind {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		fmt.Fprintf(&b, " len=%d", v.Len)
		if v.Cap != 0 {
			fmt.Fprintf(&b, " cap=%d", v.Cap)
		}
	}
	if len(v.Children) > 0 {
		b.WriteString(" {")
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			if c.Name != "" {
				b.WriteString(c.Name + ": ")
			}
			b.WriteString(c.Type + " " + renderValue(c))
		}
		b.WriteString("}")
	}
	return b.String()
}

// goroutineIDs lists every goroutine's id; the session keeps each one's
// location for goroutineLocs, which compares them only over the ids both
// debuggers list (an extra goroutine is goroutine-ids' disagreement).
func goroutineIDs(s *debugSession) []string {
	var out []string
	s.glocs = map[int64]string{}
	err := s.call(30*time.Second, func() error {
		gs, _, err := s.client.ListGoroutines(0, 0)
		if err != nil {
			return err
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i].ID < gs[j].ID })
		for _, g := range gs {
			l := g.CurrentLoc
			out = append(out, fmt.Sprint(g.ID))
			s.glocs[g.ID] = fmt.Sprintf("%d %s %s:%d", g.ID, l.Function.Name(), short(l.File), l.Line)
		}
		return nil
	})
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	return out
}

// goroutineLocs is filled in by runStop from the sessions' glocs.
func goroutineLocs(*debugSession) []string { return nil }

// commonLocs returns the locations in m of the goroutines all of ms list.
func commonLocs(m map[int64]string, ms ...map[int64]string) []string {
	var ids []int64
	for id := range m {
		in := true
		for _, o := range ms {
			if _, ok := o[id]; !ok {
				in = false
			}
		}
		if in {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, m[id])
	}
	return out
}

// move runs next, step or stepout; stepout's return values are kept.
func move(s *debugSession, how string) []string {
	var st *api.DebuggerState
	if how == "stepout" {
		cfg := diffLoadConfig
		s.client.SetReturnValuesLoadConfig(&cfg)
	}
	err := s.call(60*time.Second, func() error {
		var err error
		switch how {
		case "next":
			st, err = s.client.Next()
		case "step":
			st, err = s.client.Step()
		default:
			st, err = s.client.StepOut()
		}
		return err
	})
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	if how == "stepout" && st.CurrentThread != nil {
		s.retvals = renderVars(st.CurrentThread.ReturnValues)
	}
	return []string{where(st)}
}
