package debugger

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"

	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// delveChanExpr is how Delve's terminal names a channel it printed:
// *(*"chan T")(0xADDR), ADDR being where the channel value is stored.
var delveChanExpr = regexp.MustCompile(`^\*\(\*"[^"]*"\)\((0x[0-9a-fA-F]+)\)$`)

// maxChanWaiters bounds the walk of a wait queue, which a corrupt or
// racing list could make endless.
const maxChanWaiters = 10000

// ChanGoroutines lists the goroutines waiting on the channel expr
// evaluates to in frame of goroutine goid: receivers, then senders, in
// queue order, as Delve's channel filter does; from index start, at most
// count of them, then filtered and grouped like ListGoroutines.
func (d *Debugger) ChanGoroutines(goid int64, frame int, expr string, start, count int,
	filters []api.ListGoroutinesFilter, group api.GoroutineGroupingOptions) (*GoroutineList, error) {
	if count <= 0 {
		return nil, errors.New("count == 0 not allowed with a channel filter")
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	sc, err := d.scope(t, d.scopeGoroutine(t, goid), frame)
	if err != nil {
		return nil, err
	}
	ids, err := chanWaiters(sc, expr)
	if err != nil {
		return nil, err
	}
	out := &GoroutineList{Next: -1}
	start = min(max(start, 0), len(ids))
	ids = ids[start:]
	if len(ids) > count {
		ids, out.Next = ids[:count], start+count
	}
	all, err := d.listG(t)
	if err != nil {
		return nil, err
	}
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	byID := map[int64]*goroutine.G{}
	for _, g := range all {
		byID[int64(g.ID)] = g
	}
	var kept []*api.Goroutine
	for _, id := range ids {
		g := byID[id]
		if g == nil {
			// Parked goroutines are all in the runtime's list; one that
			// is not was freed while we looked.
			kept = append(kept, &api.Goroutine{ID: id, Unreadable: fmt.Sprintf("goroutine %d not found", id)})
			continue
		}
		if ag := d.convertG(t, g, ths); matchesAll(g, ag, filters) {
			kept = append(kept, ag)
		}
	}
	return out.group(all, kept, group), nil
}

// chanWaiters returns the ids of the goroutines in the channel's recvq
// and sendq; none when expr is not a channel.
func chanWaiters(sc *eval.Scope, expr string) ([]int64, error) {
	word := func(e string) (uint64, error) {
		v, err := sc.Eval(e, value.LoadConfig{})
		if err != nil {
			return 0, err
		}
		if v.Unreadable != nil {
			return 0, v.Unreadable
		}
		n, err := strconv.ParseUint(v.Value, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number: %w", e, v.Value, err)
		}
		return n, nil
	}
	var hchan uint64
	if m := delveChanExpr.FindStringSubmatch(expr); m != nil {
		p, err := word("*(*uintptr)(" + m[1] + ")")
		if err != nil {
			return nil, fmt.Errorf("reading channel %s: %w", expr, err)
		}
		hchan = p
	} else {
		v, err := sc.Eval(expr, value.LoadConfig{MaxVariableRecurse: 1})
		if err != nil {
			return nil, err
		}
		if v.Kind != reflect.Chan {
			return nil, nil
		}
		hchan = v.Base
	}
	if hchan == 0 {
		return nil, nil // a nil channel has no queue
	}
	var ids []int64
	for _, q := range []string{"recvq", "sendq"} {
		p, err := word(fmt.Sprintf("uintptr((*runtime.hchan)(%#x).%s.first)", hchan, q))
		for err == nil && p != 0 && len(ids) < maxChanWaiters {
			var id uint64
			if id, err = word(fmt.Sprintf("(*runtime.sudog)(%#x).g.goid", p)); err != nil {
				break
			}
			ids = append(ids, int64(id))
			p, err = word(fmt.Sprintf("uintptr((*runtime.sudog)(%#x).next)", p))
		}
		if err != nil {
			return nil, fmt.Errorf("reading the channel's %s: %w", q, err)
		}
	}
	return ids, nil
}
