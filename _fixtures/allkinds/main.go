// Command allkinds calls one function per kind of value, each on the main
// goroutine in a fixed order, so that both trace backends can be compared
// line by line: strings, structs, nested pointers, slices and arrays of
// strings and structs, interfaces, errors, maps, channels, funcs and floats
// held in memory.
//
// chained's map has, with Go's buckets layout (before 1.24), overflow
// buckets two deep, and growing's is caught growing (overflow_buckets.go).
package main

import (
	"errors"
	"fmt"
	"os"
)

type Point struct {
	X, Y float64
	Name string
}

type Node struct {
	Val  int
	Tag  string
	Next *Node
}

type Shape interface{ Area() float64 }

type Rect struct {
	W, H  float64
	Label string
}

func (r Rect) Area() float64 { return r.W * r.H }

type Circle struct{ R float64 }

func (c *Circle) Area() float64 { return 3 * c.R * c.R }

type Request struct {
	Method string
	Path   string
	Query  string
	Header map[string][]string
	Body   []byte
	Remote string
	Port   int
	Opts   *Options
	TLS    *Options
}

type Options struct {
	Verbose bool
	Level   int8
	Name    string
}

//go:noinline
func str(s string) int { return len(s) }

//go:noinline
func longStr(s string) int { return len(s) }

//go:noinline
func point(p Point) float64 { return p.X }

//go:noinline
func pointPtr(p *Point) string { return p.Name }

//go:noinline
func list(n *Node) int { return n.Val }

//go:noinline
func strs(s []string) int { return len(s) }

//go:noinline
func points(ps []Point) int { return len(ps) }

//go:noinline
func ptrs(ps []*Point) int { return len(ps) }

//go:noinline
func arr(a [3]string) string { return a[0] }

//go:noinline
func structArr(a [2]Point) float64 { return a[1].Y }

//go:noinline
func shape(s Shape) float64 { return s.Area() }

//go:noinline
func anyv(v any) any { return v }

//go:noinline
func fail(err error) error { return err }

//go:noinline
func ints(m map[string]int) int { return len(m) }

//go:noinline
func nested(m map[int][]string) int { return len(m) }

//go:noinline
func bigMap(m map[string]int) int { return len(m) }

//go:noinline
func chained(m map[string]int) int { return len(m) }

//go:noinline
func growing(m map[string]int) int { return len(m) }

//go:noinline
func channel(c chan int) int { return cap(c) }

//go:noinline
func fn(f func(int) int) int { return f(1) }

//go:noinline
func request(r *Request) string { return r.Method }

//go:noinline
func bytesv(b []byte) int { return len(b) }

//go:noinline
func floats(f []float64) int { return len(f) }

func double(x int) int { return 2 * x }

func main() {
	long := ""
	for i := 0; i < 10; i++ {
		long += "0123456789"
	}
	str("hello")
	longStr(long)
	point(Point{1.5, -2.25, "p"})
	pointPtr(&Point{3, 4, "q"})
	list(&Node{1, "a", &Node{2, "b", &Node{3, "c", nil}}})
	strs([]string{"x", "yy", "zzz"})
	points([]Point{{1, 2, "a"}, {3, 4, "b"}})
	ptrs([]*Point{{5, 6, "c"}, nil})
	arr([3]string{"u", "v", "w"})
	structArr([2]Point{{7, 8, "d"}, {9, 10, "e"}})
	shape(Rect{2, 3, "rect"})
	shape(&Circle{1.5})
	anyv("dynamic")
	anyv(42)
	anyv(Point{0.5, 0.25, "in any"})
	fail(errors.New("plain failure"))
	fail(fmt.Errorf("wrapped: %w", os.ErrNotExist))
	fail(&os.PathError{Op: "open", Path: "/nowhere", Err: os.ErrNotExist})
	fail(nil)
	ints(map[string]int{"one": 1, "two": 2})
	nested(map[int][]string{7: {"seven"}})
	// Room for 64: 20 keys in 16 buckets never overflow one (chained
	// below is the map whose buckets do).
	big := make(map[string]int, 64)
	for i := 0; i < 20; i++ {
		big[fmt.Sprintf("k%02d", i)] = i
	}
	bigMap(big)
	var keys []string
	for i := 0; i < 50; i++ {
		keys = append(keys, fmt.Sprintf("o%02d", i))
	}
	chained(chainedMap(keys))
	keys = keys[:0]
	for i := 0; i < 53; i++ {
		keys = append(keys, fmt.Sprintf("g%02d", i))
	}
	growing(growingMap(keys))
	c := make(chan int, 4)
	c <- 1
	channel(c)
	fn(double)
	request(&Request{Method: "GET", Path: "/x", Query: "a=1", Header: map[string][]string{"Accept": {"*/*"}},
		Body: []byte("body"), Remote: "127.0.0.1:1234", Port: 80, Opts: &Options{true, 3, "opts"}})
	bytesv([]byte("raw bytes"))
	floats([]float64{0.5, 1e100, -3})
}
