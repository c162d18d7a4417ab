package dap

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// evaluate evaluates expr in frame and returns the response body.
func (c *testClient) evaluate(expr string, frame int, ctx string) dap.EvaluateResponseBody {
	c.t.Helper()
	seq := c.send("evaluate", map[string]any{"expression": expr, "frameId": frame, "context": ctx})
	return expectResponse[*dap.EvaluateResponse](c, seq).Body
}

// only returns the single variable of ref.
func (c *testClient) only(ref int) dap.Variable {
	c.t.Helper()
	vs := c.variables(ref)
	if len(vs) != 1 {
		c.t.Fatalf("variables of %d: %+v, want one", ref, vs)
	}
	return vs[0]
}

// TestVariables checks Delve's value strings and the lazy expansion of
// pointers, interfaces, maps, slices and a cyclic list on the values
// fixture, with the evaluate names VS Code uses for watches.
func TestVariables(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "values", fixture.Flavour{})
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("values")}, "breakpoints": []map[string]any{{"line": 143}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	f := c.stack(stop.ThreadId, 0, 1).Body.StackFrames[0].Id

	for _, tc := range []struct{ expr, result, typ string }{
		{"main.vUint8", "255 = 0xff", "uint8"},
		{"main.vC64", "(1.5 + -2i)", "complex64"},
		{"main.vPtr", `*main.Point {X: 3, Y: 4, Name: "pt"}`, "*main.Point"},
		{"main.vAnyPoint", `interface {}(main.Point) {X: 5, Y: 6, Name: "ip"}`, "interface {}(main.Point)"},
		{"main.vErr", `error(*errors.errorString) *{s: "boom"}`, "error(*errors.errorString)"},
		{"main.vOuter", `main.Outer {Point: main.Point {X: 1, Y: 2, Name: "in"}, Z: 9, Tags: []string len: 1, cap: 1, ["x"]}`, "main.Outer"},
		{"main.vAnys", `[]interface {} len: 4, cap: 4, [1,"s",nil,*main.Point {X: 4, Y: 0, Name: ""}]`, "[]interface {}"},
		{"main.vChan", "chan int 2/3", "chan int"},
		{"main.vPtrNil", "*main.Point nil", "*main.Point"},
		{"len(main.vSliceBig)", "100", "int"},
	} {
		ev := c.evaluate(tc.expr, f, "watch")
		if ev.Result != tc.result || ev.Type != tc.typ {
			t.Errorf("%s = %s (%s), want %s (%s)", tc.expr, ev.Result, ev.Type, tc.result, tc.typ)
		}
	}

	// 64 elements are loaded, and are the children.
	want := "[]int len: 100, cap: 100, ["
	for i := range 64 {
		want += fmt.Sprint(i) + ","
	}
	want += "...+36 more]"
	big := c.evaluate("main.vSliceBig", f, "watch")
	if big.Result != want {
		t.Errorf("vSliceBig = %q", big.Result)
	}
	elems := c.variables(big.VariablesReference)
	if len(elems) != 64 || elems[63].Name != "[63]" || elems[63].Value != "63" || elems[63].EvaluateName != "(main.vSliceBig)[63]" {
		t.Errorf("elements of vSliceBig: %d, last %+v", len(elems), elems[len(elems)-1])
	}
	if pts := c.evaluate("main.vPoints", f, "watch"); pts.Result != `[]main.Point len: 2, cap: 2, [{X: 1, Y: 2, Name: "a"},{X: 3, Y: 0, Name: ""}]` {
		t.Errorf("vPoints = %q", pts.Result)
	}
	// A line longer than 256 bytes is cut, except for the clipboard.
	// (Delve ends every pair with ", ", the last one too.)
	cut := c.evaluate("main.vMapBig", f, "watch")
	full := c.evaluate("main.vMapBig", f, "clipboard")
	if len(cut.Result) != 256+3 || !strings.HasSuffix(cut.Result, "...") || !strings.HasPrefix(cut.Result, "map[int]int [") ||
		!strings.HasPrefix(full.Result, "map[int]int [") || !strings.HasSuffix(full.Result, ", ,...+36 more]") || len(full.Result) < 600 {
		t.Errorf("vMapBig = %q, for the clipboard %q", cut.Result, full.Result)
	}

	// A map of string keys shows one line per pair.
	m := c.evaluate("main.vMapSmall", f, "watch")
	got := map[string]dap.Variable{}
	for _, v := range c.variables(m.VariablesReference) {
		got[v.Name] = v
	}
	if one := got[`"one"`]; one.Value != "1" || one.Type != "string: int" || one.EvaluateName != `(main.vMapSmall)["one"]` || len(got) != 2 {
		t.Errorf("pairs of vMapSmall: %+v", got)
	}

	// Through an interface and a pointer to the fields.
	ap := c.evaluate("main.vAnyPtr", f, "hover")
	data := c.only(ap.VariablesReference)
	if data.Name != "data" || data.Value != `*main.Point {X: 1, Y: 1, Name: "pp"}` {
		t.Errorf("data of vAnyPtr: %+v", data)
	}
	pt := c.only(data.VariablesReference)
	if name := findVar(t, c.variables(pt.VariablesReference), "Name"); name.Value != `"pp"` || name.EvaluateName != "(*(main.vAnyPtr).(*main.Point)).Name" {
		t.Errorf("vAnyPtr.Name: %+v", name)
	}

	// The cyclic list a -> b -> a: past the loaded depth, expanding loads
	// the next level, around the cycle as often as the user clicks.
	l := c.evaluate("main.vList", f, "watch")
	shape := regexp.MustCompile(`^\*main\.Node \{V: 1, Next: \*main\.Node \{V: 2, Next: \*\(\*main\.Node\)\(0x[0-9a-f]+\)\}\}$`)
	if !shape.MatchString(l.Result) {
		t.Fatalf("vList = %q", l.Result)
	}
	ref := l.VariablesReference
	for i, want := range []string{"1", "2", "1", "2", "1"} {
		node := c.only(ref)
		fields := c.variables(node.VariablesReference)
		if v := findVar(t, fields, "V"); v.Value != want {
			t.Fatalf("node %d: V = %s, want %s (%+v)", i, v.Value, want, fields)
		}
		next := findVar(t, fields, "Next")
		if next.VariablesReference == 0 || !strings.HasPrefix(next.Value, "*main.Node {V: ") {
			t.Fatalf("node %d: Next = %+v", i, next)
		}
		ref = next.VariablesReference
	}

	// terminate ends the program (it would sleep forever), and the
	// session with it.
	ts := c.server
	pid := targetPid(t, ts)
	seq = c.send("terminate", nil)
	expectResponse[*dap.TerminateResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	if st := procState(pid); st != "" {
		t.Fatalf("target %d still there in state %s after terminate", pid, st)
	}
	seq = c.send("disconnect", nil)
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
}
