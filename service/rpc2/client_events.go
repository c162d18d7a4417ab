package rpc2

import "github.com/tinydbg/tinydbg/service/api"

// SetEventsFn makes the commands that resume the target ask for its
// events and hand each to fn while they run, as Delve's client of the
// same name does: fn sees the target resume, each child it spawned (with
// follow-exec on) and its stop, on another goroutine than the command's,
// all before the command returns. Set it before the first command.
func (c *Client) SetEventsFn(fn func(*api.Event)) { c.eventsFn = fn }

// commandWithEvents runs a resuming command while a GetEvents loop hands
// the server's events to eventsFn, until the stop event the server sends
// before the command's answer.
func (c *Client) commandWithEvents(cmd api.DebuggerCommand, out *CommandOut) error {
	cmd.WithEvents = true
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var ev GetEventsOut
			if err := c.call("GetEvents", GetEventsIn{}, &ev); err != nil {
				return // the connection is gone: the command fails too
			}
			for i := range ev.Events {
				c.eventsFn(&ev.Events[i])
				if ev.Events[i].Kind == api.EventStopped {
					return
				}
			}
		}
	}()
	// The server queues the stop event before it answers, error or not.
	err := c.call("Command", cmd, out)
	<-done
	return err
}
