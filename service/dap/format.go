package dap

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/tinydbg/tinydbg/service/api"
)

// VS Code shows one line per variable, so values are rendered the way
// Delve's DAP server renders them: Delve's one-line form with package
// paths of two or more elements shortened to their last element
// ("github.com/a/b.T" becomes "b.T"), which keeps long types readable in
// the narrow variables pane.

// formatValue renders v on one line with its type, as Delve's DAP server does.
func formatValue(v *api.Variable) string {
	var b strings.Builder
	writeValue(&b, v, true, true)
	return b.String()
}

// writeValue writes v; top says v is the value asked for (not a part of
// it), withType that composite values are prefixed with their type.
func writeValue(b *strings.Builder, v *api.Variable, top, withType bool) {
	if v.Unreadable != "" {
		fmt.Fprintf(b, "(unreadable %s)", v.Unreadable)
		return
	}
	if !top && v.Addr == 0 && v.Value == "" {
		if withType && v.Type != "void" {
			b.WriteString(shortType(v.Type) + " nil")
		} else {
			b.WriteString("nil")
		}
		return
	}
	switch v.Kind {
	case reflect.Slice:
		if withType {
			fmt.Fprintf(b, "%s len: %d, cap: %d, ", shortType(v.Type), v.Len, v.Cap)
		}
		if v.Base == 0 && len(v.Children) == 0 {
			b.WriteString("nil")
			return
		}
		writeElems(b, v)
	case reflect.Array:
		if withType {
			b.WriteString(shortType(v.Type) + " ")
		}
		writeElems(b, v)
	case reflect.Ptr:
		switch {
		case v.Type == "" || len(v.Children) == 0:
			b.WriteString("nil")
		case v.Children[0].OnlyAddr && v.Children[0].Addr != 0:
			fmt.Fprintf(b, "(%s)(%#x)", quotedType(v.Type), v.Children[0].Addr)
		default:
			b.WriteString("*")
			writeValue(b, &v.Children[0], false, withType)
		}
	case reflect.UnsafePointer:
		if len(v.Children) == 0 {
			b.WriteString("unsafe.Pointer(nil)")
		} else {
			fmt.Fprintf(b, "unsafe.Pointer(%#x)", v.Children[0].Addr)
		}
	case reflect.Chan:
		if len(v.Children) < 2 {
			b.WriteString(shortType(v.Type) + " nil")
		} else {
			fmt.Fprintf(b, "%s %s/%s", shortType(v.Type), v.Children[0].Value, v.Children[1].Value)
		}
	case reflect.Struct:
		if v.Value != "" {
			fmt.Fprintf(b, "%s(%s)", shortType(v.Type), v.Value)
			withType = false
		}
		writeStruct(b, v, withType)
	case reflect.Interface:
		writeIface(b, v, withType)
	case reflect.Map:
		writeMap(b, v, withType)
	case reflect.Func:
		if v.Value == "" {
			b.WriteString("nil")
		} else {
			b.WriteString(v.Value)
		}
	default:
		writeBasic(b, v)
	}
}

func writeIface(b *strings.Builder, v *api.Variable, withType bool) {
	if v.Addr == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	if len(v.Children) == 0 {
		b.WriteString(shortType(v.Type) + " nil")
		return
	}
	data := &v.Children[0]
	if withType {
		if data.Kind == reflect.Invalid {
			b.WriteString(shortType(v.Type) + " ")
			if data.Addr == 0 {
				b.WriteString("nil")
				return
			}
		} else {
			fmt.Fprintf(b, "%s(%s) ", shortType(v.Type), shortType(data.Type))
		}
	}
	switch {
	case data.Kind == reflect.Ptr && len(data.Children) == 0:
		b.WriteString("...")
	case data.Kind == reflect.Ptr && data.Children[0].Addr == 0:
		b.WriteString("nil")
	case data.Kind == reflect.Ptr && data.Children[0].OnlyAddr:
		fmt.Fprintf(b, "%#x", data.Addr)
	case data.Kind != reflect.Ptr && data.OnlyAddr:
		fmt.Fprintf(b, "*(*%s)(%#x)", quotedType(v.Type), v.Addr)
	default:
		writeValue(b, data, false, !withType)
	}
}

// writeMore notes elements that were not loaded.
func writeMore(b *strings.Builder, shown, total int) {
	if shown == total {
		return
	}
	if shown == 0 {
		b.WriteString("...")
		return
	}
	fmt.Fprintf(b, ",...+%d more", total-shown)
}

func writeElems(b *strings.Builder, v *api.Variable) {
	b.WriteString("[")
	for i := range v.Children {
		if i > 0 {
			b.WriteString(",")
		}
		writeValue(b, &v.Children[i], false, false)
	}
	writeMore(b, len(v.Children), int(v.Len))
	b.WriteString("]")
}

func writeStruct(b *strings.Builder, v *api.Variable, withType bool) {
	if int(v.Len) != len(v.Children) && len(v.Children) == 0 {
		fmt.Fprintf(b, "(*%s)(%#x)", quotedType(v.Type), v.Addr)
		return
	}
	if withType {
		b.WriteString(shortType(v.Type) + " ")
	}
	b.WriteString("{")
	for i := range v.Children {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.Children[i].Name + ": ")
		writeValue(b, &v.Children[i], false, true)
	}
	if len(v.Children) != int(v.Len) {
		fmt.Fprintf(b, ",...+%d more", int(v.Len)-len(v.Children))
	}
	b.WriteString("}")
}

func writeMap(b *strings.Builder, v *api.Variable, withType bool) {
	if withType {
		b.WriteString(shortType(v.Type) + " ")
	}
	if v.Base == 0 && len(v.Children) == 0 {
		b.WriteString("nil")
		return
	}
	b.WriteString("[")
	for i := 0; i+1 < len(v.Children); i += 2 {
		writeValue(b, &v.Children[i], false, false)
		b.WriteString(": ")
		writeValue(b, &v.Children[i+1], false, false)
		// Delve leaves ", " after the last pair too; users have seen it
		// for years and tests compare against it.
		b.WriteString(", ")
	}
	writeMore(b, len(v.Children)/2, int(v.Len))
	b.WriteString("]")
}

func writeBasic(b *strings.Builder, v *api.Variable) {
	if v.Value == "" && v.Kind != reflect.String {
		fmt.Fprintf(b, "(unknown %s)", v.Kind)
		return
	}
	switch v.Kind {
	case reflect.Complex64, reflect.Complex128:
		if len(v.Children) == 2 {
			fmt.Fprintf(b, "(%s + %si)", v.Children[0].Value, v.Children[1].Value)
			return
		}
		b.WriteString(v.Value)
	case reflect.String:
		s := v.Value
		if len(s) != int(v.Len) {
			s = fmt.Sprintf("%s...+%d more", s, int(v.Len)-len(s))
		}
		b.WriteString(strconv.Quote(s))
	default:
		b.WriteString(v.Value)
	}
}

// quotedType is the shortened type, quoted when it still holds a '/' so
// that it reads as one token, as Delve prints it.
func quotedType(t string) string {
	t = shortType(t)
	if strings.Contains(t, "/") {
		return strconv.Quote(t)
	}
	return t
}

// shortType shortens the package paths inside a type name; types it
// cannot parse (anonymous structs, function types) are left alone.
func shortType(t string) string {
	if s, ok := shorten(t); ok {
		return s
	}
	return t
}

func shorten(t string) (string, bool) {
	switch {
	case strings.HasPrefix(t, "map["):
		depth := 1
		for i := 4; i < len(t); i++ {
			switch t[i] {
			case '[':
				depth++
			case ']':
				depth--
				if depth == 0 {
					k, ok1 := shorten(t[4:i])
					v, ok2 := shorten(t[i+1:])
					return "map[" + k + "]" + v, ok1 && ok2
				}
			}
		}
		return "", false
	case strings.HasPrefix(t, "["):
		i := strings.IndexByte(t, ']')
		if i < 0 {
			return "", false
		}
		elem, ok := shorten(t[i+1:])
		return t[:i+1] + elem, ok
	case strings.HasPrefix(t, "*"):
		elem, ok := shorten(t[1:])
		return "*" + elem, ok
	case t == "interface {}" || t == "interface{}" || t == "struct {}" || t == "struct{}":
		return t, true
	case strings.ContainsAny(t, "{("):
		return "", false
	}
	if open := strings.IndexByte(t, '['); open >= 0 {
		// A generic instance: shorten the base and each type argument.
		if !strings.HasSuffix(t, "]") {
			return "", false
		}
		base, ok := shorten(t[:open])
		if !ok {
			return "", false
		}
		args := splitTypeArgs(t[open+1 : len(t)-1])
		for i := range args {
			if args[i], ok = shorten(strings.TrimSpace(args[i])); !ok {
				return "", false
			}
		}
		return base + "[" + strings.Join(args, ", ") + "]", true
	}
	slashes, last := 0, -1
	for i, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_./@%-", r) {
			return "", false
		}
		if r == '/' {
			slashes, last = slashes+1, i
		}
	}
	// A single slash ("example.com/pkg.T") is kept whole: the host alone
	// would not say which package it is.
	if slashes <= 1 {
		return t, true
	}
	return t[last+1:], true
}

// splitTypeArgs splits type arguments at the commas of the outer level.
func splitTypeArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{':
			depth++
		case ']', ')', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
