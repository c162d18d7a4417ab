package terminal

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// Values arrive as api.Variable trees; the terminal renders them the way
// Delve users expect to read them. Two renderings exist: one line (locals,
// args, breakpoint banners) and multi-line (print), where composite values
// holding other composites or long strings break onto indented lines.

// longStringLen is the string length above which a multi-line rendering
// puts each element of the enclosing composite on its own line.
const longStringLen = 7

// fmtOpts carries the rendering options down the tree.
type fmtOpts struct {
	top      bool   // the value the user asked for, not a child
	withType bool   // prefix composites with their type
	newlines bool   // allow multi-line layout
	verb     string // a user-supplied printf verb such as %x, or ""
}

// oneLine renders v on a single line with its type, as locals and args print.
func oneLine(v *api.Variable) string {
	var b strings.Builder
	writeVar(&b, v, fmtOpts{top: true, withType: true}, "")
	return b.String()
}

// multiLine renders v as print does: composites may span several lines,
// each nested level indented by a tab after indent.
func multiLine(v *api.Variable, indent, verb string) string {
	var b strings.Builder
	writeVar(&b, v, fmtOpts{top: true, withType: true, newlines: true, verb: verb}, indent)
	return b.String()
}

func quoteType(t string) string {
	if strings.Contains(t, "/") {
		return strconv.Quote(t)
	}
	return t
}

func writeVar(b *strings.Builder, v *api.Variable, o fmtOpts, indent string) {
	if v.Unreadable != "" {
		fmt.Fprintf(b, "(unreadable %s)", v.Unreadable)
		return
	}
	if !o.top && v.Addr == 0 && v.Value == "" {
		if o.withType && v.Type != "void" {
			b.WriteString(v.Type + " nil")
		} else {
			b.WriteString("nil")
		}
		return
	}
	child := o
	child.top = false
	switch v.Kind {
	case reflect.Slice:
		if o.withType {
			fmt.Fprintf(b, "%s len: %d, cap: %d, ", v.Type, v.Len, v.Cap)
		}
		if v.Base == 0 && len(v.Children) == 0 {
			b.WriteString("nil")
			return
		}
		writeElems(b, v, o, indent)
	case reflect.Array:
		if o.withType {
			b.WriteString(v.Type + " ")
		}
		writeElems(b, v, o, indent)
	case reflect.Ptr:
		switch {
		case v.Type == "" || len(v.Children) == 0:
			b.WriteString("nil")
		case v.Children[0].OnlyAddr && v.Children[0].Addr != 0:
			fmt.Fprintf(b, "(%s)(%#x)", quoteType(v.Type), v.Children[0].Addr)
		default:
			if o.top && o.newlines && v.Children[0].Addr != 0 {
				fmt.Fprintf(b, "(%s)(%#x)\n", quoteType(v.Type), v.Children[0].Addr)
			}
			b.WriteString("*")
			writeVar(b, &v.Children[0], child, indent)
		}
	case reflect.UnsafePointer:
		if len(v.Children) == 0 {
			b.WriteString("unsafe.Pointer(nil)")
		} else {
			fmt.Fprintf(b, "unsafe.Pointer(%#x)", v.Children[0].Addr)
		}
	case reflect.Chan:
		if o.newlines {
			writeStruct(b, v, o, indent)
		} else if len(v.Children) < 2 {
			b.WriteString(v.Type + " nil")
		} else {
			fmt.Fprintf(b, "%s %s/%s", v.Type, v.Children[0].Value, v.Children[1].Value)
		}
	case reflect.Struct:
		if v.Value != "" {
			fmt.Fprintf(b, "%s(%s)", v.Type, v.Value)
			o.withType = false
		}
		writeStruct(b, v, o, indent)
	case reflect.Interface:
		writeIface(b, v, o, indent)
	case reflect.Map:
		writeMap(b, v, o, indent)
	case reflect.Func:
		if v.Value == "" {
			b.WriteString("nil")
		} else {
			b.WriteString(v.Value)
		}
	default:
		writeBasic(b, v, o)
	}
}

func writeIface(b *strings.Builder, v *api.Variable, o fmtOpts, indent string) {
	if v.Addr == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	if len(v.Children) == 0 {
		b.WriteString(v.Type + " nil")
		return
	}
	data := &v.Children[0]
	if o.withType {
		if data.Kind == reflect.Invalid {
			b.WriteString(v.Type + " ")
			if data.Addr == 0 {
				b.WriteString("nil")
				return
			}
		} else {
			fmt.Fprintf(b, "%s(%s) ", v.Type, data.Type)
		}
	}
	inner := fmtOpts{withType: !o.withType, newlines: o.newlines, verb: o.verb}
	switch {
	case data.Kind == reflect.Ptr && len(data.Children) == 0:
		b.WriteString("...")
	case data.Kind == reflect.Ptr && data.Children[0].Addr == 0:
		b.WriteString("nil")
	case data.Kind == reflect.Ptr && data.Children[0].OnlyAddr:
		fmt.Fprintf(b, "%#x", data.Addr)
	case data.Kind != reflect.Ptr && data.OnlyAddr:
		fmt.Fprintf(b, "*(*%s)(%#x)", quoteType(v.Type), v.Addr)
	default:
		writeVar(b, data, inner, indent)
	}
}

// containerKind follows pointers to the kind they point at, and says
// whether a pointer was crossed: pointed-to strings force line breaks too.
func containerKind(v *api.Variable) (reflect.Kind, bool) {
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
// laid out one child per line.
func breaksLines(kids []api.Variable, newlines, firstOnly bool) bool {
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

func writeMore(b *strings.Builder, nl bool, indent string, shown, total int) {
	if shown == total {
		return
	}
	if shown == 0 {
		b.WriteString("...")
		return
	}
	if nl {
		b.WriteString("\n" + indent + "\t")
	} else {
		b.WriteString(",")
	}
	fmt.Fprintf(b, "...+%d more", total-shown)
}

func writeElems(b *strings.Builder, v *api.Variable, o fmtOpts, indent string) {
	nl := breaksLines(v.Children, o.newlines, true)
	b.WriteString("[")
	for i := range v.Children {
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		writeVar(b, &v.Children[i], fmtOpts{newlines: nl, verb: o.verb}, indent+"\t")
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
		}
	}
	writeMore(b, nl, indent, len(v.Children), int(v.Len))
	if nl {
		b.WriteString("\n" + indent)
	}
	b.WriteString("]")
}

func writeStruct(b *strings.Builder, v *api.Variable, o fmtOpts, indent string) {
	if len(v.Children) == 0 && int(v.Len) != 0 {
		// Too deep to load: show where it lives so the user can print it.
		fmt.Fprintf(b, "(*%s)(%#x)", quoteType(v.Type), v.Addr)
		return
	}
	if o.withType {
		b.WriteString(v.Type + " ")
	}
	nl := breaksLines(v.Children, o.newlines, false)
	b.WriteString("{")
	for i := range v.Children {
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		b.WriteString(v.Children[i].Name + ": ")
		writeVar(b, &v.Children[i], fmtOpts{withType: true, newlines: nl, verb: o.verb}, indent+"\t")
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
			if !nl {
				b.WriteString(" ")
			}
		}
	}
	if len(v.Children) != int(v.Len) && v.Kind == reflect.Struct {
		if nl {
			b.WriteString("\n" + indent + "\t")
		} else {
			b.WriteString(",")
		}
		fmt.Fprintf(b, "...+%d more", int(v.Len)-len(v.Children))
	}
	b.WriteString("}")
}

func writeMap(b *strings.Builder, v *api.Variable, o fmtOpts, indent string) {
	if o.withType {
		b.WriteString(v.Type + " ")
	}
	if v.Base == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	nl := o.newlines && len(v.Children) > 0
	b.WriteString("[")
	for i := 0; i+1 < len(v.Children); i += 2 {
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		writeVar(b, &v.Children[i], fmtOpts{verb: o.verb}, indent+"\t")
		b.WriteString(": ")
		writeVar(b, &v.Children[i+1], fmtOpts{newlines: nl, verb: o.verb}, indent+"\t")
		if i != len(v.Children)-1 || nl {
			b.WriteString(", ")
		}
	}
	writeMore(b, nl, indent, len(v.Children)/2, int(v.Len))
	if nl {
		b.WriteString("\n" + indent)
	}
	b.WriteString("]")
}

// intPart strips the symbolic name some integers carry, "Name (3)" → "3".
func intPart(s string) string {
	if !strings.HasSuffix(s, ")") {
		return s
	}
	if i := strings.LastIndex(s, "("); i >= 0 {
		return s[i+1 : len(s)-1]
	}
	return s
}

func writeBasic(b *strings.Builder, v *api.Variable, o fmtOpts) {
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
			n, _ := strconv.ParseInt(intPart(v.Value), 10, 64)
			fmt.Fprintf(b, o.verb, n)
			return
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if o.verb != "" {
			n, _ := strconv.ParseUint(intPart(v.Value), 10, 64)
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
			fmt.Fprintf(b, "(%s + %si)", v.Children[0].Value, v.Children[1].Value)
			return
		}
	case reflect.String:
		if o.verb != "" {
			fmt.Fprintf(b, o.verb, v.Value)
			return
		}
		s := v.Value
		if len(s) < int(v.Len) {
			s = fmt.Sprintf("%s...+%d more", s, int(v.Len)-len(s))
		}
		b.WriteString(strconv.Quote(s))
		return
	}
	b.WriteString(v.Value)
}
