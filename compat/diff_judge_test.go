package compat

import (
	"slices"
	"testing"

	"github.com/go-delve/delve/service/api"
)

// TestDifferentialJudge checks the comparison's own rules on values shaped
// like those the real programs gave, so that a class is not reported for
// the wrong reason.
func TestDifferentialJudge(t *testing.T) {
	a, b := lineDiff([]string{"x", "y", "z"}, []string{"x", "w", "z"})
	if !slices.Equal(a, []string{"y"}) || !slices.Equal(b, []string{"w"}) {
		t.Errorf("lineDiff = %q, %q", a, b)
	}
	a, b = lineDiff([]string{"x", "y"}, []string{"y", "x"})
	if !slices.Equal(a, []string{"order: x ; y"}) || !slices.Equal(b, []string{"order: y ; x"}) {
		t.Errorf("lineDiff of a reordering = %q, %q", a, b)
	}

	cases := []struct {
		fn, item  string
		from      string
		tiny, dlv []string
		want      string
	}{
		{"internal/diff.Diff", "retvals", "", []string{`~r0 []uint8 = slice[flags 16] len=2 cap=8 {uint8 uint "100", uint8 uint "105"}`},
			[]string{"~r0 []uint8 = slice[flags 16] (unreadable)"}, "D13"},
		{"go/parser.(*parser).parseBinaryExpr", "retvals", "", []string{`~r0 go/ast.Expr = interface[flags 16] {data: *go/ast.Ident ptr}`},
			[]string{"~r0 go/ast.Expr = interface[flags 18] (unreadable)", "~r0 go/ast.Expr = interface[flags 16] (unreadable)"}, "D13"},
		{"main.f", "retvals", "", []string{`~r0 int = int[flags 16] "3"`}, []string{`~r0 int = int[flags 16] "4"`}, "1"},
		{"main.f", "goroutine-locs", "", []string{"1 runtime.gopark runtime/proc.go:462"}, []string{"1 runtime.gopark runtime/proc.go:463"}, "D5"},
		{"main.f", "goroutine-locs", "", []string{"2 runtime.gopark runtime/proc.go:462", "3 runtime.goschedIfBusy runtime/proc.go:414"},
			[]string{"2 runtime.gopark runtime/proc.go:463", "3 runtime.goschedIfBusy runtime/proc.go:415"}, "D5"},
		{"main.f", "goroutine-locs", "", []string{"1 internal/runtime/maps.(*table).maxGrowthLeft internal/runtime/maps/table.go:115", "2 runtime.gopark runtime/proc.go:462"},
			[]string{"1 runtime.mapassign_faststr internal/runtime/maps/runtime_faststr.go:263", "2 runtime.gopark runtime/proc.go:463"}, "R"},
		{"main.f", "goroutine-locs", "", []string{"1 main.work main.go:9"}, []string{"1 main.work main.go:10"}, "new:goroutine-locs"},
		{"main.gofmtMain.func3.1", "locals", "", []string{`path string = string "/tmp/messy.go" len=13`, "info io/fs.FileInfo = interface {data: *os.fileStat ptr {os.fileStat struct}}"},
			[]string{"path string = string len=0", "info io/fs.FileInfo = interface {void invalid}"}, "D6"},
		{"main.gofmtMain.func3.1", "locals", "", []string{`path string = string "/tmp/messy.go" len=13`}, []string{`path string = string "/tmp/other.go" len=13`}, "2"},
		{"mvdan.cc/gofumpt/format.(*fumpter).commentsBetween.func2", "locals", "", []string{`p2 go/token.Pos = int "161"`}, []string{`p2 go/token.Pos = int "NoPos (0)"`}, "D6"},
		{"cmd/internal/par.(*Queue).Add.func1", "locals", "", []string{`q *cmd/internal/par.Queue = ptr {cmd/internal/par.Queue struct {maxActive: int int "1"}}`},
			[]string{`q *cmd/internal/par.Queue = ptr nil {cmd/internal/par.Queue struct}`}, "D6"},
		{"main.f", "args", "", []string{"r *T = ptr {prev: <-chan int chan len=1 cap=1 {qcount: uint uint \"1\"}}"},
			[]string{"r *T = ptr {prev: <-chan int chan len=13 {qcount: uint uint \"1\"}}"}, "D4"},
		{"main.f", "args", "", []string{"~r0 error = invalid[flags 16] (unreadable)"}, []string{"~r0 error = interface[flags 16] (unreadable)"}, "11"},
		{"go/ast.(*FuncLit).End", "args", "", []string{`~r0 go/token.Pos = int[flags 16] "NoPos (0)"`}, []string{`~r0 go/token.Pos = int[flags 16] "1114"`}, "D11"},
		{"os.Pipe", "args", "", []string{"r *os.File = ptr[flags 16] nil {os.File struct}", "err error = interface[flags 16] {void invalid}"},
			[]string{"r *os.File = ptr[flags 16] {os.File struct {file: *os.file ptr (unreadable)}}", "err error = interface[flags 16] (unreadable)"}, "D11"},
		{"par.(*ErrCache).Do", "args", "", []string{`f func() error = func[flags 8] "load.loadPackageData.func2"`, "~r1 error = interface[flags 16] {void invalid}"},
			[]string{"f func() error = func[flags 8] (unreadable)", "~r1 error = interface[flags 16] {void invalid (unreadable)}"}, "D11+D2"},
		{"go/ast.sortSpecs.func1", "args", "", []string{`~r0 int = int[flags 16] "0"`}, []string{`~r0 int = int[flags 16] "86"`}, "D11"},
		{"main.f", "args", "", []string{"err error = interface[flags 16] {void invalid}"}, []string{"err error = interface[flags 16] (unreadable)"}, "D11"},
		{"main.f", "args", "", []string{"~r0 []*T = slice[flags 16] len=0"}, []string{"~r0 []*T = slice[flags 16] len=824634574816 cap=824633950984 {*T ptr}"}, "D11"},
		{"main.f", "args", "", []string{"e error = interface[flags 8] {void invalid}"}, []string{"e error = interface[flags 8] (unreadable)"}, "N1"},
		{"go/ast.SortImports", "args", "", []string{`fset *go/token.FileSet = ptr {v: unsafe.Pointer unsafe.Pointer "824634066528" {void invalid}}`},
			[]string{`fset *go/token.FileSet = ptr {v: unsafe.Pointer unsafe.Pointer "824634066528" {void invalid (unreadable)}}`}, "D7"},
		{"internal/poll.init", "stack", "", []string{"internal/poll.init internal/poll/copy_file_range_linux.go:13"}, []string{"internal/poll.init <autogenerated>:1"}, "D1"},
		{"main.f.deferwrap1", "next2", "", []string{"main.g main.go:9 g1"}, []string{"main.f main.go:5 g1"}, "7"},
		{"main.f", "next3", "", []string{"main.(*T).M <autogenerated>:1 g7"}, []string{"go/ast.Walk go/ast/walk.go:34 g7"}, "6"},
		{"main.f", "goroutine-ids", "", []string{"(nothing)"}, []string{"17"}, "D3"},
		{"os.NewFile", "next2", "os.NewFile os/file.go:134 g1", []string{"os.init os/file.go:72 g1"}, []string{"os.NewFile os/file.go:133 g1"}, "D1"},
		{"main.f", "args", "", []string{`mode: go/parser.Mode uint "ParseComments|SkipObjectResolution (68)"`},
			[]string{`mode: go/parser.Mode uint "mvdan.cc/gofumpt/internal/govendor/go/format.parserMode (68)"`}, "12"},
		{"main.f", "breakpoint", "", []string{"4 addresses, os/exec.go:386"}, []string{"4 addresses, <multiple locations>:0"}, "D1"},
		{"go/ast.(*StarExpr).Pos", "next2", "go/printer.(*printer).expr1 go/token/position.go:93 g7", []string{"go/printer.(*printer).expr1 go/printer/printer.go:886 g7"},
			[]string{"go/printer.(*printer).expr1 go/printer/nodes.go:816 g7"}, "D8"},
		{"cmd/internal/par.(*Queue).Add", "args", "", []string{`q *T = ptr {st: chan T chan len=1 cap=1 {qcount: uint uint "1", buf: *[0]struct {} ptr}}`, `f func() = func[flags 8] "main.g.func1"`},
			[]string{`q *T = ptr {st: chan T chan len=13 {qcount: uint uint "1", buf: *[0]struct struct {} ptr}}`, "f func() = func[flags 8] (unreadable)"}, "D2"},
		{"main.f", "breakpoint", "", []string{"1 addresses, os/exec.go:386"}, []string{"4 addresses, <multiple locations>:0"}, "9"},
		{"main.f", "breakpoint", "", []string{"error: not found"}, []string{"4 addresses, <multiple locations>:0"}, "new:breakpoint"},
		{"main.f", "hit", "", []string{"main.f main.go:3 g41"}, []string{"main.f main.go:3 g6"}, "R"},
		{"main.invoke", "step", "", []string{"main.invoke cmd/go/main.go:225 g1"}, []string{"main.invoke os/env.go:140 g1"}, "N5"},
		{"main.g", "stepout", "", []string{"error: stepout: main.init.0 has no caller to return to"}, []string{"runtime.doInit1 runtime/proc.go:7173 g1"}, "5"},
		{"bufio.(*Writer).Write", "step", "bufio.(*Writer).Write bufio/bufio.go:695 g1", []string{"bufio.(*Writer).Write bufio/bufio.go:695 g1"},
			[]string{"bufio.(*Writer).Write bufio/bufio.go:696 g1"}, "N8"},
		{"go/parser.(*parser).parsePrimaryExpr.func1", "next1", "go/parser.(*parser).parsePrimaryExpr.func1 go/parser/parser.go:1708 g6",
			[]string{"go/parser.(*parser).parseTypeSpec go/parser/parser.go:2620 g6"}, []string{"go/parser.(*parser).parsePrimaryExpr go/parser/parser.go:1764 g6"}, "7"},
		{"main.f", "goroutine-locs", "", []string{"2 runtime.gopark runtime/proc.go:462", "5 runtime.gopark runtime/proc.go:462"},
			[]string{"2 runtime.gopark runtime/proc.go:463", "5 runtime.runFinalizers runtime/mfinal.go:193"}, "R"},
	}
	for _, c := range cases {
		if got := classify(c.fn, c.item, c.from, c.tiny, c.dlv); got != c.want {
			t.Errorf("classify(%s %s, %q, %q) = %s, want %s", c.fn, c.item, c.tiny, c.dlv, got, c.want)
		}
	}

	d := disagreement{build: "gofumpt/noopt-go1.22.12", fn: "sync.newEntry", item: "args", class: "N1",
		tiny: "i interface {} = interface[flags 8] {data: *internal/godebug.setting ptr {}}"}
	if got := judgedClass(d); got != "D9" {
		t.Errorf("judgedClass(newEntry's i) = %s, want D9", got)
	}
	if d.tiny = "i interface {} = interface[flags 8] {data: int 3}"; judgedClass(d) != "N1" {
		t.Errorf("judgedClass kept D9 for another answer of tinydbg's")
	}

	d = disagreement{build: "gofmt/noopt-go1.24.13", fn: "go/parser.(*parser).parseIfStmt.deferwrap1", item: "step", class: "7",
		tiny: "go/parser.decNestLev go/parser/parser.go:123 g6"}
	if got := judgedClass(d); got != "D12" {
		t.Errorf("judgedClass(step into the deferred decNestLev) = %s, want D12", got)
	}
	if d.tiny = "go/parser.(*parser).parseStmtList go/parser/parser.go:1403 g6"; judgedClass(d) != "7" {
		t.Errorf("judgedClass kept D12 for another answer of tinydbg's")
	}

	v := api.Variable{Name: "p", Type: "*main.T", Kind: 22, Value: "824634330112", Children: []api.Variable{
		{Type: "main.T", Kind: 25, Children: []api.Variable{{Name: "X", Type: "int", Kind: 2, Value: "3"}}},
	}}
	if got, want := renderValue(v), `ptr {main.T struct {X: int int "3"}}`; got != want {
		t.Errorf("renderValue = %s, want %s (no address)", got, want)
	}
	v.Unreadable = "reading 8 bytes at 0x200: bad address"
	if got, want := renderValue(v), "ptr (unreadable)"; got != want {
		t.Errorf("renderValue of unreadable = %s, want %s", got, want)
	}
}
