package value

import (
	"fmt"
	"reflect"
	"strings"
)

// The text produced here must match Delve's byte for byte (users and
// tools read it), so the odd corners are deliberate: a map's trailing
// ", ", "...+N more" after a comma, unquoted pointer types without '/'.

// fmtFlags selects how a value is written.
type fmtFlags uint8

const (
	fTop         fmtFlags = 1 << iota // the value being printed, not a part of it
	fIncludeType                      // prefix the type name
	fNewlines                         // spread composite values over lines (print)
)

func (f fmtFlags) with(flag fmtFlags, on bool) fmtFlags {
	if on {
		return f | flag
	}
	return f &^ flag
}

// Format renders v on one line, as Delve shows locals, arguments and
// trace values: `main.Point {X: 3, Y: 4, Name: "pt"}`.
func Format(v *Variable) string {
	var b strings.Builder
	v.write(&b, fTop|fIncludeType, "")
	return b.String()
}

// FormatMultiline renders v as Delve's print command does: long
// composite values spread over lines indented with tabs, and a top-level
// pointer preceded by its address line.
func FormatMultiline(v *Variable) string {
	var b strings.Builder
	v.write(&b, fTop|fIncludeType|fNewlines, "")
	return b.String()
}

func (v *Variable) write(b *strings.Builder, flags fmtFlags, indent string) {
	if v.Unreadable != nil {
		fmt.Fprintf(b, "(unreadable %s)", v.Unreadable.Error())
		return
	}
	if flags&fTop == 0 && v.Addr == 0 && v.Value == "" {
		if flags&fIncludeType != 0 && v.Type != "void" {
			b.WriteString(v.Type + " nil")
		} else {
			b.WriteString("nil")
		}
		return
	}
	switch v.Kind {
	case reflect.Slice:
		if flags&fIncludeType != 0 {
			fmt.Fprintf(b, "%s len: %d, cap: %d, ", v.Type, v.Len, v.Cap)
		}
		if v.Base == 0 && len(v.Children) == 0 {
			b.WriteString("nil")
			return
		}
		v.writeElems(b, flags, indent)
	case reflect.Array:
		if flags&fIncludeType != 0 {
			b.WriteString(v.Type + " ")
		}
		v.writeElems(b, flags, indent)
	case reflect.Ptr:
		v.writePtr(b, flags, indent)
	case reflect.UnsafePointer:
		if len(v.Children) == 0 {
			b.WriteString("unsafe.Pointer(nil)")
		} else {
			fmt.Fprintf(b, "unsafe.Pointer(%#x)", v.Children[0].Addr)
		}
	case reflect.Chan:
		if flags&fNewlines != 0 {
			// print shows the whole hchan, as Delve does.
			hchan := *v
			hchan.Len = int64(len(v.Children))
			hchan.writeStruct(b, flags, indent)
		} else if len(v.Children) < 2 {
			b.WriteString(v.Type + " nil")
		} else {
			fmt.Fprintf(b, "%s %s/%s", v.Type, v.Children[0].Value, v.Children[1].Value)
		}
	case reflect.Struct:
		if v.Value != "" { // a described struct: time.Time(2024-01-02T03:04:05Z){...}
			fmt.Fprintf(b, "%s(%s)", v.Type, v.Value)
			flags = flags.with(fIncludeType, false)
		}
		v.writeStruct(b, flags, indent)
	case reflect.Interface:
		v.writeInterface(b, flags, indent)
	case reflect.Map:
		v.writeMap(b, flags, indent)
	case reflect.Func:
		if v.Value == "" {
			b.WriteString("nil")
			return
		}
		b.WriteString(v.Value)
		if flags&fNewlines != 0 && len(v.Children) > 0 {
			// A closure's captured variables, as Delve's print lists them.
			b.WriteString(" {\n")
			for i := range v.Children {
				c := &v.Children[i]
				b.WriteString(indent + "\t" + c.Name + " " + c.Type + " = ")
				c.write(b, flags.with(fTop, false).with(fIncludeType, false), indent+"\t")
				b.WriteString("\n")
			}
			b.WriteString(indent + "}")
		}
	case reflect.String:
		s := v.Value
		if int64(len(s)) != v.Len {
			s = fmt.Sprintf("%s...+%d more", s, v.Len-int64(len(s)))
		}
		fmt.Fprintf(b, "%q", s)
	default:
		if v.Value == "" {
			fmt.Fprintf(b, "(unknown %s)", v.Kind)
			return
		}
		b.WriteString(v.Value)
	}
}

// quotedType spells a type as Delve does inside a conversion: quoted
// when a package path with '/' would make it ambiguous.
func quotedType(t string) string {
	if strings.Contains(t, "/") {
		return fmt.Sprintf("%q", t)
	}
	return t
}

func (v *Variable) writePtr(b *strings.Builder, flags fmtFlags, indent string) {
	if v.Type == "" || len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	c := &v.Children[0]
	if c.OnlyAddr && c.Addr != 0 {
		fmt.Fprintf(b, "(%s)(%#x)", quotedType(v.Type), c.Addr)
		return
	}
	if flags&fTop != 0 && flags&fNewlines != 0 && c.Addr != 0 {
		fmt.Fprintf(b, "(%s)(%#x)\n", quotedType(v.Type), c.Addr)
	}
	b.WriteString("*")
	c.write(b, flags.with(fTop, false), indent)
}

func (v *Variable) writeInterface(b *strings.Builder, flags fmtFlags, indent string) {
	if v.Addr == 0 || len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	data := &v.Children[0]
	if flags&fIncludeType != 0 {
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
	inner := flags.with(fTop, false).with(fIncludeType, flags&fIncludeType == 0)
	switch {
	case data.Kind == reflect.Ptr:
		switch {
		case len(data.Children) == 0:
			b.WriteString("...")
		case data.Children[0].Addr == 0:
			b.WriteString("nil")
		case data.Children[0].OnlyAddr:
			fmt.Fprintf(b, "0x%x", data.Addr)
		default:
			data.write(b, inner, indent)
		}
	case data.OnlyAddr:
		fmt.Fprintf(b, "*(*%s)(%#x)", quotedType(v.Type), v.Addr)
	default:
		data.write(b, inner, indent)
	}
}

func (v *Variable) writeStruct(b *strings.Builder, flags fmtFlags, indent string) {
	if int(v.Len) != len(v.Children) && len(v.Children) == 0 {
		fmt.Fprintf(b, "(*%s)(%#x)", quotedType(v.Type), v.Addr)
		return
	}
	if flags&fIncludeType != 0 {
		b.WriteString(v.Type + " ")
	}
	nl := flags&fNewlines != 0 && v.structNeedsNewlines()
	b.WriteString("{")
	for i := range v.Children {
		c := &v.Children[i]
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		b.WriteString(c.Name + ": ")
		c.write(b, fIncludeType.with(fNewlines, nl), indent+"\t")
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
			if !nl {
				b.WriteString(" ")
			}
		}
	}
	if len(v.Children) != int(v.Len) {
		if nl {
			b.WriteString("\n" + indent + "\t")
		} else {
			b.WriteString(",")
		}
		fmt.Fprintf(b, "...+%d more", int(v.Len)-len(v.Children))
	}
	b.WriteString("}")
}

func (v *Variable) writeMap(b *strings.Builder, flags fmtFlags, indent string) {
	if flags&fIncludeType != 0 {
		b.WriteString(v.Type + " ")
	}
	if v.Base == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	nl := flags&fNewlines != 0 && len(v.Children) > 0
	b.WriteString("[")
	for i := 0; i+1 < len(v.Children); i += 2 {
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		v.Children[i].write(b, 0, indent+"\t")
		b.WriteString(": ")
		v.Children[i+1].write(b, fmtFlags(0).with(fNewlines, nl), indent+"\t")
		b.WriteString(", ")
	}
	if int64(len(v.Children)/2) != v.Len {
		if len(v.Children) != 0 {
			if nl {
				b.WriteString("\n" + indent + "\t")
			} else {
				b.WriteString(",")
			}
			fmt.Fprintf(b, "...+%d more", v.Len-int64(len(v.Children)/2))
		} else {
			b.WriteString("...")
		}
	}
	if nl {
		b.WriteString("\n" + indent)
	}
	b.WriteString("]")
}

func (v *Variable) writeElems(b *strings.Builder, flags fmtFlags, indent string) {
	nl := flags&fNewlines != 0 && v.arrayNeedsNewlines()
	b.WriteString("[")
	for i := range v.Children {
		if nl {
			b.WriteString("\n" + indent + "\t")
		}
		v.Children[i].write(b, fmtFlags(0).with(fNewlines, nl), indent+"\t")
		if i != len(v.Children)-1 || nl {
			b.WriteString(",")
		}
	}
	if int64(len(v.Children)) != v.Len {
		if len(v.Children) != 0 {
			if nl {
				b.WriteString("\n" + indent + "\t")
			} else {
				b.WriteString(",")
			}
			fmt.Fprintf(b, "...+%d more", v.Len-int64(len(v.Children)))
		} else {
			b.WriteString("...")
		}
	}
	if nl {
		b.WriteString("\n" + indent)
	}
	b.WriteString("]")
}

// Strings longer than this push their container onto several lines.
const maxShortStringLen = 7

// underPointers returns the kind found after following pointers, and
// whether there were any.
func (v *Variable) underPointers() (reflect.Kind, bool) {
	ptr := false
	for v.Kind == reflect.Ptr {
		ptr = true
		if len(v.Children) == 0 {
			return v.Kind, true
		}
		v = &v.Children[0]
	}
	return v.Kind, ptr
}

// needsNewline says whether one part forces its container onto lines.
func needsNewline(c *Variable) bool {
	kind, ptr := c.underPointers()
	switch kind {
	case reflect.Slice, reflect.Array, reflect.Struct, reflect.Map, reflect.Interface:
		return true
	case reflect.String:
		return ptr || len(c.Value) > maxShortStringLen
	}
	return false
}

func (v *Variable) structNeedsNewlines() bool {
	for i := range v.Children {
		if needsNewline(&v.Children[i]) {
			return true
		}
	}
	return false
}

// arrayNeedsNewlines looks at the first element's kind, but at every
// element's length for strings, as Delve does.
func (v *Variable) arrayNeedsNewlines() bool {
	if len(v.Children) == 0 {
		return false
	}
	kind, ptr := v.Children[0].underPointers()
	switch kind {
	case reflect.Slice, reflect.Array, reflect.Struct, reflect.Map, reflect.Interface:
		return true
	case reflect.String:
		if ptr {
			return true
		}
		for i := range v.Children {
			if len(v.Children[i].Value) > maxShortStringLen {
				return true
			}
		}
	}
	return false
}
