package rpc2_test

import (
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// ourGoroutines returns the stacks of the goroutines, other than the
// caller's, running code of the server, the debugger or the target.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the caller
			continue
		}
		if strings.Contains(g, "tinydbg/service/rpc2.") || strings.Contains(g, "tinydbg/service/debugger.") ||
			strings.Contains(g, "tinydbg/pkg/proc") {
			out = append(out, g)
		}
	}
	return out
}

// settle waits until exactly want of our goroutines remain.
func settle(t *testing.T, what string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		gs := ourGoroutines()
		if len(gs) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines of the server, want %d:\n%s", what, len(gs), want, strings.Join(gs, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawClient is a JSON-RPC client with nothing of our own in it, so that
// pending calls can be abandoned by closing the connection.
func rawClient(t *testing.T, addr string) *rpc.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonrpc.NewClient(conn)
	if err := c.Call("RPCServer.SetApiVersion", api.SetAPIVersionIn{APIVersion: 2}, &api.SetAPIVersionOut{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitRunning polls the non-blocking state until the target runs.
func waitRunning(t *testing.T, c *rpc.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out rpc2.StateOut
		if err := c.Call("RPCServer.State", rpc2.StateIn{NonBlocking: true}, &out); err == nil && out.State.Running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("target never reported running")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoGoroutineLeaks connects clients that leave with calls pending (an
// event wait, a continue halted by themselves), checks after each one that
// the server is back to its idle goroutines, then stops the server while
// a last client's continue runs: nothing of the server, the debugger or
// the target may survive. Run it with -race.
func TestNoGoroutineLeaks(t *testing.T) {
	settle(t, "before the server", 0)
	s := start(t, "sleeper", true)
	// The accept loop and the backend's ptrace thread. A goroutine that is
	// running at the instant of the snapshot shows no stack, so one snapshot
	// may miss the ptrace thread: wait for both instead of counting once.
	const idle = 2
	settle(t, "serving", idle)
	for i := 0; i < 3; i++ {
		c := rawClient(t, s.addr)
		events := c.Go("RPCServer.GetEvents", rpc2.GetEventsIn{}, &rpc2.GetEventsOut{}, nil)
		cont := c.Go("RPCServer.Command", api.DebuggerCommand{Name: api.Continue, WithEvents: true}, &rpc2.CommandOut{}, nil)
		waitRunning(t, c)
		var halted rpc2.CommandOut
		if err := c.Call("RPCServer.Command", api.DebuggerCommand{Name: api.Halt}, &halted); err != nil {
			t.Fatal(err)
		}
		select {
		case call := <-cont.Done:
			if call.Error != nil || call.Reply.(*rpc2.CommandOut).State.StopReason != "manual" {
				t.Fatalf("client %d: continue %+v %v", i, call.Reply, call.Error)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("client %d: continue not halted", i)
		}
		select {
		case call := <-events.Done:
			if n := len(call.Reply.(*rpc2.GetEventsOut).Events); call.Error != nil || n == 0 {
				t.Fatalf("client %d: events %d %v", i, n, call.Error)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("client %d: no events", i)
		}
		// A second event wait is still pending when the client leaves.
		c.Go("RPCServer.GetEvents", rpc2.GetEventsIn{}, &rpc2.GetEventsOut{}, nil)
		c.Close()
		settle(t, "after a client left", idle)
	}
	last := rawClient(t, s.addr)
	last.Go("RPCServer.Command", api.DebuggerCommand{Name: api.Continue}, &rpc2.CommandOut{}, nil)
	waitRunning(t, last)
	if err := s.srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Stop")
	}
	s.srv.Wait()
	last.Close()
	settle(t, "after the server stopped", 0)
}
