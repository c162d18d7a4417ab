package dap

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// commonArgs are the attributes launch and attach share, as vscode-go,
// nvim-dap-go and dap-mode send them; names and defaults are Delve's.
// Attributes not listed here are ignored, as Delve ignores them.
type commonArgs struct {
	StopOnEntry          bool             `json:"stopOnEntry"`
	Backend              string           `json:"backend"`
	StackTraceDepth      int              `json:"stackTraceDepth"`
	ShowGlobalVariables  bool             `json:"showGlobalVariables"`
	ShowRegisters        bool             `json:"showRegisters"`
	HideSystemGoroutines bool             `json:"hideSystemGoroutines"`
	SubstitutePath       []substitutePath `json:"substitutePath"`
	ShowPprofLabels      []string         `json:"showPprofLabels"`
	GoroutineFilters     string           `json:"goroutineFilters"`
	// FollowExec debugs the children the program forks and execs too
	// (those whose command line matches FollowExecRegex, when set), as
	// the REPL's target follow-exec -on does; launch only, as in Delve.
	FollowExec      bool   `json:"followExec"`
	FollowExecRegex string `json:"followExecRegex"`
}

// substitutePath maps a source path prefix of the client (From) to the
// one in the binary's debug information (To).
type substitutePath struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// sessionOpts are the common attributes once checked.
type sessionOpts struct {
	showGlobals, showRegisters, hideSystem bool
	stackDepth                             int
	substitute                             []substitutePath
	pprofLabels                            []string // label keys shown in thread names
	// goroutineFilters select the goroutines threads lists, in the
	// syntax of the REPL's goroutines -with/-without.
	goroutineFilters []api.ListGoroutinesFilter
}

// check validates the attributes and returns the session's options.
func (a *commonArgs) check() (sessionOpts, error) {
	switch a.Backend {
	case "", "default", "native":
	default:
		return sessionOpts{}, fmt.Errorf("unsupported 'backend' attribute %q: tinydbg has only the native backend", a.Backend)
	}
	if a.StackTraceDepth < 0 {
		return sessionOpts{}, fmt.Errorf("'stackTraceDepth' must not be negative, got %d", a.StackTraceDepth)
	}
	for i, sp := range a.SubstitutePath {
		if sp.From == "" && sp.To == "" {
			return sessionOpts{}, fmt.Errorf("'substitutePath' entry %d has neither 'from' nor 'to'", i)
		}
	}
	// Only the filters count, as in Delve; the rest of a goroutines
	// line (-t, -group, ...) says how the REPL prints.
	gargs, err := api.ParseGoroutineArgs(a.GoroutineFilters)
	if err != nil {
		return sessionOpts{}, fmt.Errorf("invalid 'goroutineFilters' attribute %q: %w", a.GoroutineFilters, err)
	}
	depth := a.StackTraceDepth
	if depth == 0 {
		depth = defaultStackDepth
	}
	return sessionOpts{showGlobals: a.ShowGlobalVariables, showRegisters: a.ShowRegisters,
		hideSystem: a.HideSystemGoroutines, stackDepth: depth, substitute: a.SubstitutePath,
		pprofLabels: a.ShowPprofLabels, goroutineFilters: gargs.Filters}, nil
}

// toServer maps a client path to the binary's, by the first rule whose
// prefix matches.
func (o *sessionOpts) toServer(path string) string {
	for _, sp := range o.substitute {
		if p, ok := replacePrefix(path, sp.From, sp.To); ok {
			return p
		}
	}
	return path
}

// toClient maps a path of the binary back to the client's.
func (o *sessionOpts) toClient(path string) string {
	for _, sp := range o.substitute {
		if p, ok := replacePrefix(path, sp.To, sp.From); ok {
			return p
		}
	}
	return path
}

// replacePrefix replaces the directory prefix from of path by to; a
// prefix matches whole path elements only.
func replacePrefix(path, from, to string) (string, bool) {
	if from == "" {
		return "", false
	}
	from = strings.TrimSuffix(from, "/")
	rest, ok := strings.CutPrefix(path, from)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	if to == "" {
		return strings.TrimPrefix(rest, "/"), true
	}
	return filepath.Clean(strings.TrimSuffix(to, "/") + rest), true
}

// decodeArgs unpacks a launch or attach configuration into v; a value of
// the wrong type is named by its attribute, not by Go's field path.
func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	err := json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		name := te.Field[strings.LastIndexByte(te.Field, '.')+1:]
		return fmt.Errorf("the '%s' attribute must be %s, not %s", name, kindName(te.Type.Kind()), jsonKind(te.Value))
	}
	return err
}

// kindName says what JSON value a Go kind takes.
func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	default:
		return "a number"
	}
}

// jsonKind names a JSON value kind as encoding/json reports it.
func jsonKind(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return "a " + v // number, or number 1.5
}

// labelText is the part of a thread's name showPprofLabels asks for, as
// Delve writes it: one key shows its value alone, "*" every label sorted
// by key, several keys key:value each.
func (o *sessionOpts) labelText(labels map[string]string) string {
	keys := o.pprofLabels
	if len(keys) == 1 && keys[0] != "*" {
		if v := labels[keys[0]]; v != "" {
			return " " + v
		}
		return ""
	}
	if len(keys) == 1 {
		keys = slices.Sorted(maps.Keys(labels))
	}
	var b strings.Builder
	for _, k := range keys {
		if v := labels[k]; v != "" {
			fmt.Fprintf(&b, " %s:%s", k, v)
		}
	}
	return b.String()
}
