package api

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Values travel as Variable trees and every client (the terminal, the DAP
// server, Delve's own client) must render them the same way Delve users
// are used to reading them, so the rendering lives on the wire type. Two
// layouts exist: one line (locals, args, breakpoint banners, DAP) and
// multi-line (print), where composites holding other composites or long
// strings break onto indented lines.

// longStringLen is the string length above which a multi-line rendering
// puts each element of the enclosing composite on its own line.
const longStringLen = 7

// PrettyFlags select how a Variable is rendered.
type PrettyFlags uint8

const (
	// PrettyNewlines allows composites to span several lines, as print does.
	PrettyNewlines PrettyFlags = 1 << iota
	// PrettyShortenType shortens package paths inside type names
	// ("github.com/a/b.T" becomes "b.T"), as Delve's DAP server shows them.
	PrettyShortenType
	// PrettyRawString writes strings as they are, not Go-quoted, as
	// Delve's show-raw-strings does.
	PrettyRawString
)

// prettyOpts carries the rendering options down the tree.
type prettyOpts struct {
	top      bool   // the value the user asked for, not a child
	withType bool   // prefix composites with their type
	newlines bool   // allow multi-line layout
	short    bool   // shorten package paths in type names
	verb     string // a user-supplied printf verb such as %x, or ""
	raw      bool   // strings unquoted
}

// SinglelineString renders v on one line with its type, as locals and
// args print.
func (v *Variable) SinglelineString() string {
	return v.StringWithOptions("", "", 0)
}

// SinglelineStringWithShortTypes renders v on one line with shortened
// type names, as Delve's DAP server shows values.
func (v *Variable) SinglelineStringWithShortTypes() string {
	return v.StringWithOptions("", "", PrettyShortenType)
}

// MultilineString renders v as print does: composites may span several
// lines, each nested level indented by a tab after indent; fmtstr is a
// printf verb applied to basic values, or "".
func (v *Variable) MultilineString(indent, fmtstr string) string {
	return v.StringWithOptions(indent, fmtstr, PrettyNewlines)
}

// StringWithOptions renders v with the given layout flags; indent and
// fmtstr are as for MultilineString.
func (v *Variable) StringWithOptions(indent, fmtstr string, flags PrettyFlags) string {
	b := bufPool.Get().(*outBuf)
	o := prettyOpts{top: true, withType: true, newlines: flags&PrettyNewlines != 0,
		short: flags&PrettyShortenType != 0, verb: fmtstr, raw: flags&PrettyRawString != 0}
	writeTo(b, node{w: v}, o, indent)
	s := string(b.b)
	if cap(b.b) <= maxPooledBuf {
		b.b = b.b[:0]
		bufPool.Put(b)
	}
	return s
}

// outBuf is where the printer writes. Buffers are reused across calls:
// a trace renders several kilobytes per event, and growing a fresh
// builder to that size cost it a dozen allocations and copies.
type outBuf struct{ b []byte }

// maxPooledBuf keeps a rare huge rendering from pinning its buffer.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { return &outBuf{b: make([]byte, 0, 1024)} }}

func (o *outBuf) WriteString(s string) { o.b = append(o.b, s...) }

// Write lets fmt print into the buffer, for the rare verbs.
func (o *outBuf) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// hex writes x as fmt's %#x does.
func (o *outBuf) hex(x uint64) {
	o.b = append(o.b, "0x"...)
	o.b = strconv.AppendUint(o.b, x, 16)
}

func (o *outBuf) int(x int64) { o.b = strconv.AppendInt(o.b, x, 10) }

// writeTypedAddr writes open, the shown type (quoted when it still holds
// a '/', so that it reads as one token), ")(" and the address as %#x,
// then ")": "(*T)(0xc000010000)" and its variants.
func (o *outBuf) writeTypedAddr(open string, po prettyOpts, typ string, addr uint64) {
	o.WriteString(open)
	if t := po.typeName(typ); strings.Contains(t, "/") {
		o.b = appendQuote(o.b, t)
	} else {
		o.WriteString(t)
	}
	o.WriteString(")(")
	o.hex(addr)
	o.WriteString(")")
}

// newline starts a line at indent, one tab deeper when deeper is set.
func (o *outBuf) newline(indent string, deeper bool) {
	o.WriteString("\n")
	o.WriteString(indent)
	if deeper {
		o.WriteString("\t")
	}
}

// writeMore writes "...+N more".
func (o *outBuf) writeMore(n int) {
	o.WriteString("...+")
	o.int(int64(n))
	o.WriteString(" more")
}

// typeName is t as the options want it shown.
func (o prettyOpts) typeName(t string) string {
	if o.short {
		return ShortTypeName(t)
	}
	return t
}

// deeper is the indent of a composite's elements. On one line no indent
// is ever written, and building it cost an allocation per element.
func (o prettyOpts) deeper(indent string) string {
	if !o.newlines {
		return indent
	}
	return indent + "\t"
}

// child is the options for an element of a composite: never the top,
// with or without the type.
func (o prettyOpts) child(withType, newlines bool) prettyOpts {
	return prettyOpts{withType: withType, newlines: newlines, short: o.short, verb: o.verb, raw: o.raw}
}

// node is what the printer reads of a value: the wire Variable, or the
// loader's tree itself, which a trace prints without building the wire
// tree first. It is a struct, not an interface: through an interface a
// pointer to the caller's nodeAttrs escaped, and returning them by value
// cost copies that stalled on the stores just made (a fifth of printing
// main.big's arguments).
type node struct {
	w *Variable       // the wire tree, or
	l *value.Variable // the loader's, read as ConvertVar would convert it
}

// nodeAttrs are a node's own fields, copied out at once: one call per
// node rather than one per field.
type nodeAttrs struct {
	Name, Type, Value string
	Unreadable        string // why it could not be read, or ""
	Kind              reflect.Kind
	OnlyAddr          bool
	Addr, Base        uint64
	Len, Cap          int64
	Kids              int // children
}

// fill sets every field of *a from n.
func (n node) fill(a *nodeAttrs) {
	if v := n.l; v != nil {
		a.Name, a.Type, a.Value, a.Unreadable = v.Name, v.Type, v.Value, ""
		a.Kind, a.OnlyAddr, a.Addr, a.Base = v.Kind, v.OnlyAddr, v.Addr, v.Base
		a.Len, a.Cap, a.Kids = v.Len, v.Cap, len(v.Children)
		if v.Unreadable != nil {
			a.Unreadable = v.Unreadable.Error()
		}
		return
	}
	v := n.w
	a.Name, a.Type, a.Value, a.Unreadable = v.Name, v.Type, v.Value, v.Unreadable
	a.Kind, a.OnlyAddr, a.Addr, a.Base = v.Kind, v.OnlyAddr, v.Addr, v.Base
	a.Len, a.Cap, a.Kids = v.Len, v.Cap, len(v.Children)
}

// attrs is fill for the printer's less used paths.
func (n node) attrs() (a nodeAttrs) {
	n.fill(&a)
	return a
}

func (n node) child(i int) node {
	if n.l != nil {
		return node{l: &n.l.Children[i]}
	}
	return node{w: &n.w.Children[i]}
}

func writeTo(b *outBuf, v node, o prettyOpts, indent string) {
	var a nodeAttrs
	v.fill(&a)
	writeNode(b, v, &a, o, indent)
}

// writeNode is writeTo for a caller that has v's attributes a already:
// reading them once per node halves what a trace's printing costs.
func writeNode(b *outBuf, v node, a *nodeAttrs, o prettyOpts, indent string) {
	if a.Unreadable != "" {
		b.WriteString("(unreadable ")
		b.WriteString(a.Unreadable)
		b.WriteString(")")
		return
	}
	if !o.top && a.Addr == 0 && a.Value == "" {
		if o.withType && a.Type != "void" {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" nil")
		} else {
			b.WriteString("nil")
		}
		return
	}
	switch a.Kind {
	case reflect.Slice:
		if o.withType {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" len: ")
			b.int(a.Len)
			b.WriteString(", cap: ")
			b.int(a.Cap)
			b.WriteString(", ")
		}
		if a.Base == 0 && a.Kids == 0 {
			b.WriteString("nil")
			return
		}
		writeElems(b, v, a, o, indent)
	case reflect.Array:
		if o.withType {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" ")
		}
		writeElems(b, v, a, o, indent)
	case reflect.Ptr:
		if a.Type == "" || a.Kids == 0 {
			b.WriteString("nil")
			break
		}
		c := v.child(0)
		var ca nodeAttrs
		c.fill(&ca)
		if ca.OnlyAddr && ca.Addr != 0 {
			b.writeTypedAddr("(", o, a.Type, ca.Addr)
			break
		}
		if o.top && o.newlines && ca.Addr != 0 {
			b.writeTypedAddr("(", o, a.Type, ca.Addr)
			b.WriteString("\n")
		}
		b.WriteString("*")
		writeNode(b, c, &ca, o.child(o.withType, o.newlines), indent)
	case reflect.UnsafePointer:
		if a.Kids == 0 {
			b.WriteString("unsafe.Pointer(nil)")
		} else {
			b.WriteString("unsafe.Pointer(")
			b.hex(v.child(0).attrs().Addr)
			b.WriteString(")")
		}
	case reflect.Chan:
		if o.newlines {
			writeStruct(b, v, a, o, indent)
		} else if a.Kids < 2 {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" nil")
		} else {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" ")
			b.WriteString(v.child(0).attrs().Value)
			b.WriteString("/")
			b.WriteString(v.child(1).attrs().Value)
		}
	case reflect.Struct:
		if a.Value != "" {
			b.WriteString(o.typeName(a.Type))
			b.WriteString("(")
			b.WriteString(a.Value)
			b.WriteString(")")
			o.withType = false
		}
		writeStruct(b, v, a, o, indent)
	case reflect.Interface:
		writeIface(b, v, a, o, indent)
	case reflect.Map:
		writeMap(b, v, a, o, indent)
	case reflect.Func:
		if a.Value == "" {
			b.WriteString("nil")
			break
		}
		b.WriteString(a.Value)
		// A closure's captured variables, one per line, as Delve's print
		// shows them; the one-line form keeps just the function's name.
		if o.newlines && a.Kids > 0 {
			b.WriteString(" {\n")
			var ca nodeAttrs // out of the loop, or escape analysis moves it to the heap
			for i := 0; i < a.Kids; i++ {
				c := v.child(i)
				c.fill(&ca)
				b.WriteString(indent)
				b.WriteString("\t")
				b.WriteString(ca.Name)
				b.WriteString(" ")
				b.WriteString(ca.Type)
				b.WriteString(" = ")
				writeNode(b, c, &ca, o.child(false, o.newlines), indent+"\t")
				b.WriteString("\n")
			}
			b.WriteString(indent)
			b.WriteString("}")
		}
	default:
		writeBasic(b, v, a, o)
	}
}

func writeIface(b *outBuf, v node, a *nodeAttrs, o prettyOpts, indent string) {
	// Delve's rule: an interface without an address is nil (an escaped
	// variable out of scope); values held in registers keep their
	// synthetic address, so they are not mistaken for it. One without
	// its data loaded has nothing else to show.
	if a.Addr == 0 || a.Kids == 0 {
		b.WriteString("nil")
		return
	}
	data := v.child(0)
	da := data.attrs()
	if o.withType {
		if da.Kind == reflect.Invalid {
			b.WriteString(o.typeName(a.Type))
			b.WriteString(" ")
			if da.Addr == 0 {
				b.WriteString("nil")
				return
			}
		} else {
			b.WriteString(o.typeName(a.Type))
			b.WriteString("(")
			b.WriteString(o.typeName(da.Type))
			b.WriteString(") ")
		}
	}
	var pointee nodeAttrs
	if da.Kind == reflect.Ptr && da.Kids > 0 {
		pointee = data.child(0).attrs()
	}
	switch {
	case da.Kind == reflect.Ptr && da.Kids == 0:
		b.WriteString("...")
	case da.Kind == reflect.Ptr && pointee.Addr == 0:
		b.WriteString("nil")
	case da.Kind == reflect.Ptr && pointee.OnlyAddr:
		b.hex(da.Addr)
	case da.Kind != reflect.Ptr && da.OnlyAddr:
		b.writeTypedAddr("*(*", o, a.Type, a.Addr)
	default:
		// The dynamic type was shown already unless the caller hid types.
		writeNode(b, data, &da, o.child(!o.withType, o.newlines), indent)
	}
}

// containerKind follows pointers to the kind they point at, and says
// whether a pointer was crossed: pointed-to strings force line breaks too;
// a is v's attributes, and what it returns those of where it stopped.
func containerKind(v node, a nodeAttrs) (reflect.Kind, bool, nodeAttrs) {
	viaPtr := false
	for a.Kind == reflect.Ptr && a.Kids > 0 {
		viaPtr = true
		v = v.child(0)
		a = v.attrs()
	}
	if a.Kind == reflect.Ptr {
		viaPtr = true
	}
	return a.Kind, viaPtr, a
}

// breaksLines decides whether a composite v (of attributes a) is laid out
// one child per line; firstOnly is for arrays and slices, whose elements
// share one type.
func breaksLines(v node, a *nodeAttrs, newlines, firstOnly bool) bool {
	if !newlines || a.Kids == 0 {
		return false
	}
	for i := 0; i < a.Kids; i++ {
		kid := v.child(i)
		k, viaPtr, _ := containerKind(kid, kid.attrs())
		switch k {
		case reflect.Slice, reflect.Array, reflect.Struct, reflect.Map, reflect.Interface:
			return true
		case reflect.String:
			if viaPtr {
				return true
			}
			if firstOnly {
				// Arrays are homogeneous: decide from every string's length.
				for j := 0; j < a.Kids; j++ {
					if len(v.child(j).attrs().Value) > longStringLen {
						return true
					}
				}
				return false
			}
			if len(kid.attrs().Value) > longStringLen {
				return true
			}
		}
		if firstOnly {
			return false
		}
	}
	return false
}

// writeMore notes the elements that were not loaded.
func writeMore(b *outBuf, nl bool, indent string, shown, total int) {
	if shown == total {
		return
	}
	if shown == 0 {
		b.WriteString("...")
		return
	}
	if nl {
		b.newline(indent, true)
	} else {
		b.WriteString(",")
	}
	b.writeMore(total - shown)
}

func writeElems(b *outBuf, v node, a *nodeAttrs, o prettyOpts, indent string) {
	nl := breaksLines(v, a, o.newlines, true)
	b.WriteString("[")
	for i := 0; i < a.Kids; i++ {
		if nl {
			b.newline(indent, true)
		}
		if s, ok := plainScalar(v, i, o); ok {
			// A []byte is dozens of these: written without the
			// attribute copy and dispatch of writeTo, to the same text.
			b.WriteString(s)
		} else {
			writeTo(b, v.child(i), o.child(false, nl), o.deeper(indent))
		}
		if i != a.Kids-1 || nl {
			b.WriteString(",")
		}
	}
	writeMore(b, nl, indent, a.Kids, int(a.Len))
	if nl {
		b.newline(indent, false)
	}
	b.WriteString("]")
}

// plainScalar returns the text of element i of the loader's tree v when
// it is a readable integer or bool printed without a format verb: its
// Value, as writeBasic would write it.
func plainScalar(v node, i int, o prettyOpts) (string, bool) {
	if v.l == nil || o.verb != "" {
		return "", false
	}
	c := &v.l.Children[i]
	if c.Unreadable != nil || c.Value == "" {
		return "", false
	}
	switch c.Kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.Bool:
		return c.Value, true
	}
	return "", false
}

func writeStruct(b *outBuf, v node, a *nodeAttrs, o prettyOpts, indent string) {
	if a.Kids == 0 && int(a.Len) != 0 {
		// Too deep to load: show where it lives so the user can print it.
		b.writeTypedAddr("(*", o, a.Type, a.Addr)
		return
	}
	if o.withType {
		b.WriteString(o.typeName(a.Type))
		b.WriteString(" ")
	}
	nl := breaksLines(v, a, o.newlines, false)
	b.WriteString("{")
	var ca nodeAttrs // out of the loop, or escape analysis moves it to the heap
	for i := 0; i < a.Kids; i++ {
		if nl {
			b.newline(indent, true)
		}
		c := v.child(i)
		c.fill(&ca)
		b.WriteString(ca.Name)
		b.WriteString(": ")
		writeNode(b, c, &ca, o.child(true, nl), o.deeper(indent))
		if i != a.Kids-1 || nl {
			b.WriteString(",")
			if !nl {
				b.WriteString(" ")
			}
		}
	}
	if a.Kids != int(a.Len) && a.Kind == reflect.Struct {
		if nl {
			b.newline(indent, true)
		} else {
			b.WriteString(",")
		}
		b.writeMore(int(a.Len) - a.Kids)
	}
	b.WriteString("}")
}

func writeMap(b *outBuf, v node, a *nodeAttrs, o prettyOpts, indent string) {
	if o.withType {
		b.WriteString(o.typeName(a.Type))
		b.WriteString(" ")
	}
	if a.Base == 0 && a.Kids == 0 {
		b.WriteString("nil")
		return
	}
	nl := o.newlines && a.Kids > 0
	b.WriteString("[")
	for i := 0; i+1 < a.Kids; i += 2 {
		if nl {
			b.newline(indent, true)
		}
		writeTo(b, v.child(i), o.child(false, false), o.deeper(indent))
		b.WriteString(": ")
		writeTo(b, v.child(i+1), o.child(false, nl), o.deeper(indent))
		// Delve leaves ", " after the last pair too; users have seen it
		// for years and tools compare against it.
		b.WriteString(", ")
	}
	writeMore(b, nl, indent, a.Kids/2, int(a.Len))
	if nl {
		b.newline(indent, false)
	}
	b.WriteString("]")
}

// ExtractIntValue strips the symbolic name some integers carry:
// "main.Kind(3)" and "Name (3)" give "3"; a plain number is returned as is.
func ExtractIntValue(s string) string {
	if !strings.HasSuffix(s, ")") {
		return s
	}
	if i := strings.LastIndexByte(s, '('); i >= 0 {
		return s[i+1 : len(s)-1]
	}
	return s
}

func writeBasic(b *outBuf, v node, a *nodeAttrs, o prettyOpts) {
	if a.Value == "" && a.Kind != reflect.String && a.Kind != reflect.Complex64 && a.Kind != reflect.Complex128 {
		fmt.Fprintf(b, "(unknown %s)", a.Kind)
		return
	}
	switch a.Kind {
	case reflect.Bool:
		if o.verb != "" {
			fmt.Fprintf(b, o.verb, a.Value == "true")
			return
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if o.verb != "" {
			n, _ := strconv.ParseInt(ExtractIntValue(a.Value), 10, 64)
			fmt.Fprintf(b, o.verb, n)
			return
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if o.verb != "" {
			n, _ := strconv.ParseUint(ExtractIntValue(a.Value), 10, 64)
			fmt.Fprintf(b, o.verb, n)
			return
		}
	case reflect.Float32, reflect.Float64:
		if o.verb != "" {
			f, _ := strconv.ParseFloat(a.Value, 64)
			fmt.Fprintf(b, o.verb, f)
			return
		}
	case reflect.Complex64, reflect.Complex128:
		if a.Kids == 2 {
			re, im := v.child(0).attrs().Value, v.child(1).attrs().Value
			if o.verb != "" {
				ref, _ := strconv.ParseFloat(re, 64)
				imf, _ := strconv.ParseFloat(im, 64)
				fmt.Fprintf(b, o.verb, complex(ref, imf))
				return
			}
			b.WriteString("(")
			b.WriteString(re)
			b.WriteString(" + ")
			b.WriteString(im)
			b.WriteString("i)")
			return
		}
	case reflect.String:
		if o.verb != "" {
			fmt.Fprintf(b, o.verb, a.Value)
			return
		}
		s := a.Value
		if len(s) < int(a.Len) {
			s = s + "...+" + strconv.Itoa(int(a.Len)-len(s)) + " more"
		}
		if o.raw {
			b.WriteString(s)
			return
		}
		b.b = appendQuote(b.b, s)
		return
	}
	b.WriteString(a.Value)
}

// appendQuote is strconv.AppendQuote, which a trace calls for every string
// of every event and which escapes rune by rune: a string of printable
// ASCII other than a quote or a backslash, the usual one, is written as
// it is between quotes, exactly as strconv would write it.
func appendQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
