package main

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
)

// stoppedAt matches the stop line both REPLs print, e.g.
// "> [Breakpoint 1] main.main() /usr/local/go/src/cmd/go/main.go:90 ...".
func stoppedAt(fn string) *regexp.Regexp {
	return regexp.MustCompile(`> (\[[^\]]*\] )?` + regexp.QuoteMeta(fn) + `\(\)`)
}

// quoteScript shows a piped script as a printf argument in the commands list.
func quoteScript(s string) string {
	return "'" + strings.ReplaceAll(s, "\n", `\n`) + "'"
}

// verdict says whether value ≤ goal (smaller is better).
func verdict(value, goal float64) string {
	switch {
	case math.IsNaN(value):
		return "not measured"
	case value <= goal:
		return "met"
	default:
		return "NOT met"
	}
}

// usable returns the debuggers for which why(d) is empty.
func usable(dbgs []debugger, why func(debugger) string) []debugger {
	var out []debugger
	for _, d := range dbgs {
		if why(d) == "" {
			out = append(out, d)
		}
	}
	return out
}

// benchStartup loads cmd/go, breaks on main.main, reaches it and quits, with
// the same script piped into each debugger's REPL; it records wall time and
// the debugger's peak RSS.
func benchStartup(c *config, dbgs []debugger) (string, error) {
	script := "break main.main\ncontinue\nexit\n"
	hit := stoppedAt("main.main")
	wall := map[string][]float64{}
	rss := map[string][]float64{}
	ds := usable(dbgs, func(d debugger) string { return d.noREPL })
	once := func(d debugger) (result, error) {
		r, err := run(spec{path: d.path, args: d.replArgs(c.goBin), stdin: script, timeout: c.timeout})
		if err != nil {
			return r, err
		}
		if !hit.MatchString(r.output) {
			return r, fmt.Errorf("%s never reported a stop at main.main; output:\n%s", d.name, tail(r.output, 2000))
		}
		return r, nil
	}
	// One unmeasured run each, so that both find cmd/go in the page cache.
	for _, d := range ds {
		if _, err := once(d); err != nil {
			return "", err
		}
	}
	err := interleave(c.reps, ds, func(d debugger) error {
		r, err := once(d)
		if err != nil {
			return err
		}
		wall[d.name] = append(wall[d.name], seconds(r.wall))
		rss[d.name] = append(rss[d.name], float64(r.maxRSS))
		return nil
	})
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, d := range dbgs {
		if d.noREPL != "" {
			rows = append(rows, []string{d.name, "not measured: " + d.noREPL, ""})
			continue
		}
		rows = append(rows, []string{d.name, spread(summarize(wall[d.name]), secs), spread(summarize(rss[d.name]), mib)})
	}
	tw, dw := summarize(wall["tinydbg"]).med, summarize(wall["dlv"]).med
	tm, dm := summarize(rss["tinydbg"]).med, summarize(rss["dlv"]).med
	rows = append(rows, []string{"**tinydbg / dlv**", ratio(tw, dw), ratio(tm, dm)})

	size := int64(0)
	if fi, err := os.Stat(c.goBin); err == nil {
		size = fi.Size()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## 1. Start-up on a large binary (cmd/go, %.1f MB)\n\n", float64(size)/1e6)
	fmt.Fprintf(&b, "Load the binary, `break main.main`, `continue` to it, `exit`: the same script piped into each REPL. "+
		"Peak memory is the debugger's ru_maxrss from wait4 (Linux folds in the reaped debuggee, which is far smaller). "+
		"%d repetitions after one warm-up run each, order alternated; median (min – max).\n\n", c.reps)
	b.WriteString(table([]string{"debugger", "wall time", "peak RSS"}, rows))
	fmt.Fprintf(&b, "\nGoal (issue): tinydbg ≤ 0.5× Delve — time %s, memory %s.\n\n", verdict(tw/dw, 0.5), verdict(tm/dm, 0.5))
	fmt.Fprintf(&b, "```\nprintf %s | %s %s\nprintf %s | %s %s\n```\n",
		quoteScript(script), "tinydbg", strings.Join(dbgs[0].replArgs("$WORK/go"), " "),
		quoteScript(script), "dlv", strings.Join(dbgs[1].replArgs("$WORK/go"), " "))
	return b.String(), nil
}
