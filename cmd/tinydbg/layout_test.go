package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageMapMatchesTree keeps DEVELOPERS.md's package map true: every
// package of the module is listed, and every listed directory exists.
func TestPackageMapMatchesTree(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "DEVELOPERS.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\S*\s+((?:pkg|cmd|internal|service|compat|bench|_fixtures)[\w/]*/)`).FindAllStringSubmatch(string(doc), -1) {
		listed[strings.TrimSuffix(m[1], "/")] = true
	}
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !listed[rel] {
			t.Errorf("package %s is not in DEVELOPERS.md's map", rel)
		}
	}
	for dir := range listed {
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			t.Errorf("DEVELOPERS.md lists %s, which is not in the tree", dir)
		}
	}
	if len(listed) < 20 {
		t.Fatalf("read only %d directories from the map: %v", len(listed), listed)
	}
}
