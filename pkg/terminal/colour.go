package terminal

import (
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// Delve's default escapes: line numbers blue, the arrow yellow, strings
// green, comments bright magenta, tabs bright black; keywords and numbers
// in the normal colour unless configured.
const (
	escReset   = "\033[0m"
	escBold    = "\033[1m"
	ansiBlue   = 34
	escArrow   = "\033[33m"
	escString  = "\033[32m"
	escComment = "\033[95m"
	escTab     = "\033[90m"
)

// colourOn says whether output is coloured: Config.Color "always" or
// "never", else only on a terminal whose TERM is not dumb, without
// NO_COLOR (a pipe or a file gets plain text).
func (t *Term) colourOn() bool {
	switch t.conf.Color {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || strings.EqualFold(os.Getenv("TERM"), "dumb") {
		return false
	}
	f, ok := t.conf.Stdout.(*os.File)
	return ok && isTerminal(f)
}

// style is a syntax class of listed source.
type style uint8

const (
	styleNormal style = iota
	styleKeyword
	styleString
	styleNumber
	styleComment
)

// escape returns the configured escape of a parameter, or def.
func (t *Term) escape(param, def string) string {
	if e := t.set.colors[param]; e != "" {
		return e
	}
	return def
}

func (t *Term) lineNoEscape() string {
	switch c := t.set.lineColor.(type) {
	case string:
		return c
	case int:
		// Delve takes the eight colours and their bright forms only.
		if (c >= 30 && c <= 37) || (c >= 90 && c <= 97) {
			return fmt.Sprintf("\033[%2dm", c)
		}
	}
	return fmt.Sprintf("\033[%2dm", ansiBlue)
}

func (t *Term) styleEscape(s style) string {
	switch s {
	case styleKeyword:
		return t.escape("source-list-keyword-color", escReset)
	case styleString:
		return t.escape("source-list-string-color", escString)
	case styleNumber:
		return t.escape("source-list-number-color", escReset)
	case styleComment:
		return t.escape("source-list-comment-color", escComment)
	}
	return escReset
}

// classify gives every byte of a Go file its style; other files (and
// bytes the scanner skips) stay normal.
func classify(path string, src []byte) []style {
	styles := make([]style, len(src))
	if filepath.Ext(path) != ".go" {
		return styles
	}
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile(path, -1, len(src))
	s.Init(file, src, func(token.Position, string) {}, scanner.ScanComments)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		var st style
		switch {
		case tok.IsKeyword():
			st = styleKeyword
		case tok == token.STRING || tok == token.CHAR:
			st = styleString
		case tok == token.INT || tok == token.FLOAT || tok == token.IMAG:
			st = styleNumber
		case tok == token.COMMENT:
			st = styleComment
		default:
			continue
		}
		start := file.Offset(pos)
		end := start + len(lit)
		if lit == "" {
			end = start + len(tok.String())
		}
		for i := start; i < end && i < len(styles); i++ {
			styles[i] = st
		}
	}
	return styles
}

// colourLines writes lines first..last (1-based) of a file with Delve's
// colours: the arrow, the line number, the syntax classes and the tabs
// (replaced by config tab when set), each line ending in the normal colour.
func (t *Term) colourLines(b *strings.Builder, path string, lines []string, first, last, arrowLine int) {
	src := []byte(strings.Join(lines, "\n"))
	styles := classify(path, src)
	tab := t.set.tab
	if tab == "" {
		tab = "\t"
	}
	arrow, lineNo, tabEsc := t.escape("source-list-arrow-color", escArrow), t.lineNoEscape(), t.escape("source-list-tab-color", escTab)
	off := 0
	for n := 1; n <= last; n++ {
		text := lines[n-1]
		if n >= first {
			mark := "  "
			if n == arrowLine {
				mark = "=>"
			}
			fmt.Fprintf(b, "%s%s%s%4d:\t", arrow, mark, lineNo, n)
			cur := "" // the escape in effect, written only when it changes
			for i := 0; i < len(text); i++ {
				if text[i] == '\t' {
					b.WriteString(tabEsc + tab)
					cur = tabEsc
					continue
				}
				if e := t.styleEscape(styles[off+i]); e != cur {
					b.WriteString(e)
					cur = e
				}
				b.WriteByte(text[i])
			}
			b.WriteString(escReset + "\n")
		}
		off += len(text) + 1
	}
}

// readPrompted reads a command after the prompt, in config prompt-color
// when colours are on (written around the prompt, as Delve does, so that
// the line editor does not count the escape as text).
func (t *Term) readPrompted() (string, error) {
	c := t.set.colors["prompt-color"]
	if c == "" || !t.colourOn() {
		return t.readLine(t.promptText())
	}
	_ = t.outBuf.Flush()
	fmt.Fprint(t.conf.Stdout, c)
	defer fmt.Fprint(t.conf.Stdout, escReset)
	return t.readLine(t.promptText())
}

// stackColours are the escapes around function names and file base names
// in stack listings: bold unless configured, none without colours.
func (t *Term) stackColours() (fn, base, reset string) {
	if !t.colourOn() {
		return "", "", ""
	}
	return t.escape("stacktrace-function-color", escBold), t.escape("stacktrace-basename-color", escBold), escReset
}

// colourPath puts the base name of a formatted "path:line" in the basename colour.
func colourPath(path, base, reset string) string {
	if base == "" {
		return path
	}
	i := strings.LastIndex(path, "/") + 1
	return path[:i] + base + path[i:] + reset
}
