package trace

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// GraphWriter prints, per goroutine, the tree of traced calls with each
// call's duration once the outermost traced call returns:
//
//	goroutine(3):
//	main.work() {
//	  main.weigh() { } 1.2µs
//	} 35.1µs
type GraphWriter struct {
	w     *bufio.Writer
	trees map[int64]*graphTree
}

// graphNode is one call in a goroutine's tree.
type graphNode struct {
	fn       string
	dur      time.Duration
	returned bool
	children []*graphNode
}

// graphTree is a goroutine's outermost call and the calls still open in it.
type graphTree struct {
	root *graphNode
	open []*graphNode
}

// NewGraphWriter writes call graphs to w.
func NewGraphWriter(w io.Writer) *GraphWriter {
	return &GraphWriter{w: bufio.NewWriter(w), trees: map[int64]*graphTree{}}
}

// Needs implements the sink's load hint: only names and times are shown.
func (g *GraphWriter) Needs() Needs { return Needs{} }

// Event implements Sink.
func (g *GraphWriter) Event(ev *Event) error {
	tr := g.trees[ev.Goroutine]
	if ev.Kind == Call {
		n := &graphNode{fn: ev.Function}
		if tr == nil {
			tr = &graphTree{root: n}
			g.trees[ev.Goroutine] = tr
		} else {
			parent := tr.open[len(tr.open)-1]
			parent.children = append(parent.children, n)
		}
		tr.open = append(tr.open, n)
		return nil
	}
	if tr == nil || ev.Unpaired {
		fmt.Fprintf(g.w, "goroutine(%d):\n} %s (unpaired return)\n", ev.Goroutine, ev.Function)
		return g.w.Flush()
	}
	// Pair with the innermost open call of the same function; calls above
	// it never returned (a panic unwound them).
	for i := len(tr.open) - 1; i >= 0; i-- {
		if tr.open[i].fn == ev.Function {
			tr.open[i].dur, tr.open[i].returned = ev.Duration, true
			tr.open = tr.open[:i]
			break
		}
	}
	if len(tr.open) == 0 {
		delete(g.trees, ev.Goroutine)
		g.print(ev.Goroutine, tr.root)
	}
	return g.w.Flush()
}

func (g *GraphWriter) print(goid int64, root *graphNode) {
	fmt.Fprintf(g.w, "goroutine(%d):\n", goid)
	var walk func(n *graphNode, indent string)
	walk = func(n *graphNode, indent string) {
		end := n.dur.String()
		if !n.returned {
			end = "(did not return)"
		}
		if len(n.children) == 0 {
			fmt.Fprintf(g.w, "%s%s() { } %s\n", indent, n.fn, end)
			return
		}
		fmt.Fprintf(g.w, "%s%s() {\n", indent, n.fn)
		for _, c := range n.children {
			walk(c, indent+"  ")
		}
		fmt.Fprintf(g.w, "%s} %s\n", indent, end)
	}
	walk(root, "")
}

// Close prints the trees of calls that had not returned when tracing
// ended, ordered by goroutine.
func (g *GraphWriter) Close() error {
	ids := make([]int64, 0, len(g.trees))
	for id := range g.trees {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		g.print(id, g.trees[id].root)
	}
	g.trees = map[int64]*graphTree{}
	return g.w.Flush()
}

// Multi sends every event to several sinks.
type Multi []Sink

// Needs implements the sink's load hint: the union of its sinks' needs.
func (m Multi) Needs() Needs {
	var n Needs
	for _, s := range m {
		if ns, ok := s.(interface{ Needs() Needs }); ok {
			n.Values = n.Values || ns.Needs().Values
		} else {
			n.Values = true
		}
	}
	return n
}

// Event implements Sink.
func (m Multi) Event(ev *Event) error {
	for _, s := range m {
		if err := s.Event(ev); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Sink; every sink is closed even when one fails.
func (m Multi) Close() error {
	var errs []string
	for _, s := range m {
		if err := s.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("closing trace outputs: %s", strings.Join(errs, "; "))
	}
	return nil
}
