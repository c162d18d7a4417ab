// Command values fills package-level variables of every kind so that the value
// loader can be checked against them; it prints "ready" and then blocks.
package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"
	"unsafe"
)

type Point struct {
	X, Y int
	Name string
}

type Outer struct {
	Point
	Z    int
	Tags []string
}

type Node struct {
	V    int
	Next *Node
}

type Celsius float64

func (c Celsius) String() string { return fmt.Sprintf("%.1fC", float64(c)) }

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

type Empty struct{}

type Color int

const (
	Red Color = iota
	Green
	Blue
)

var (
	vBool    = true
	vInt     = -42
	vInt8    = int8(-8)
	vInt16   = int16(1600)
	vInt32   = int32(-320000)
	vInt64   = int64(1) << 40
	vUint    = uint(42)
	vUint8   = uint8(255)
	vUint16  = uint16(65535)
	vUint32  = uint32(4000000000)
	vUint64  = uint64(math.MaxUint64)
	vUintptr = uintptr(0x1234)
	vRune    = 'é'
	vFloat32 = float32(3.14)
	vFloat64 = 2.718281828
	vNaN     = math.NaN()
	vInf     = math.Inf(-1)
	vC64     = complex64(complex(1.5, -2))
	vC128    = complex(0.25, 4)
	vColor   = Green

	vStr     = "hello, 世界"
	vStrEsc  = "tab\there \"q\"\n"
	vStrBad  = "ok\xff\xfeend"
	vStrLong = string(make([]byte, 100))
	vStrNil  string

	vArr      = [3]int{1, 2, 3}
	vArr2     = [2][2]string{{"a", "b"}, {"c", "d"}}
	vSlice    = []int{1, 2, 3}
	vSliceCap = make([]int, 2, 10)
	vSliceNil []int
	vSliceBig = make([]int, 100)
	vBytes    = []byte("hi")
	vPoints   = []Point{{X: 1, Y: 2, Name: "a"}, {X: 3}}
	vAnys     = []any{1, "s", nil, &Point{X: 4}}
	vColors   = [2]Color{Red, Blue}

	vPoint  = Point{X: 3, Y: 4, Name: "pt"}
	vOuter  = Outer{Point: Point{X: 1, Y: 2, Name: "in"}, Z: 9, Tags: []string{"x"}}
	vEmpty  Empty
	vPtr    = &Point{X: 3, Y: 4, Name: "pt"}
	vPtrNil *Point
	vPtrPtr = &vPtr
	vList   *Node

	vMapSmall = map[string]int{"one": 1, "two": 2}
	vMapNil   map[string]int
	vMapEmpty = map[int]bool{}
	vMapBig   = map[int]int{}
	vMapPtr   = map[string]*Point{"p": {X: 7, Y: 8, Name: "m"}}

	vChan    = make(chan int, 3)
	vChanNil chan string

	vFunc    = fmt.Sprintf
	vFuncNil func()
	vClosure func() int

	vErr      = errors.New("boom")
	vErrNil   error
	vAny      any = 42
	vAnyPoint any = Point{X: 5, Y: 6, Name: "ip"}
	vAnyPtr   any = &Point{X: 1, Y: 1, Name: "pp"}
	vAnyNil   any
	vStringer fmt.Stringer = Celsius(21.5)

	vPair = Pair[string, int]{Key: "k", Val: 1}

	vUnsafe    = unsafe.Pointer(&vInt)
	vUnsafeNil unsafe.Pointer
)

func keep(vs ...any) { fmt.Println(len(vs)) }

func main() {
	for i := 0; i < 100; i++ {
		vSliceBig[i] = i
		vMapBig[i] = i * i
	}
	vStrLong = ""
	for i := 0; i < 100; i++ {
		vStrLong += string(rune('a' + i%26))
	}
	a := &Node{V: 1}
	b := &Node{V: 2, Next: a}
	a.Next = b
	vList = a
	vChan <- 10
	vChan <- 20
	n := 5
	vClosure = func() int { n++; return n }
	fmt.Println("ready")
	if len(os.Args) > 5 {
		// Referencing every variable keeps the linker from dropping them.
		keep(vBool, vInt, vInt8, vInt16, vInt32, vInt64, vUint, vUint8, vUint16, vUint32, vUint64,
			vUintptr, vRune, vFloat32, vFloat64, vNaN, vInf, vC64, vC128, vColor, vStr, vStrEsc, vStrBad,
			vStrLong, vStrNil, vArr, vArr2, vSlice, vSliceCap, vSliceNil, vSliceBig, vBytes, vPoint, vOuter,
			vEmpty, vPtr, vPtrNil, vPtrPtr, vList, vMapSmall, vMapNil, vMapEmpty, vMapBig, vMapPtr, vChan,
			vChanNil, vFunc, vFuncNil, vClosure, vErr, vErrNil, vAny, vAnyPoint, vAnyPtr, vAnyNil,
			vStringer, vPair, vUnsafe, vUnsafeNil, vPoints, vAnys, vColors)
		fmt.Println(vClosure())
	}
	// Sleep rather than select{}: with no other goroutine the runtime
	// would report a deadlock and exit.
	for {
		time.Sleep(time.Hour)
	}
}
