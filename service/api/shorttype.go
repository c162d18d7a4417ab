package api

import (
	"strings"
	"unicode"
)

// ShortTypeName shortens the package paths of two or more elements inside
// a type name to their last element ("github.com/a/b.T" becomes "b.T"), as
// Delve's DAP server shows types in the narrow variables pane; types it
// cannot parse (anonymous structs, function types) are left alone.
func ShortTypeName(t string) string {
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
