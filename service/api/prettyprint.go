package api

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
	v.writeTo(b, o, indent)
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
		o.b = strconv.AppendQuote(o.b, t)
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

func (v *Variable) writeTo(b *outBuf, o prettyOpts, indent string) {
	if v.Unreadable != "" {
		b.WriteString("(unreadable ")
		b.WriteString(v.Unreadable)
		b.WriteString(")")
		return
	}
	if !o.top && v.Addr == 0 && v.Value == "" {
		if o.withType && v.Type != "void" {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" nil")
		} else {
			b.WriteString("nil")
		}
		return
	}
	switch v.Kind {
	case reflect.Slice:
		if o.withType {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" len: ")
			b.int(v.Len)
			b.WriteString(", cap: ")
			b.int(v.Cap)
			b.WriteString(", ")
		}
		if v.Base == 0 && len(v.Children) == 0 {
			b.WriteString("nil")
			return
		}
		v.writeElems(b, o, indent)
	case reflect.Array:
		if o.withType {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" ")
		}
		v.writeElems(b, o, indent)
	case reflect.Ptr:
		switch {
		case v.Type == "" || len(v.Children) == 0:
			b.WriteString("nil")
		case v.Children[0].OnlyAddr && v.Children[0].Addr != 0:
			b.writeTypedAddr("(", o, v.Type, v.Children[0].Addr)
		default:
			if o.top && o.newlines && v.Children[0].Addr != 0 {
				b.writeTypedAddr("(", o, v.Type, v.Children[0].Addr)
				b.WriteString("\n")
			}
			b.WriteString("*")
			v.Children[0].writeTo(b, o.child(o.withType, o.newlines), indent)
		}
	case reflect.UnsafePointer:
		if len(v.Children) == 0 {
			b.WriteString("unsafe.Pointer(nil)")
		} else {
			b.WriteString("unsafe.Pointer(")
			b.hex(v.Children[0].Addr)
			b.WriteString(")")
		}
	case reflect.Chan:
		if o.newlines {
			v.writeStruct(b, o, indent)
		} else if len(v.Children) < 2 {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" nil")
		} else {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" ")
			b.WriteString(v.Children[0].Value)
			b.WriteString("/")
			b.WriteString(v.Children[1].Value)
		}
	case reflect.Struct:
		if v.Value != "" {
			b.WriteString(o.typeName(v.Type))
			b.WriteString("(")
			b.WriteString(v.Value)
			b.WriteString(")")
			o.withType = false
		}
		v.writeStruct(b, o, indent)
	case reflect.Interface:
		v.writeIface(b, o, indent)
	case reflect.Map:
		v.writeMap(b, o, indent)
	case reflect.Func:
		if v.Value == "" {
			b.WriteString("nil")
			break
		}
		b.WriteString(v.Value)
		// A closure's captured variables, one per line, as Delve's print
		// shows them; the one-line form keeps just the function's name.
		if o.newlines && len(v.Children) > 0 {
			b.WriteString(" {\n")
			for i := range v.Children {
				c := &v.Children[i]
				b.WriteString(indent)
				b.WriteString("\t")
				b.WriteString(c.Name)
				b.WriteString(" ")
				b.WriteString(c.Type)
				b.WriteString(" = ")
				c.writeTo(b, o.child(false, o.newlines), indent+"\t")
				b.WriteString("\n")
			}
			b.WriteString(indent)
			b.WriteString("}")
		}
	default:
		v.writeBasic(b, o)
	}
}

func (v *Variable) writeIface(b *outBuf, o prettyOpts, indent string) {
	// Delve's rule: an interface without an address is nil (an escaped
	// variable out of scope); values held in registers keep their
	// synthetic address, so they are not mistaken for it. One without
	// its data loaded has nothing else to show.
	if v.Addr == 0 || len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	data := &v.Children[0]
	if o.withType {
		if data.Kind == reflect.Invalid {
			b.WriteString(o.typeName(v.Type))
			b.WriteString(" ")
			if data.Addr == 0 {
				b.WriteString("nil")
				return
			}
		} else {
			b.WriteString(o.typeName(v.Type))
			b.WriteString("(")
			b.WriteString(o.typeName(data.Type))
			b.WriteString(") ")
		}
	}
	switch {
	case data.Kind == reflect.Ptr && len(data.Children) == 0:
		b.WriteString("...")
	case data.Kind == reflect.Ptr && data.Children[0].Addr == 0:
		b.WriteString("nil")
	case data.Kind == reflect.Ptr && data.Children[0].OnlyAddr:
		b.hex(data.Addr)
	case data.Kind != reflect.Ptr && data.OnlyAddr:
		b.writeTypedAddr("*(*", o, v.Type, v.Addr)
	default:
		// The dynamic type was shown already unless the caller hid types.
		data.writeTo(b, o.child(!o.withType, o.newlines), indent)
	}
}

// containerKind follows pointers to the kind they point at, and says
// whether a pointer was crossed: pointed-to strings force line breaks too.
func containerKind(v *Variable) (reflect.Kind, bool) {
	viaPtr := false
	for v.Kind == reflect.Ptr && len(v.Children) > 0 {
		viaPtr = true
		v = &v.Children[0]
	}
	if v.Kind == reflect.Ptr {
		viaPtr = true
	}
	return v.Kind, viaPtr
}

// breaksLines decides whether a composite whose children are kids is
// laid out one child per line; firstOnly is for arrays and slices, whose
// elements share one type.
func breaksLines(kids []Variable, newlines, firstOnly bool) bool {
	if !newlines || len(kids) == 0 {
		return false
	}
	for i := range kids {
		k, viaPtr := containerKind(&kids[i])
		switch k {
		case reflect.Slice, reflect.Array, reflect.Struct, reflect.Map, reflect.Interface:
			return true
		case reflect.String:
			if viaPtr {
				return true
			}
			if firstOnly {
				// Arrays are homogeneous: decide from every string's length.
				for j := range kids {
					if len(kids[j].Value) > longStringLen {
						return true
					}
				}
				return false
			}
			if len(kids[i].Value) > longStringLen {
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

func (v *Variable) writeElems(b *outBuf, o prettyOpts, indent string) {
	nl := breaksLines(v.Children, o.newlines, true)
	b.WriteString("[")
	for i := range v.Children {
		if nl {
			b.newline(indent, true)
		}
		v.Children[i].writeTo(b, o.child(false, nl), o.deeper(indent))
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
		}
	}
	writeMore(b, nl, indent, len(v.Children), int(v.Len))
	if nl {
		b.newline(indent, false)
	}
	b.WriteString("]")
}

func (v *Variable) writeStruct(b *outBuf, o prettyOpts, indent string) {
	if len(v.Children) == 0 && int(v.Len) != 0 {
		// Too deep to load: show where it lives so the user can print it.
		b.writeTypedAddr("(*", o, v.Type, v.Addr)
		return
	}
	if o.withType {
		b.WriteString(o.typeName(v.Type))
		b.WriteString(" ")
	}
	nl := breaksLines(v.Children, o.newlines, false)
	b.WriteString("{")
	for i := range v.Children {
		if nl {
			b.newline(indent, true)
		}
		b.WriteString(v.Children[i].Name)
		b.WriteString(": ")
		v.Children[i].writeTo(b, o.child(true, nl), o.deeper(indent))
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
			if !nl {
				b.WriteString(" ")
			}
		}
	}
	if len(v.Children) != int(v.Len) && v.Kind == reflect.Struct {
		if nl {
			b.newline(indent, true)
		} else {
			b.WriteString(",")
		}
		b.writeMore(int(v.Len) - len(v.Children))
	}
	b.WriteString("}")
}

func (v *Variable) writeMap(b *outBuf, o prettyOpts, indent string) {
	if o.withType {
		b.WriteString(o.typeName(v.Type))
		b.WriteString(" ")
	}
	if v.Base == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	nl := o.newlines && len(v.Children) > 0
	b.WriteString("[")
	for i := 0; i+1 < len(v.Children); i += 2 {
		if nl {
			b.newline(indent, true)
		}
		v.Children[i].writeTo(b, o.child(false, false), o.deeper(indent))
		b.WriteString(": ")
		v.Children[i+1].writeTo(b, o.child(false, nl), o.deeper(indent))
		// Delve leaves ", " after the last pair too; users have seen it
		// for years and tools compare against it.
		b.WriteString(", ")
	}
	writeMore(b, nl, indent, len(v.Children)/2, int(v.Len))
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

func (v *Variable) writeBasic(b *outBuf, o prettyOpts) {
	if v.Value == "" && v.Kind != reflect.String && v.Kind != reflect.Complex64 && v.Kind != reflect.Complex128 {
		fmt.Fprintf(b, "(unknown %s)", v.Kind)
		return
	}
	switch v.Kind {
	case reflect.Bool:
		if o.verb != "" {
			fmt.Fprintf(b, o.verb, v.Value == "true")
			return
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if o.verb != "" {
			n, _ := strconv.ParseInt(ExtractIntValue(v.Value), 10, 64)
			fmt.Fprintf(b, o.verb, n)
			return
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if o.verb != "" {
			n, _ := strconv.ParseUint(ExtractIntValue(v.Value), 10, 64)
			fmt.Fprintf(b, o.verb, n)
			return
		}
	case reflect.Float32, reflect.Float64:
		if o.verb != "" {
			f, _ := strconv.ParseFloat(v.Value, 64)
			fmt.Fprintf(b, o.verb, f)
			return
		}
	case reflect.Complex64, reflect.Complex128:
		if len(v.Children) == 2 {
			if o.verb != "" {
				re, _ := strconv.ParseFloat(v.Children[0].Value, 64)
				im, _ := strconv.ParseFloat(v.Children[1].Value, 64)
				fmt.Fprintf(b, o.verb, complex(re, im))
				return
			}
			b.WriteString("(")
			b.WriteString(v.Children[0].Value)
			b.WriteString(" + ")
			b.WriteString(v.Children[1].Value)
			b.WriteString("i)")
			return
		}
	case reflect.String:
		if o.verb != "" {
			fmt.Fprintf(b, o.verb, v.Value)
			return
		}
		s := v.Value
		if len(s) < int(v.Len) {
			s = s + "...+" + strconv.Itoa(int(v.Len)-len(s)) + " more"
		}
		if o.raw {
			b.WriteString(s)
			return
		}
		b.b = strconv.AppendQuote(b.b, s)
		return
	}
	b.WriteString(v.Value)
}
