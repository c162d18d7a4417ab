package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Grouping limits of a goroutines listing, as Delve's clients send them.
const (
	maxGroupMembers = 5
	maxGroups       = 50
)

// GoroutineArgs is a parsed argument line of the REPL's goroutines
// command; the DAP server's goroutineFilters attribute has the same
// syntax, of which it uses the filters.
type GoroutineArgs struct {
	Filters []ListGoroutinesFilter
	Group   GoroutineGroupingOptions
	Loc     byte // which location is shown: 'u', 'r', 'g' or 's'
	Stack   bool // with the stack, Depth frames deep
	Labels  bool
	Depth   int
	Exec    string // a command to run on each goroutine
}

// goroutineFields names the fields filters and groups select.
var goroutineFields = map[string]GoroutineField{
	"curloc": GoroutineCurrentLoc, "userloc": GoroutineUserLoc, "goloc": GoroutineGoLoc,
	"startloc": GoroutineStartLoc, "label": GoroutineLabel, "running": GoroutineRunning,
	"user": GoroutineUser,
}

// ParseGoroutineArgs parses args as the goroutines command takes them:
// -u|-r|-g|-s, -t [depth], -l, -with|-without <field> [<arg>],
// -group <field>, -chan <expr>, -exec <command>.
func ParseGoroutineArgs(args string) (GoroutineArgs, error) {
	l := GoroutineArgs{Loc: 'u', Depth: 10}
	l.Group.MaxGroupMembers, l.Group.MaxGroups = maxGroupMembers, maxGroups
	f := strings.Fields(args)
	field := func(i int) (GoroutineField, error) {
		if i >= len(f) {
			return 0, fmt.Errorf("%s must be followed by a field (userloc, curloc, goloc, startloc, label, running, user)", f[i-1])
		}
		k, ok := goroutineFields[f[i]]
		if !ok {
			return 0, fmt.Errorf("unrecognized argument to %s %s", f[i-1], f[i])
		}
		return k, nil
	}
	for i := 0; i < len(f); i++ {
		switch a := f[i]; a {
		case "-u", "-r", "-g", "-s":
			l.Loc = a[1]
		case "-l":
			l.Labels = true
		case "-t":
			l.Stack = true
			if i+1 < len(f) {
				if n, err := strconv.Atoi(f[i+1]); err == nil {
					l.Depth = n
					i++
				}
			}
		case "-w", "-with", "-wo", "-without":
			k, err := field(i + 1)
			if err != nil {
				return l, err
			}
			i++
			flt := ListGoroutinesFilter{Kind: k, Negated: a == "-wo" || a == "-without"} // "-without" begins with "-with"
			if k != GoroutineRunning && k != GoroutineUser {
				if i+1 >= len(f) {
					return l, fmt.Errorf("%s %s needs to be followed by an expression", a, f[i])
				}
				i++
				flt.Arg = f[i]
			}
			l.Filters = append(l.Filters, flt)
		case "-group":
			k, err := field(i + 1)
			if err != nil {
				return l, err
			}
			i++
			l.Group.GroupBy = k
			if k == GoroutineLabel {
				if i+1 >= len(f) {
					return l, errors.New("-group label needs a label key")
				}
				i++
				l.Group.GroupByKey = f[i]
			}
		case "-chan":
			if i+1 >= len(f) {
				return l, errors.New("not enough arguments after -chan")
			}
			i++
			l.Filters = append(l.Filters, ListGoroutinesFilter{Kind: GoroutineWaitingOnChannel, Arg: f[i]})
		case "-exec":
			l.Exec = strings.Join(f[i+1:], " ")
			if l.Exec == "" {
				return l, errors.New("-exec needs a command")
			}
			i = len(f)
		default:
			return l, fmt.Errorf("wrong argument: '%s'", a)
		}
	}
	return l, nil
}
