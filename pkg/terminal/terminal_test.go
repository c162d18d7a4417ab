package terminal

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/service/api"
)

// fakeClient answers the few calls these tests make; any other call
// panics through the nil embedded interface, which fails the test loudly.
type fakeClient struct {
	Client
	funcs, sources []string
	locals         []api.Variable
	state          *api.DebuggerState
}

func (f *fakeClient) ListFunctions(string) ([]string, error) { return f.funcs, nil }
func (f *fakeClient) ListSources(string) ([]string, error)   { return f.sources, nil }
func (f *fakeClient) ListLocalVars(api.EvalScope, api.LoadConfig) ([]api.Variable, error) {
	return f.locals, nil
}
func (f *fakeClient) ListFunctionArgs(api.EvalScope, api.LoadConfig) ([]api.Variable, error) {
	return nil, nil
}
func (f *fakeClient) GetState() (*api.DebuggerState, error)     { return f.state, nil }
func (f *fakeClient) Detach(bool) error                         { return nil }
func (f *fakeClient) IsMulticlient() (bool, error)              { return false, nil }
func (f *fakeClient) ProcessPid() (int, error)                  { return 0, nil }
func (f *fakeClient) SetReturnValuesLoadConfig(*api.LoadConfig) {}

func newFake() (*Term, *bytes.Buffer, *bytes.Buffer, *fakeClient) {
	fc := &fakeClient{
		funcs:   []string{"main.add", "main.main", "main.(*Point).Scale", "fmt.Println"},
		sources: []string{"/src/basic/main.go", "/usr/local/go/src/fmt/print.go"},
		locals:  []api.Variable{{Name: "sum"}, {Name: "p"}},
		state:   &api.DebuggerState{},
	}
	var out, errb bytes.Buffer
	t := New(fc, Config{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, HistoryFile: "-"})
	return t, &out, &errb, fc
}

func TestCompletion(t *testing.T) {
	term, _, _, _ := newFake()
	cases := []struct {
		line string
		want []string
	}{
		{"bre", []string{"break", "breakpoints"}},
		{"goroutine", []string{"goroutine", "goroutines"}},
		{"break main.a", []string{"break main.add"}},
		{"b add", []string{"b main.add"}},
		{"continue Sca", []string{"continue main.(*Point).Scale"}},
		{"list main.g", []string{"list /src/basic/main.go"}},
		{"b print.go", []string{"b /usr/local/go/src/fmt/print.go"}},
		{"print su", []string{"print sum"}},
		{"help cond", []string{"help cond", "help condition"}},
		{"exit x", nil},
	}
	for _, c := range cases {
		if got := term.complete(c.line); !reflect.DeepEqual(got, c.want) {
			t.Errorf("complete(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	term, _, _, _ := newFake()
	cases := map[string]string{
		"nxt":        `command "nxt" not available, did you mean "next"?`,
		"brea":       `command "brea" not available, did you mean "break"?`,
		"stpeout":    `command "stpeout" not available, did you mean "stepout"?`,
		"goroutnes":  `command "goroutnes" not available, did you mean "goroutines"?`,
		"frobnicate": `command "frobnicate" not available, type 'help' for a list of commands`,
	}
	for in, want := range cases {
		if err := term.Call(in); err == nil || err.Error() != want {
			t.Errorf("Call(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestScriptRunsLineByLine(t *testing.T) {
	fc := &fakeClient{state: &api.DebuggerState{}}
	var out, errb bytes.Buffer
	script := "help exit\n\n# comment\nnosuch\nexit\nhelp never-reached\n"
	term := New(fc, Config{Stdin: strings.NewReader(script), Stdout: &out, Stderr: &errb, HistoryFile: "-"})
	code, err := term.Run()
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if !strings.HasPrefix(out.String(), "Exit the debugger.\n") || strings.Contains(out.String(), "never") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if errb.String() != "Command failed: command \"nosuch\" not available, type 'help' for a list of commands\n" {
		t.Errorf("stderr: %q", errb.String())
	}
}

func TestPrefixesAreChecked(t *testing.T) {
	term, _, _, _ := newFake()
	err := term.Call("goroutine 3 restart")
	if err == nil || err.Error() != "restart can not be prefixed by goroutine or frame" {
		t.Errorf("goroutine 3 restart: %v", err)
	}
	if err := term.Call("frame x list"); err == nil || !strings.Contains(err.Error(), "must be a number") {
		t.Errorf("frame x list: %v", err)
	}
	if err := term.Call("exit -c"); err == nil || errors.Is(err, ErrExit) {
		t.Errorf("exit -c without multiclient: %v", err)
	}
}

func TestExamineMemoryFormat(t *testing.T) {
	term, out, _, _ := newFake()
	mem := []byte{1, 0, 2, 0, 0xff, 0xff, 0, 0, 9, 0}
	writeMemory(term, 0x1000, mem, true, 'x', 2)
	term.outBuf.Flush()
	want := "0x1000:   0x0001   0x0002   0xffff   0x0000   0x0009   \n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	if _, err := parseMemArgs("-size 3 0x10"); err == nil {
		t.Error("size 3 accepted")
	}
}
