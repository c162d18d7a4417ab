package debugger

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/service/api"
)

// group is a follow-exec target group: the Debugger the server holds (the
// root) and one Debugger per other target, each with a ptrace thread of
// its own. The root always holds the selected target's state; selecting
// another swaps the two Debuggers' targetState, so that every method of
// the root (and every RPC) acts on the selected target without knowing
// about the group.
type group struct {
	mu      sync.Mutex
	root    *Debugger
	members []*Debugger // the other targets
	on      bool
	re      *regexp.Regexp // the children followed; nil: all
	run     *groupRun      // the continue in progress
	specs   map[int]userBreakpoint
	nextBP  int
	errs    []error // children that could not be attached, for the reply of the command that ran
	// events receives the spawned-process events of the command in
	// progress (nil: none wanted); spawns counts the children whose
	// attach and event are still on their way, which that command
	// waits for, so that they come before its stop.
	events func(api.Event)
	spawns sync.WaitGroup
}

// follower is what the native backend's process offers for follow-exec.
type follower interface {
	FollowExec(on bool, want func(cmdline string) bool, onExec func(pid int, cmdline string, stopped bool)) error
}

// FollowExec turns follow-exec on (children whose command line matches
// regex, every child when it is empty) or off, for every target.
func (d *Debugger) FollowExec(enable bool, regex string) error {
	var re *regexp.Regexp
	if enable && regex != "" {
		var err error
		if re, err = regexp.Compile(regex); err != nil {
			return fmt.Errorf("follow-exec regex: %w", err)
		}
	} else if regex != "" {
		return errors.New("a regular expression only goes with follow-exec on")
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return err
	}
	if d.grp == nil {
		d.grp = &group{root: d}
	}
	g := d.grp
	err = g.apply(t, enable, re)
	unlock()
	if err != nil {
		return err
	}
	g.mu.Lock()
	members := append([]*Debugger(nil), g.members...)
	g.mu.Unlock()
	for _, m := range members {
		if mt, munlock, err := m.lockAlive(); err == nil {
			err = g.apply(mt, enable, re)
			munlock()
			if err != nil {
				return err
			}
		}
	}
	g.mu.Lock()
	g.on, g.re = enable, re
	g.mu.Unlock()
	return nil
}

// apply sets follow-exec on one target's process.
func (g *group) apply(t *proc.Target, enable bool, re *regexp.Regexp) error {
	f, ok := t.Process().(follower)
	if !ok {
		return errors.New("follow-exec needs the native backend")
	}
	want := func(cmdline string) bool { return re == nil || re.MatchString(cmdline) }
	return f.FollowExec(enable, want, func(pid int, cmdline string, stopped bool) {
		// On the parent's ptrace thread: attaching is another thread's job.
		g.spawns.Add(1)
		go func() {
			defer g.spawns.Done()
			if stopped {
				g.attach(pid)
			}
			g.spawned(pid, cmdline, stopped)
		}()
	})
}

// spawned tells the command in progress of a child's exec, as Delve's
// ProcessSpawned event: every child, followed or not (whether it was
// followed is WillFollow), after a followed one was attached or let go.
func (g *group) spawned(pid int, cmdline string, followed bool) {
	g.mu.Lock()
	events := g.events
	g.mu.Unlock()
	if events != nil {
		// The child's only thread has the pid (its exec'ing thread
		// became its leader).
		events(api.Event{Kind: api.EventProcessSpawned, ProcessSpawnedEventDetails: &api.ProcessSpawnedEventDetails{
			PID: pid, ThreadID: pid, Cmdline: cmdline, WillFollow: followed}})
	}
}

// FollowExecEnabled reports whether exec'd children are followed.
func (d *Debugger) FollowExecEnabled() bool {
	if d.grp == nil {
		return false
	}
	d.grp.mu.Lock()
	defer d.grp.mu.Unlock()
	return d.grp.on
}

// attach makes the stopped child pid a target: its breakpoints are the
// group's, by location (those whose place it lacks are left out), and a
// continue in progress takes it along. A child that cannot be attached is
// let go, so that the program does not wait for it forever.
func (g *group) attach(pid int) {
	g.mu.Lock()
	bps := map[int]*userBreakpoint{}
	for id, ub := range g.specs {
		if ub.spec.WatchExpr == "" && id > 0 {
			c := ub
			c.pbp, c.perG, c.total = nil, map[int64]uint64{}, 0
			bps[id] = &c
		}
	}
	next, re, on := g.nextBP, g.re, g.on
	g.mu.Unlock()
	c := &Debugger{targetState: targetState{cfg: Config{AttachPid: pid}, bps: bps, nextBP: max(next, 1), ktrace: &kernelTraces{}}}
	err := c.start()
	if err == nil {
		c.mu.Lock()
		c.reinstallBreakpoints()
		c.installDefaultBreakpoints(c.target)
		c.grp = g
		err = g.apply(c.target, on, re)
		c.mu.Unlock()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.errs = append(g.errs, fmt.Errorf("child process %d could not be debugged: %w", pid, err))
		if c.target != nil {
			_ = c.target.Detach()
		}
		_ = unix.Kill(pid, unix.SIGCONT)
		return
	}
	g.members = append(g.members, c)
	if g.run != nil && !g.run.halting {
		g.run.start(c)
	}
}

// groupRun is one continue of every target; guarded by the group's mu.
type groupRun struct {
	res     chan runResult
	pending int
	live    map[*Debugger]bool // started and not yet reported
	halting bool               // a target stopped: the others are being halted
}

type runResult struct {
	d   *Debugger
	st  *api.DebuggerState
	err error
}

// start continues d; called with the group's mu held.
func (r *groupRun) start(d *Debugger) {
	r.pending++
	r.live[d] = true
	go func() {
		st, err := d.commandOne(api.DebuggerCommand{Name: api.Continue}, nil)
		r.res <- runResult{d, st, err}
	}()
}

// Command runs one execution command (see commandOne). In a group with
// other targets, continue resumes them all and stops them all at the
// first stop of any, whose target becomes the selected one; switching to
// a thread of another target selects that target.
func (d *Debugger) Command(cmd api.DebuggerCommand, resumed chan<- struct{}) (*api.DebuggerState, error) {
	return d.CommandEvents(cmd, resumed, nil)
}

// CommandEvents is Command telling events of what the command ran:
// with follow-exec on, each child that exec'd (api.EventProcessSpawned),
// before the command returns.
func (d *Debugger) CommandEvents(cmd api.DebuggerCommand, resumed chan<- struct{}, events func(api.Event)) (*api.DebuggerState, error) {
	g := d.grp
	if g == nil || g.root != d {
		return d.commandOne(cmd, resumed)
	}
	if !cmd.Resumes() {
		return g.command(cmd, resumed)
	}
	g.mu.Lock()
	g.events = events
	g.mu.Unlock()
	st, err := g.command(cmd, resumed)
	// Every target is stopped: no exec is left to come. What the
	// children exec'd while this command ran is its reply's, whichever
	// command it is (a call may exec too), not a later one's.
	g.spawns.Wait()
	g.mu.Lock()
	g.events = nil
	errs := g.errs
	g.errs = nil
	g.mu.Unlock()
	if len(errs) > 0 {
		err = errors.Join(append([]error{err}, errs...)...)
	}
	return st, err
}

// command runs cmd on the group whose root is the selected target.
func (g *group) command(cmd api.DebuggerCommand, resumed chan<- struct{}) (*api.DebuggerState, error) {
	d := g.root
	switch cmd.Name {
	case api.Continue, api.Next, api.Step, api.StepOut:
		// The other targets run while the selected one continues or
		// steps, as in Delve. With follow-exec on, a child attached
		// meanwhile must be taken along even when there is no other
		// target yet.
		if g.hasMembers() || d.FollowExecEnabled() {
			return g.continueAll(cmd, resumed)
		}
	case api.SwitchThread:
		if m := g.memberWithThread(cmd.ThreadID); m != nil {
			g.syncBreakpoints()
			g.swap(m)
		}
	}
	return d.commandOne(cmd, resumed)
}

func (g *group) hasMembers() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.members) > 0
}

// memberWithThread finds the member whose process has thread tid.
func (g *group) memberWithThread(tid int) *Debugger {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		m.tmu.Lock()
		pid := m.target.Pid()
		m.tmu.Unlock()
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, tid)); err == nil {
			return m
		}
	}
	return nil
}

// syncBreakpoints makes the breakpoints of every target the root's (the
// selected target's, where the user sets them): what was added, changed
// or cleared there since the last sync is done in the others too, by
// location, under the same ids, as Delve's breakpoints are logical ones
// of the whole group. It runs before every continue and target switch.
func (g *group) syncBreakpoints() {
	d := g.root
	d.mu.Lock()
	cur := make(map[int]userBreakpoint, len(d.bps))
	for id, ub := range d.bps {
		cur[id] = *ub
	}
	next := d.nextBP
	d.mu.Unlock()
	g.mu.Lock()
	prev := g.specs
	members := append([]*Debugger(nil), g.members...)
	g.mu.Unlock()
	for _, m := range members {
		next = max(next, m.syncFrom(prev, cur))
	}
	d.mu.Lock()
	d.nextBP = max(d.nextBP, next)
	d.mu.Unlock()
	g.mu.Lock()
	g.specs, g.nextBP = cur, next
	g.mu.Unlock()
}

// syncFrom applies to this target the changes from prev to cur and
// returns its next breakpoint id, which is kept above every id in use.
func (d *Debugger) syncFrom(prev, cur map[int]userBreakpoint) int {
	for id := range prev {
		if _, ok := cur[id]; !ok && id > 0 {
			_, _ = d.ClearBreakpoint(id, "")
		}
	}
	for id, ub := range cur {
		old, had := prev[id]
		switch {
		case id <= 0 || ub.spec.WatchExpr != "":
		case !had:
			d.addCopy(ub)
		case !reflect.DeepEqual(old.spec, ub.spec):
			_ = d.AmendBreakpoint(ub.spec)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nextBP
}

// addCopy sets another target's breakpoint here, under its id; one whose
// location this binary lacks is left out.
func (d *Debugger) addCopy(ub userBreakpoint) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return
	}
	defer unlock()
	d.nextBP = max(d.nextBP, ub.spec.ID+1)
	if _, exists := d.bps[ub.spec.ID]; exists {
		return
	}
	c := ub
	c.pbp, c.view, c.total, c.perG = nil, nil, 0, map[int64]uint64{}
	if !c.spec.Disabled {
		pbp, err := c.loc.set(t)
		if err != nil {
			return
		}
		hc, _ := ParseHitCond(c.spec.HitCond)
		pbp.CondExpr, pbp.HitCond, pbp.HitCondPerG = c.spec.Cond, hc, c.spec.HitCondPerG
		c.pbp = pbp
		c.view = d.breakpointView(&c)
		d.installEvaluator(t)
	}
	d.bps[c.spec.ID] = &c
}

// continueAll runs cmd on the root and continues every other target
// until one stops. Targets that end
// meanwhile leave the group; the last one's end is the result.
func (g *group) continueAll(cmd api.DebuggerCommand, resumed chan<- struct{}) (*api.DebuggerState, error) {
	g.syncBreakpoints()
	g.mu.Lock()
	run := &groupRun{res: make(chan runResult), live: map[*Debugger]bool{}}
	g.run = run
	for _, m := range g.members {
		run.start(m)
	}
	run.pending++
	run.live[g.root] = true
	go func() {
		st, err := g.root.commandOne(cmd, resumed)
		run.res <- runResult{g.root, st, err}
	}()
	g.mu.Unlock()

	var win *runResult
	var gone []*Debugger
	for left := 1; left > 0; {
		r := <-run.res
		g.mu.Lock()
		run.pending--
		delete(run.live, r.d)
		left = run.pending
		g.mu.Unlock()
		exited := r.err == nil && r.st != nil && r.st.Exited
		switch {
		case exited && (win != nil || left > 0):
			gone = append(gone, r.d) // the others run on, or were stopped
		case win == nil:
			rr := r
			win = &rr
			g.haltRun(run)
		}
	}
	g.mu.Lock()
	g.run = nil
	g.mu.Unlock()
	// The root ends up holding the winner's target; what ended leaves.
	if win.d != g.root {
		g.swap(win.d)
		for i := range gone {
			if gone[i] == g.root {
				gone[i] = win.d // the root's ended target is there now
			} else if gone[i] == win.d {
				gone[i] = g.root
			}
		}
	}
	g.drop(gone)
	return win.st, win.err
}

// haltRun halts the targets of the run still going. A halt reaching a
// target just before its continue begins makes that continue return at
// once, which is what is wanted here.
func (g *group) haltRun(run *groupRun) {
	g.mu.Lock()
	run.halting = true
	var ds []*Debugger
	for d := range run.live {
		ds = append(ds, d)
	}
	g.mu.Unlock()
	for _, d := range ds {
		d.tmu.Lock()
		if d.target != nil {
			d.target.Halt()
		}
		d.tmu.Unlock()
	}
}

// haltAll halts every running target but except.
func (g *group) haltAll(except *Debugger) {
	g.mu.Lock()
	ds := append([]*Debugger{g.root}, g.members...)
	g.mu.Unlock()
	for _, d := range ds {
		if d != except {
			d.haltOne()
		}
	}
}

// haltOne is Halt for this Debugger's target only.
func (d *Debugger) haltOne() {
	d.tmu.Lock()
	defer d.tmu.Unlock()
	if d.running.Load() {
		d.target.Halt()
	}
}

// drop removes the members whose targets ended from the group (never
// the root, which holds the selected target).
func (g *group) drop(gone []*Debugger) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range gone {
		for i, m := range g.members {
			if m == d {
				g.members = append(g.members[:i], g.members[i+1:]...)
				break
			}
		}
	}
}

// swap selects m's target: the root and m exchange their target states,
// and each target's condition evaluator is bound to its new Debugger.
func (g *group) swap(m *Debugger) {
	r := g.root
	r.mu.Lock()
	m.mu.Lock()
	r.tmu.Lock()
	m.tmu.Lock()
	r.targetState, m.targetState = m.targetState, r.targetState
	m.tmu.Unlock()
	r.tmu.Unlock()
	for _, d := range []*Debugger{r, m} {
		if d.target != nil {
			d.target.Eval = nil
			d.installEvaluator(d.target)
		}
	}
	m.mu.Unlock()
	r.mu.Unlock()
}

// groupHalt halts the other targets too, for Halt.
func (d *Debugger) groupHalt() {
	if g := d.grp; g != nil && g.root == d {
		g.haltAll(d)
	}
}

// groupDetach detaches from (or kills) the other targets, for Detach.
func (d *Debugger) groupDetach(kill bool) {
	g := d.grp
	if g == nil || g.root != d {
		return
	}
	g.mu.Lock()
	members := g.members
	g.members = nil
	g.mu.Unlock()
	for _, m := range members {
		_ = m.Detach(kill)
	}
}

// ListTargets lists the debugged processes, by pid, with their command
// lines as the kernel has them (as Delve reads them).
func (d *Debugger) ListTargets() ([]TargetInfo, error) {
	ds := []*Debugger{d}
	if g := d.grp; g != nil && g.root == d {
		g.mu.Lock()
		ds = append(ds, g.members...)
		g.mu.Unlock()
	}
	var out []TargetInfo
	for i, x := range ds {
		info, err := x.targetInfo()
		if err != nil {
			if i == 0 {
				return nil, err
			}
			continue // a member that ended or was detached
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out, nil
}

// groupRestart is the start of Restart in a group: the launched target
// comes back to the root and the followed children are killed, since the
// restarted program makes its own again. The returned function, run
// after the restart, turns follow-exec on for the new process.
func (d *Debugger) groupRestart() func() {
	g := d.grp
	if g == nil || g.root != d {
		return func() {}
	}
	g.mu.Lock()
	members := g.members
	g.mu.Unlock()
	for _, m := range members {
		if m.cfg.AttachPid == 0 && d.cfg.AttachPid != 0 {
			g.swap(m)
		}
	}
	d.groupDetach(true)
	return func() {
		g.mu.Lock()
		on, re := g.on, g.re
		g.mu.Unlock()
		if !on {
			return
		}
		if t, unlock, err := d.lockAlive(); err == nil {
			_ = g.apply(t, true, re)
			unlock()
		}
	}
}
