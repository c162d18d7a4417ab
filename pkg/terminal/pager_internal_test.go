package terminal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPager: a listing longer than the window goes to $DELVE_PAGER (else
// $PAGER) after Delve's notice; a short one, or any without a window,
// prints as usual.
func TestPager(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "paged")
	pagerProg := filepath.Join(dir, "pager")
	if err := os.WriteFile(pagerProg, []byte("#!/bin/sh\ncat > "+got+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DELVE_PAGER", pagerProg)
	term, out, _, fc := newFake()
	term.winSize = func() (int, int, bool) { return 3, 80, true }
	if err := term.Call("funcs"); err != nil {
		t.Fatal(err)
	}
	list := "fmt.Println\nmain.(*Point).Scale\nmain.add\nmain.main\n"
	if out.String() != "Sending output to pager...\n" {
		t.Errorf("terminal: %q", out.String())
	}
	if b, err := os.ReadFile(got); err != nil || string(b) != list {
		t.Errorf("pager got %q, %v; want %q", b, err, list)
	}
	out.Reset()
	fc.funcs = fc.funcs[:2]
	if err := term.Call("funcs"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "fmt.Println\nmain.(*Point).Scale\n" {
		t.Errorf("short listing: %q", out.String())
	}
	out.Reset()
	fc.funcs = strings.Fields("a b c d e f")
	term.winSize = func() (int, int, bool) { return 0, 0, false }
	if err := term.Call("funcs"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nb\nc\nd\ne\nf\n" {
		t.Errorf("without a window: %q", out.String())
	}
}
