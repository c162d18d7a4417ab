package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tools the tests run as separate processes, prepared once by TestMain.
var (
	// tinydbgBin is cmd/tinydbg built from this working tree.
	tinydbgBin string
	// dlvBin is Delve's v1.27.2 command, found or installed; "" with
	// dlvErr set when neither worked.
	dlvBin string
	dlvErr error
)

// dlvVersion is the Delve release whose terminal and server the
// transcript test compares against.
const dlvVersion = "v1.27.2"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tinydbg-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		tinydbgBin = filepath.Join(dir, "tinydbg")
		// Built inside the main module, with its own go.sum and dependencies.
		build := exec.Command("go", "build", "-o", tinydbgBin, "./cmd/tinydbg")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building tinydbg: %v\n%s", err, out)
			return 1
		}
		dlvBin, dlvErr = findDlv(dir)
		return m.Run()
	}()
	os.Exit(code)
}

// findDlv returns a dlv of dlvVersion from PATH or GOPATH/bin, or installs
// one into dir with go install.
func findDlv(dir string) (string, error) {
	var candidates []string
	if p, err := exec.LookPath("dlv"); err == nil {
		candidates = append(candidates, p)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, gp := range filepath.SplitList(strings.TrimSpace(string(out))) {
			candidates = append(candidates, filepath.Join(gp, "bin", "dlv"))
		}
	}
	for _, c := range candidates {
		out, err := exec.Command(c, "version").Output()
		if err == nil && strings.Contains(string(out), "Version: "+strings.TrimPrefix(dlvVersion, "v")) {
			return c, nil
		}
	}
	inst := exec.Command("go", "install", "github.com/go-delve/delve/cmd/dlv@"+dlvVersion)
	inst.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := inst.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install dlv@%s: %w\n%s", dlvVersion, err, out)
	}
	return filepath.Join(dir, "dlv"), nil
}
