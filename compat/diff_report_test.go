package compat

import (
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// disagreement is one compared item on which the two debuggers differ.
type disagreement struct {
	build, fn, item string
	from            string // where a control item started
	class           string
	tiny, dlv       string // the differing lines only
}

// key names the disagreement in knownDifferences: where, and its class,
// so that the same item going wrong another way is not taken as known.
func (d disagreement) key() string { return d.build + " " + d.fn + " " + d.item + " [" + d.class + "]" }

func (d disagreement) String() string {
	from := ""
	if d.from != "" {
		from = " from " + d.from
	}
	return fmt.Sprintf("[%s] %s %s %s%s: tinydbg=%s | dlv=%s", d.class, d.build, d.fn, d.item, from, clip(d.tiny), clip(d.dlv))
}

// focus shortens each long line of a to the part around where it first
// differs from the same line of b, keeping the variable's name.
func focus(a, b []string) []string {
	out := make([]string, len(a))
	for i, l := range a {
		out[i] = l
		if i >= len(b) || len(l) < 300 {
			continue
		}
		o := b[i]
		p := 0
		for p < len(l) && p < len(o) && l[p] == o[p] {
			p++
		}
		name, _, _ := strings.Cut(l, " = ")
		if from := p - 120; from > len(name) {
			out[i] = fmt.Sprintf("%s = …%s…", name, l[from:min(len(l), p+180)])
		} else {
			out[i] = l[:min(len(l), p+180)] + "…"
		}
	}
	return out
}

// clip keeps a reported value readable; the comparison used all of it.
func clip(s string) string {
	if len(s) > 700 {
		return s[:700] + "..."
	}
	return s
}

// tally is one program×build row of the table.
type tally struct {
	stops, items, agree, skipped, failed, unstable int
}

func (t *tally) add(o tally) {
	t.stops += o.stops
	t.items += o.items
	t.agree += o.agree
	t.skipped += o.skipped
	t.failed += o.failed
	t.unstable += o.unstable
}

// judge compares every item of r and returns the disagreements.
func judge(r stopResult) (t tally, ds []disagreement) {
	if r.err != "" {
		t.failed = 1
		return t, nil
	}
	t.stops = 1
	skipped := map[string]bool{}
	for _, s := range r.skipped {
		skipped[s] = true
	}
	for _, item := range diffItems {
		if skipped[item] {
			t.skipped++
			continue
		}
		a, okA := r.tiny[item]
		d, okD := r.dlv[item]
		if !okA && !okD {
			continue
		}
		if !reflect.DeepEqual(d, r.ctl[item]) {
			// Two runs under Delve disagree: the item depends on the run.
			t.unstable++
			continue
		}
		t.items++
		if reflect.DeepEqual(a, d) {
			t.agree++
			continue
		}
		onlyA, onlyD := lineDiff(a, d)
		ds = append(ds, disagreement{build: r.build, fn: r.fn, item: item, from: r.from[item], class: classify(r.fn, item, r.from[item], onlyA, onlyD),
			tiny: strings.Join(focus(onlyA, onlyD), " ; "), dlv: strings.Join(focus(onlyD, onlyA), " ; ")})
	}
	for i := range ds {
		ds[i].class = judgedClass(ds[i])
	}
	// A function breakpoint that missed copies of the function can make the
	// program run to its end: the hit is class 9's consequence.
	for i := range ds {
		if ds[i].item == "hit" && len(ds) > 0 && ds[0].item == "breakpoint" && ds[0].class == "9" {
			ds[i].class = "9"
		}
	}
	return t, ds
}

// judgedByHand are items of the full run whose class was judged from the
// binary by hand where the shape alone does not tell it (the judgement
// file gives the evidence): build, function and item, a part of tinydbg's
// answer that must still be there, and the class.
var judgedByHand = []struct{ key, tinyHas, class string }{
	// Captured variables at a closure's entry, read by Delve from stack
	// slots not written yet: .dict (so the shape's name for ~r0's type), g
	// (a stale func value), q (maxActive unreadable), path (len 15541376).
	{"gofumpt/noopt-go1.24.13 sync.OnceValue[go.shape.interface { Error() string }].func2 args", "~r0 error = ", "D6"},
	{"gofumpt/noopt-go1.24.13 sync.OnceValue[go.shape.interface { Error() string }].func2 locals",
		`g func() = func "sync.OnceValue[go.shape.interface { Error() string }].func1"`, "D6"},
	{"go/noopt-go1.24.13 cmd/internal/par.(*Queue).Idle.func1 locals", `maxActive: int int "1"`, "D6"},
	{"go/noopt-go1.24.13 cmd/go/internal/modload.(*loader).pkg.func1 locals", `path string = string "fmt" len=3`, "D6"},
	// An escaped argument at entry: its location list gives the argument
	// registers; Delve reads &i, whose slot runtime.newobject has not filled.
	{"gofumpt/noopt-go1.22.12 sync.newEntry args", "i interface {} = interface[flags 8] {data: *internal/godebug.setting", "D9"},
	// A go1.22 closure's captured f at its entry: go1.22 marks no variable
	// captured; the slot (fbreg -64) is written by the setup code after the
	// breakpoint, which Delve reads; tinydbg reads DX+8 as the program does.
	{"gofumpt/noopt-go1.22.12 mvdan.cc/gofumpt/format.File.func2 locals", `LangVersion: string string "go`, "D6"},
	// step over parseStmt's deferreturn: Delve's rule enters the deferred
	// call, but its check wants runtime.deferreturn as the caller, and
	// decNestLev (it has arguments) runs under parseStmt.deferwrap1
	// (compat TestDelveStepIntoDeferredCall).
	{"gofmt/noopt-go1.24.13 go/parser.(*parser).parseIfStmt.deferwrap1 step", "go/parser.decNestLev go/parser/parser.go:", "D12"},
	{"gofumpt/noopt-go1.22.12 go/parser.(*parser).parseIfStmt.deferwrap1 step", "go/parser.decNestLev go/parser/parser.go:", "D12"},
	// stepout of an inlined PositionFor: Delve stops on a statement of the
	// next Line call's inlined copy (0x5d8b2b), hoisted above the rest of
	// the caller it returns to.
	{"gofumpt/opt go/ast.(*FuncDecl).End stepout", "format.go:257", "D10"},
	// flag.sortFlags sorts the flags of a map (FlagSet.formal), collected
	// in the process's own random iteration order: the data differ, and so
	// the insertion sort's path. The func argument is D2.
	{"gofmt/noopt-go1.24.13 slices.insertionSortCmpFunc[go.shape.*uint8] args", `= func[flags 8] "flag.sortFlags.func1"`, "R+D2"},
	{"gofmt/noopt-go1.24.13 slices.insertionSortCmpFunc[go.shape.*uint8] next3", "zsortanyfunc.go:11", "R"},
	// go1.22 marks no variable captured: Delve reads the closure's slots
	// before its setup code has written them (a string with the right
	// bytes but the slot's stale length, or unreadable), tinydbg reads the
	// closure context (DX) as the program does.
	{"go/noopt-go1.22.12 os.statNolog.func1 locals", `/bin/gccgo" len=`, "D6"},
	{"gofumpt/noopt-go1.22.12 os.statNolog.func1 locals", `/messy.go.in" len=`, "D6"},
	{"gofmt/noopt-go1.22.12 go/parser.(*parser).parsePrimaryExpr.func1 locals", "p *go/parser.parser = ptr {go/parser.parser struct {file: *go/token.File ptr {", "D6"},
	{"gofumpt/noopt-go1.22.12 mvdan.cc/gofumpt/internal/govendor/go/doc/comment.(*parseDoc).parseText.func1 locals",
		`s string = string "Input for the differential test's formatters`, "D6"},
	// Timing: which of cmd/go's loaders had started by the stop (its
	// locals' channel is also D4), whether gofumpt's sequencer goroutine
	// or sort's pivot loop was at the same place, and whether the program
	// ran to its end before the second session's first hit (the rerun
	// file counts each rerun).
	{"go/noopt cmd/go/internal/load.(*preload).preloadMatches.gowrap1 locals", ".autotmp_", "R+D4"},
	{"gofumpt/opt-go1.24.13 main.gofmtMain.func3 stepout", "exited 0", "R"},
	{"gofumpt/opt-go1.24.13 main.gofmtMain.func3 stepout", "runtime.goexit runtime/asm_amd64.s:", "R"},
	// The median of three of a slice cmd/go sorts in the order its
	// parallel loads finished: four reruns gave tinydbg 30 each time, dlv
	// 30, 30, 29, 30 and the control dlv 29, 29, 29, 31.
	{"go/noopt-go1.24.13 slices.medianAdjacentOrdered[go.shape.string] retvals", `~r0 int = int[flags 16] "`, "R"},
	{"go/opt-go1.22.12 slices.partitionOrdered[go.shape.string] stepout", "zsortordered.go:", "R"},
	{"go/noopt-go1.22.12 slices.breakPatternsOrdered[go.shape.string] hit", "has exited with status 0", "R"},
}

// judgedClass is d's class, or the one judged by hand for its item.
func judgedClass(d disagreement) string {
	for _, j := range judgedByHand {
		if j.key == d.build+" "+d.fn+" "+d.item && strings.Contains(d.tiny, j.tinyHas) {
			return j.class
		}
	}
	return d.class
}

// lineDiff returns the lines of a not in b and of b not in a, in order;
// when both are the same lines reordered, it returns both whole.
func lineDiff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, l := range b {
		count[l]++
	}
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			continue
		}
		onlyA = append(onlyA, l)
	}
	count = map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
			continue
		}
		onlyB = append(onlyB, l)
	}
	if len(onlyA) == 0 && len(onlyB) == 0 {
		if slices.Equal(a, b) {
			return nil, nil
		}
		return []string{"order: " + strings.Join(a, " ; ")}, []string{"order: " + strings.Join(b, " ; ")}
	}
	if len(onlyA) == 0 {
		onlyA = []string{"(nothing)"}
	}
	if len(onlyB) == 0 {
		onlyB = []string{"(nothing)"}
	}
	return onlyA, onlyB
}

var (
	closureRE = regexp.MustCompile(`\.(func|gowrap|deferwrap)\d+(\.\d+)?$`)
	lineRE    = regexp.MustCompile(`:\d+( g\d+)?$`)
)

// classify names the issue 9 class a disagreement looks like, by its
// shape; the reader of the report confirms each. Classes "D…" are ones
// where Delve is the one that is wrong or shows less; "new:…" are not in
// issue 9.
func classify(fn, item, from string, tiny, dlv []string) string {
	// Delve gives a channel below the top level the length of its hchan
	// struct (13 fields) and no capacity; tinydbg, as Delve at the top,
	// gives qcount and dataqsiz. Judged apart from anything else.
	// It also names the element type of the buffer it makes up for such
	// a channel "struct struct {}".
	chanLen := regexp.MustCompile(`chan len=\d+( cap=\d+)? \{qcount`)
	emptyStruct := regexp.MustCompile(`\]struct struct \{\}`)
	nt, nd := replaceAll(tiny, chanLen, "chan {qcount"), replaceAll(dlv, chanLen, "chan {qcount")
	nt, nd = replaceAll(nt, emptyStruct, "]struct {}"), replaceAll(nd, emptyStruct, "]struct {}")
	if slices.Equal(nt, nd) {
		return "D4"
	}
	if !slices.Equal(nt, tiny) || !slices.Equal(nd, dlv) {
		// Judge what differs besides the channels.
		tiny, dlv = lineDiff(nt, nd)
	}
	ts, ds := strings.Join(tiny, " ; "), strings.Join(dlv, " ; ")
	values := item == "args" || item == "locals"
	control := controlItems[item]
	if values && len(tiny) > 1 && len(tiny) == len(dlv) {
		// Several variables differ: when each one's difference is one of
		// Delve's wrong answers, the item is (e.g. a generic function's
		// func argument, D2, and its results at entry, D11).
		if c := perLine(fn, item, from, tiny, dlv); c != "" {
			return c
		}
	}
	switch {
	case item == "args" && allMatch(tiny, zeroResult):
		// At a -N -l function's entry its results' slots still hold what
		// an earlier call left there, which Delve shows; the function
		// zeroes them before its first statement, and tinydbg shows that.
		return "D11"
	case (values || item == "retvals") && slices.Equal(replaceAll(replaceAll(dlv, voidUnreadable, "{void invalid}"), unsafePtr, "unsafe.Pointer"),
		replaceAll(tiny, unsafePtr, "unsafe.Pointer")):
		// Delve calls the void pointee of an unsafe.Pointer unreadable
		// (kind invalid). The pointer itself, a heap address, may differ
		// between the two processes (by 64 KiB in one run).
		return "D7"
	case values && allMatch(tiny, funcNamed) && allUnreadable(dlv):
		return "D2"
	case (values || item == "retvals") && invalidKindOnly(tiny, dlv):
		return "11"
	case (values || item == "retvals") && slices.Equal(replaceAll(tiny, constName, `"$1"`), replaceAll(dlv, constName, `"$1"`)):
		return "12"
	case item == "retvals" && allUnreadable(dlv) && !anyUnreadable(tiny):
		// After stepout of an optimized function Delve looks its results
		// up in the callee's location lists, which end before the RET;
		// tinydbg reads the register ABI's result registers, as the caller
		// does (TestDelveResultsAfterStepOutOfOptimized).
		return "D13"
	case item == "retvals":
		return "1"
	case control && strings.HasPrefix(ds, "runtime.doInit1 ") && strings.Contains(ts, ".init "):
		return "D1" // Delve took the init for a wrapper and stepped out of it too
	case strings.Contains(ds, "<autogenerated>") && !strings.Contains(ts, "<autogenerated>"):
		return "D1"
	case control && len(tiny) == 1 && len(dlv) == 1 && from != "" && isInit(funcOf(tiny[0])) &&
		funcOf(dlv[0]) == funcOf(from) && lineOf(dlv[0]) < lineOf(from):
		// tinydbg is back in the init that called the function; Delve,
		// taking the init for a wrapper, went on through it into the
		// init's next call of the same function (os.init's NewFile calls).
		return "D1"
	case item == "breakpoint" && strings.Contains(ds, "<multiple locations>:0") && addrCount(ts) == addrCount(ds):
		// Every address is on one line by pclntab and the DWARF line
		// table; the one Delve puts elsewhere is an inlined copy in a
		// pointer-receiver wrapper, which it calls <autogenerated>:1 (so
		// far each one seen, e.g. go/token.(*Pos).IsValid's 0x52ea96).
		return "D1"
	case item == "breakpoint" && !strings.HasPrefix(ts, "error") && !strings.HasPrefix(ds, "error"):
		return "9"
	case item == "breakpoint":
		return "new:breakpoint"
	case control && strings.HasPrefix(ds, "runtime.doInit1 "):
		return "5"
	case control && strings.HasPrefix(ds, "runtime.goexit ") && (strings.HasPrefix(ts, "exited") || strings.Contains(ts, "no caller")):
		return "8"
	case strings.Contains(ts, "<autogenerated>") || strings.Contains(ts, " :0"):
		return "6"
	case item == "goroutine-locs" && onlyParkLine(tiny, dlv):
		return "D5" // Delve shows the line after gopark's mcall; the runtime's traceback prints the call's
	case values && closureRE.MatchString(fn) && unwrittenOnly(tiny, dlv):
		return "D6" // Delve reads captured variables from stack slots the closure has not written yet
	case item == "goroutine-locs" && onlyRuntime(tiny, dlv):
		return "R"
	case item == "goroutine-ids" && ts == "(nothing)":
		return "D3"
	case item == "goroutine-ids":
		return "R"
	case item == "hit" && len(tiny) == 1 && len(dlv) == 1 && lineRE.FindString(tiny[0]) != lineRE.FindString(dlv[0]) &&
		gRE.ReplaceAllString(tiny[0], "") == gRE.ReplaceAllString(dlv[0], ""):
		return "R"
	case (values || item == "retvals") && strings.Contains(ts, "{void invalid}") && allUnreadable(dlv):
		return "N1"
	case values && allUnreadable(dlv) && !anyUnreadable(tiny):
		return "D2"
	case values && (closureRE.MatchString(fn) || strings.Contains(ts, "closure")):
		return "2"
	case values && strings.HasSuffix(fn, "-fm"):
		return "13"
	case values && strings.Contains(fn, "["):
		return "3"
	case values && strings.Contains(ts, "invalid"):
		return "11"
	case values:
		return "new:values"
	case control && strings.Contains(fn, "deferwrap"):
		return "7"
	case control && len(tiny) == 1 && from != "" && gRE.ReplaceAllString(tiny[0], "") == gRE.ReplaceAllString(from, ""):
		return "N8"
	case control && len(tiny) == 1 && len(dlv) == 1 && closureRE.MatchString(fn) &&
		funcOf(dlv[0]) == closureRE.ReplaceAllString(fn, "") && funcOf(tiny[0]) != funcOf(dlv[0]):
		return "7" // off the end of a deferred closure: Delve is back in its parent
	case item == "step" && strings.Contains(ds, ".deferwrap") && !strings.Contains(ts, ".deferwrap"):
		return "N2"
	case control && (strings.HasSuffix(fn, ".init") || strings.Contains(fn, ".init.")):
		return "5"
	case control && strings.HasPrefix(ts, "exited"):
		return "8"
	case strings.HasPrefix(item, "next") && len(tiny) == 1 && len(dlv) == 1 && from != "" && funcOf(tiny[0]) == funcOf(dlv[0]) &&
		funcOf(from) == funcOf(dlv[0]) && fileOf(from) != fileOf(tiny[0]) && fileOf(tiny[0]) != fileOf(dlv[0]):
		// From a call inlined into an inlined call, tinydbg stops on the
		// middle function's next statement; Delve's next keeps only the
		// physical function's own statements and skips it.
		return "D8"
	case control && len(tiny) == 1 && len(dlv) == 1 && funcOf(tiny[0]) == funcOf(dlv[0]) && fileOf(tiny[0]) != fileOf(dlv[0]):
		return "N5"
	case control && len(tiny) == 1 && len(dlv) == 1 && funcOf(tiny[0]) == funcOf(dlv[0]):
		return "N8"
	case control:
		return "new:control"
	case item == "stack" && sameButLines(tiny, dlv):
		return "10"
	}
	return "new:" + item
}

var (
	// constName matches a value printed with its constant's name.
	constName = regexp.MustCompile(`"[^"]* \((-?\d+)\)"`)
	gRE       = regexp.MustCompile(` g\d+$`)
	// zeroResult matches a result (flags 16) shown as its type's zero.
	zeroResult = regexp.MustCompile(`^\S+ .+ = [a-z0-9]+\[flags 16\]( "0"| "[^"]* \(0\)"| "false"| nil( \{[^{}]*\})?| "nil"| len=0| \{void invalid\})$`)
	// funcNamed is a func value tinydbg names.
	funcNamed = regexp.MustCompile(`^\S+ func.* = func(\[flags \d+\])? "[^"]+"`)
	unsafePtr = regexp.MustCompile(`unsafe\.Pointer "\d+"`)
	// voidUnreadable is Delve's void pointee that it could not "load".
	voidUnreadable = regexp.MustCompile(`\{void invalid \(unreadable\)\}`)
)

// addrCount is the "N addresses" of a breakpoint item.
func addrCount(bp string) string { n, _, _ := strings.Cut(bp, ","); return n }

// funcOf and fileOf split a location "fn file:line gN".
func funcOf(loc string) string { f, _, _ := strings.Cut(loc, " "); return f }

// lineOf is the line of a location, 0 if it has none.
func lineOf(loc string) int {
	m := regexp.MustCompile(`:(\d+)( g\d+)?$`).FindStringSubmatch(loc)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// isInit reports whether fn is a package's init or one of its parts.
func isInit(fn string) bool { return strings.HasSuffix(fn, ".init") || strings.Contains(fn, ".init.") }

func fileOf(loc string) string {
	_, rest, _ := strings.Cut(loc, " ")
	file, _, _ := strings.Cut(rest, ":")
	return file
}

// onlyRuntime reports whether, gopark's line aside, a and b differ only in
// goroutines at runtime functions: ones that had or had not yet parked
// when the program stopped, which depends on the run.
func onlyRuntime(a, b []string) bool {
	x, y := lineDiff(replaceAll(a, parkFrame, "gopark"), replaceAll(b, parkFrame, "gopark"))
	for _, l := range append(x, y...) {
		// internal/runtime/... is the runtime's own code too (its maps).
		if _, loc, _ := strings.Cut(l, " "); !strings.HasPrefix(loc, "runtime.") && !strings.HasPrefix(loc, "internal/runtime/") && !strings.HasPrefix(loc, "gopark") {
			return false
		}
	}
	return true
}

func replaceAll(l []string, re *regexp.Regexp, with string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = re.ReplaceAllString(s, with)
	}
	return out
}

// parkFrame is the frame a goroutine that gave up its M sits in: gopark,
// or goschedIfBusy, whose mcall(gosched_m) leaves the same return address
// one line past the call.
var parkFrame = regexp.MustCompile(`runtime\.(gopark|goschedIfBusy) runtime/proc\.go:\d+`)

// onlyParkLine reports whether a and b differ only in the park frame's line.
func onlyParkLine(a, b []string) bool {
	norm := func(l []string) string { return parkFrame.ReplaceAllString(strings.Join(l, "\n"), "gopark") }
	return norm(a) == norm(b)
}

// invalidKindOnly reports whether a and b differ only where tinydbg says
// kind invalid of an unreadable value whose type Delve knows (class 11).
func invalidKindOnly(a, b []string) bool {
	re := regexp.MustCompile(`= [a-z0-9]+(\[flags \d+\])? \(unreadable\)`)
	norm := func(l []string) string { return re.ReplaceAllString(strings.Join(l, "\n"), "= (unreadable)") }
	return strings.Contains(strings.Join(a, " "), "invalid") && norm(a) == norm(b)
}

// unwrittenOnly reports whether every differing value of Delve's is a zero
// value (as an unwritten stack slot of a fresh goroutine's frame reads)
// where tinydbg's is not: captured variables at a closure's entry.
func unwrittenOnly(tiny, dlv []string) bool {
	zero := regexp.MustCompile(`= (string len=0|interface \{void invalid\}|ptr nil( \{[^{}]* struct\})?|[a-z0-9]+ "0"|[a-z0-9]+ "[A-Za-z]+ \(0\)"|[a-z0-9]+ nil)$`)
	if len(tiny) != len(dlv) {
		return false
	}
	for i := range dlv {
		if !zero.MatchString(dlv[i]) || zero.MatchString(tiny[i]) {
			return false
		}
	}
	return true
}

// perLine classifies each differing variable on its own and returns the
// classes joined ("D11+D2") when all are Delve's wrong answers, else "".
func perLine(fn, item, from string, tiny, dlv []string) string {
	seen := map[string]bool{}
	for i := range tiny {
		tn, _, _ := strings.Cut(tiny[i], " ")
		dn, _, _ := strings.Cut(dlv[i], " ")
		if tn != dn {
			return ""
		}
		c := classify(fn, item, from, tiny[i:i+1], dlv[i:i+1])
		if !strings.HasPrefix(c, "D") {
			return ""
		}
		seen[c] = true
	}
	cs := make([]string, 0, len(seen))
	for c := range seen {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	return strings.Join(cs, "+")
}

func allMatch(l []string, re *regexp.Regexp) bool {
	for _, s := range l {
		if !re.MatchString(s) {
			return false
		}
	}
	return len(l) > 0
}

func allUnreadable(l []string) bool {
	for _, s := range l {
		if !strings.Contains(s, "(unreadable)") {
			return false
		}
	}
	return len(l) > 0
}

func anyUnreadable(l []string) bool {
	for _, s := range l {
		if strings.Contains(s, "(unreadable)") {
			return true
		}
	}
	return false
}

// sameButLines reports whether a and b differ only in line numbers.
func sameButLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lineRE.ReplaceAllString(a[i], "") != lineRE.ReplaceAllString(b[i], "") {
			return false
		}
	}
	return true
}

// writeReport prints the table and every disagreement.
func writeReport(w io.Writer, order []string, tallies map[string]*tally, ds []disagreement, known map[string]string, notes []string) {
	fmt.Fprintf(w, "%-28s %6s %6s %6s %8s %8s %8s %7s\n", "program/build", "stops", "items", "agree", "agree%", "skipped", "unstable", "failed")
	var total tally
	for _, b := range order {
		t := tallies[b]
		fmt.Fprintf(w, "%-28s %6d %6d %6d %7.1f%% %8d %8d %7d\n", b, t.stops, t.items, t.agree, pct(t.agree, t.items), t.skipped, t.unstable, t.failed)
		total.add(*t)
	}
	fmt.Fprintf(w, "%-28s %6d %6d %6d %7.1f%% %8d %8d %7d\n", "total", total.stops, total.items, total.agree, pct(total.agree, total.items), total.skipped, total.unstable, total.failed)
	byClass := map[string]int{}
	for _, d := range ds {
		byClass[d.class]++
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	fmt.Fprintf(w, "\ndisagreements by class (as classified by shape):\n")
	for _, c := range classes {
		fmt.Fprintf(w, "  %-16s %d\n", c, byClass[c])
	}
	fmt.Fprintf(w, "\ndisagreements (%d):\n", len(ds))
	for _, d := range ds {
		line := d.String()
		if reason, ok := known[d.key()]; ok {
			line += "  (known: " + reason + ")"
		}
		fmt.Fprintln(w, line)
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nnotes:\n")
		for _, n := range notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
