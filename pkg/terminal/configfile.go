package terminal

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ConfigPath is where config -save writes: $XDG_CONFIG_HOME/tinydbg/config.yml,
// else ~/.config/tinydbg/config.yml (Delve's layout, under tinydbg's name).
func ConfigPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locating the configuration: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tinydbg", "config.yml"), nil
}

// saveConfig writes the parameters as YAML with Delve's keys, in its
// order, leaving out unset optional ones as Delve's omitempty does.
func (t *Term) saveConfig() error {
	path := t.conf.ConfigFile
	if path == "" || path == "-" {
		p, err := ConfigPath()
		if err != nil {
			return err
		}
		path = p
	}
	s := &t.set
	var b strings.Builder
	b.WriteString("aliases:\n")
	for _, k := range sortedKeys(s.aliases) {
		if len(s.aliases[k]) == 0 {
			continue
		}
		q := make([]string, len(s.aliases[k]))
		for i, a := range s.aliases[k] {
			q[i] = strconv.Quote(a)
		}
		fmt.Fprintf(&b, "  %s: [%s]\n", k, strings.Join(q, ", "))
	}
	b.WriteString("substitute-path:\n")
	for _, r := range s.substitute {
		fmt.Fprintf(&b, "  - {from: %s, to: %s}\n", strconv.Quote(r[0]), strconv.Quote(r[1]))
	}
	for _, o := range []struct {
		name string
		v    int
	}{{"max-string-len", s.maxStringLen}, {"max-array-values", s.maxArrayValues}, {"max-variable-recurse", s.maxRecurse}} {
		if s.defined[o.name] {
			fmt.Fprintf(&b, "%s: %d\n", o.name, o.v)
		}
	}
	if s.defined["disassemble-flavor"] {
		fmt.Fprintf(&b, "disassemble-flavor: %s\n", s.flavour)
	}
	fmt.Fprintf(&b, "show-location-expr: %t\n", s.showLocExpr)
	switch c := s.lineColor.(type) {
	case string:
		fmt.Fprintf(&b, "source-list-line-color: %s\n", strconv.Quote(c))
	case int:
		fmt.Fprintf(&b, "source-list-line-color: %d\n", c)
	default:
		b.WriteString("source-list-line-color: null\n")
	}
	for _, name := range colorParams {
		fmt.Fprintf(&b, "%s: %s\n", name, strconv.Quote(s.colors[name]))
	}
	if s.defined["source-list-line-count"] {
		fmt.Fprintf(&b, "source-list-line-count: %d\n", s.listLines)
	}
	fmt.Fprintf(&b, "position: %s\n", strconv.Quote(s.position))
	fmt.Fprintf(&b, "tab: %s\n", strconv.Quote(s.tab))
	fmt.Fprintf(&b, "trace-show-timestamp: %t\n", s.traceTime)
	fmt.Fprintf(&b, "show-raw-strings: %t\n", s.rawStrings)
	if s.prompt != "" {
		fmt.Fprintf(&b, "prompt: %s\n", strconv.Quote(s.prompt))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving the configuration: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("saving the configuration: %w", err)
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// loadConfigFile reads a file config -save wrote (the YAML subset it
// writes): each line goes through the same setters as the config command,
// so a bad value is reported with its line and the others still apply.
func (t *Term) loadConfigFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("reading the configuration: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section, n := "", 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		var err error
		switch {
		case strings.HasPrefix(line, "  ") && section == "aliases":
			cmd, list, _ := strings.Cut(trimmed, ":")
			list = strings.Trim(strings.TrimSpace(list), "[]")
			for _, a := range strings.Split(list, ",") {
				if a = unquote(strings.TrimSpace(a)); a != "" && err == nil {
					err = t.setAlias(cmd + " " + strconv.Quote(a))
				}
			}
		case strings.HasPrefix(line, "  ") && section == "substitute-path":
			body := strings.Trim(strings.TrimPrefix(trimmed, "- "), "{}")
			from, to, _ := strings.Cut(body, ", to: ")
			from = unquote(strings.TrimPrefix(from, "from: "))
			t.set.substitute = append(t.set.substitute, [2]string{from, unquote(to)})
		default:
			key, val, _ := strings.Cut(trimmed, ":")
			val = strings.TrimSpace(val)
			section = key
			switch {
			case key == "aliases" || key == "substitute-path":
			case key == "source-list-line-color" && val == "null":
				t.set.lineColor = nil
			default:
				err = t.setConfig(key, val)
			}
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}
