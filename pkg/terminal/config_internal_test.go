package terminal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigAliasesAndErrors: config alias adds a name to a command (help
// and -list show it) and removes it; substitute-path lists its rules with
// Delve's arrow; bad values get Delve's messages.
func TestConfigAliasesAndErrors(t *testing.T) {
	term, out, _, _ := newFake()
	for _, line := range []string{"config alias locals ll", "config substitute-path /build /src",
		"config substitute-path \"/a b\" /c", "config substitute-path", "ll", "help ll"} {
		if err := term.Call(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	want := "\"/build\" → \"/src\"\n\"/a b\"   → \"/c\"\n" +
		"sum = (unknown invalid)\np = (unknown invalid)\n" +
		"Print local variables.\n\n\tlocals [-v] [<regex>]\n\nOnly variables whose name matches the regex are shown; -v prints them in full.\n\nAliases: ll\n"
	if out.String() != want {
		t.Errorf("output:\n%q\nwant:\n%q", out.String(), want)
	}
	out.Reset()
	if err := term.Call("config -list"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"aliases                   map[locals:[ll]]\n", "substitute-path           [{/build /src} {/a b /c}]\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("config -list lacks %q:\n%s", w, out.String())
		}
	}
	if err := term.Call("config alias ll"); err != nil {
		t.Fatal(err)
	}
	errs := map[string]string{
		"ll":                               `command "ll" not available, did you mean "l"?`,
		"config":                           `wrong number of arguments to "config"`,
		"config max-string-len x":          `argument to "max-string-len" must be a number`,
		"config max-array-values -1":       `argument to "max-array-values" must be a number greater than zero`,
		"config show-raw-strings yes":      `argument to "show-raw-strings" must be true or false`,
		"config frobnicate 1":              `"frobnicate" is not a configuration parameter`,
		"config alias nosuch n":            `command "nosuch" not available, type 'help' for a list of commands`,
		"config alias print next":          `"next" is already a name of next`,
		"config substitute-path /nope":     `could not find rule for "/nope"`,
		"config substitute-path a b c":     `too many arguments to "config substitute-path"`,
		"config disassemble-flavor att":    `disassemble-flavor must be intel, gnu or go, not "att"`,
		"config source-list-line-color -3": `argument to "source-list-line-color" must be a number greater than zero`,
		"config position sideways":         `position must be default, source or disassembly, not "sideways"`,
	}
	for line, want := range errs {
		if err := term.Call(line); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
}

// TestConfigSaveLoad: config -save writes Delve's keys, and a terminal
// started with that file has the same configuration, aliases included.
func TestConfigSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	term, out, _, fc := newFake()
	term.conf.ConfigFile = path
	for _, line := range []string{"config alias locals ll", "config substitute-path /build \"/my src\"",
		"config max-string-len 100", "config source-list-line-color 32", "config source-list-string-color \"\\x1b[31m\"",
		"config show-raw-strings true", "config tab \">>\"", "config prompt \"$p> \"", "config -save"} {
		if err := term.Call(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := "aliases:\n  locals: [\"ll\"]\nsubstitute-path:\n  - {from: \"/build\", to: \"/my src\"}\n" +
		"max-string-len: 100\nshow-location-expr: false\nsource-list-line-color: 32\n" +
		"source-list-arrow-color: \"\"\nsource-list-keyword-color: \"\"\nsource-list-string-color: \"\\x1b[31m\"\n" +
		"source-list-number-color: \"\"\nsource-list-comment-color: \"\"\nprompt-color: \"\"\nsource-list-tab-color: \"\"\n" +
		"stacktrace-function-color: \"\"\nstacktrace-basename-color: \"\"\nposition: \"\"\ntab: \">>\"\n" +
		"trace-show-timestamp: false\nshow-raw-strings: true\nprompt: \"$p> \"\n"
	if string(b) != wantFile {
		t.Errorf("saved:\n%s\nwant:\n%s", b, wantFile)
	}
	if err := term.Call("config -list"); err != nil {
		t.Fatal(err)
	}
	var out2, errb bytes.Buffer
	term2 := New(fc, Config{Stdin: strings.NewReader(""), Stdout: &out2, Stderr: &errb, HistoryFile: "-", ConfigFile: path})
	if err := term2.Call("config -list"); err != nil {
		t.Fatal(err)
	}
	if out2.String() != out.String() || errb.String() != "" {
		t.Errorf("reloaded -list:\n%s\nwant:\n%s\nstderr: %s", out2.String(), out.String(), errb.String())
	}
	if c := term2.find("ll"); c == nil || c.names[0] != "locals" {
		t.Errorf("alias ll not reloaded: %v", c)
	}
}
