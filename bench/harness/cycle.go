package main

import (
	"fmt"
	"strconv"
	"strings"
)

// cycleScript breaks on main.hot, reaches it, continues k more times, exits.
func cycleScript(k int) string {
	return "break main.hot\ncontinue\n" + strings.Repeat("continue\n", k) + "exit\n"
}

// benchCycle measures the breakpoint hit → continue cycle through each REPL:
// the per-cycle cost is (time with K continues − time with 0) / K, paired
// within each repetition so that start-up and shut-down cancel out.
func benchCycle(c *config, dbgs []debugger) (string, error) {
	hit := stoppedAt("main.hot")
	env := []string{"HOTLOOP_N=" + strconv.Itoa(max(100000, c.cycles))}
	ds := usable(dbgs, func(d debugger) string { return d.noREPL })
	once := func(d debugger, k int) (result, error) {
		r, err := run(spec{path: d.path, args: d.replArgs(c.hotloop), stdin: cycleScript(k), env: env, timeout: c.timeout})
		if err != nil {
			return r, err
		}
		// Delve may report several goroutines stopped at once, so count ≥.
		if n := len(hit.FindAllStringIndex(r.output, -1)); n < k+1 {
			return r, fmt.Errorf("%s reported %d stops at main.hot, want ≥ %d; output tail:\n%s", d.name, n, k+1, tail(r.output, 2000))
		}
		return r, nil
	}
	for _, d := range ds {
		if _, err := once(d, 0); err != nil {
			return "", err
		}
	}
	per := map[string][]float64{}
	base := map[string][]float64{}
	err := interleave(c.reps, ds, func(d debugger) error {
		r0, err := once(d, 0)
		if err != nil {
			return err
		}
		rk, err := once(d, c.cycles)
		if err != nil {
			return err
		}
		base[d.name] = append(base[d.name], seconds(r0.wall))
		per[d.name] = append(per[d.name], (seconds(rk.wall)-seconds(r0.wall))/float64(c.cycles))
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
		rows = append(rows, []string{d.name, spread(summarize(base[d.name]), secs), spread(summarize(per[d.name]), secs)})
	}
	t, dl := summarize(per["tinydbg"]).med, summarize(per["dlv"]).med
	rows = append(rows, []string{"**tinydbg / dlv**", ratio(summarize(base["tinydbg"]).med, summarize(base["dlv"]).med), ratio(t, dl)})

	var b strings.Builder
	b.WriteString("## 2. Breakpoint hit → continue cycle (REPL)\n\n")
	fmt.Fprintf(&b, "`_fixtures/hotloop` (built with `-gcflags=all=-N -l`; main.hot called by 4 goroutines), `break main.hot`, "+
		"then K = %d `continue`s piped into each REPL, stdout drained by the harness. Per cycle = (wall with K − wall with 0) / K, "+
		"paired per repetition; %d repetitions, median (min – max).\n\n", c.cycles, c.reps)
	b.WriteString(table([]string{"debugger", "wall, 0 continues", "per continue cycle"}, rows))
	fmt.Fprintf(&b, "\nGoal (issue): tinydbg ≤ 0.5× Delve per cycle — %s.\n\n", verdict(t/dl, 0.5))
	fmt.Fprintf(&b, "```\nprintf 'break main.hot\\ncontinue\\n<K × continue\\n>exit\\n' | HOTLOOP_N=%s tinydbg %s\n"+
		"printf ... | HOTLOOP_N=%s dlv %s\n```\n",
		env[0][len("HOTLOOP_N="):], strings.Join(dbgs[0].replArgs("$WORK/hotloop"), " "),
		env[0][len("HOTLOOP_N="):], strings.Join(dbgs[1].replArgs("$WORK/hotloop"), " "))
	return b.String(), nil
}
