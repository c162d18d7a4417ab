package terminal

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// complete is the tab completer: command names first, then function names
// for location-taking commands and file names for list/source, each
// candidate being the whole new line as liner expects.
func (t *Term) complete(line string) []string {
	name, arg := splitWord(line)
	if !strings.ContainsAny(line, " \t") {
		return t.completeCommand(name)
	}
	head := line[:len(line)-len(arg)]
	var pool []string
	switch c := t.find(name); {
	case c == nil:
		return nil
	case c.names[0] == "break" || c.names[0] == "continue" || c.names[0] == "list" ||
		c.names[0] == "disassemble" || c.names[0] == "clearall" || c.names[0] == "funcs":
		pool = append(append(pool, t.functionNames()...), t.sourceNames()...)
	case c.names[0] == "source":
		pool = localFiles(arg)
	case c.names[0] == "help":
		return prefixed(head, t.completeCommand(arg))
	case c.names[0] == "print" || c.names[0] == "whatis" || c.names[0] == "display":
		pool = t.localNames()
	default:
		return nil
	}
	return prefixed(head, matching(pool, arg))
}

func (t *Term) completeCommand(prefix string) []string {
	var out []string
	for _, c := range t.cmds {
		for _, n := range c.names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// matching keeps the candidates that start with prefix or have a part
// starting after a "." or "/" that does, so "add" finds main.add and
// "main.g" finds /src/app/main.go.
func matching(pool []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range pool {
		ok := strings.HasPrefix(s, prefix)
		for i := 1; !ok && prefix != "" && i < len(s); i++ {
			if (s[i-1] == '.' || s[i-1] == '/') && strings.HasPrefix(s[i:], prefix) {
				ok = true
			}
		}
		if ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func prefixed(head string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = head + s
	}
	return out
}

func (t *Term) functionNames() []string {
	if t.funcCache == nil {
		t.funcCache, _ = t.client.ListFunctions("")
	}
	return t.funcCache
}

func (t *Term) sourceNames() []string {
	if t.sourceCache == nil {
		t.sourceCache, _ = t.client.ListSources("")
	}
	return t.sourceCache
}

func (t *Term) localNames() []string {
	vars, _ := t.client.ListLocalVars(t.scope(), shortLoad)
	args, _ := t.client.ListFunctionArgs(t.scope(), shortLoad)
	var out []string
	for _, v := range append(vars, args...) {
		out = append(out, v.Name)
	}
	return out
}

// localFiles lists the files of the directory part of partial, for the
// source command which reads a file on this machine.
func localFiles(partial string) []string {
	dir := filepath.Dir(partial)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		p := e.Name()
		if dir != "." || strings.HasPrefix(partial, "./") {
			p = filepath.Join(dir, p)
		}
		if e.IsDir() {
			p += "/"
		}
		out = append(out, p)
	}
	return out
}
