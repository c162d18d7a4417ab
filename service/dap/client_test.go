package dap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-dap"
)

// testClient is a DAP client over TCP, written as VS Code behaves: it
// sends requests with increasing seq and reads whatever the server sends.
type testClient struct {
	t      *testing.T
	server *testServer
	conn   net.Conn
	seq    int
	msgs   chan dap.Message
	errs   chan error

	mu     sync.Mutex
	stdout strings.Builder // output events of category stdout
}

// testServer is a server listening on a loopback port with its logs.
type testServer struct {
	srv  *Server
	addr string
	log  *syncBuffer
	done chan struct{} // closed when Serve returns
}

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer listens, checks the announcement line and serves in the
// background; the test's cleanup stops the server.
func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerWith(t, Config{})
}

// startServerWith is startServer with cfg (its Log is the test's).
func startServerWith(t *testing.T, cfg Config) *testServer {
	t.Helper()
	var stdout, stderr bytes.Buffer
	l, err := Listen("127.0.0.1:0", &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("DAP server listening at: %s\n", l.Addr())
	if stdout.String() != want || stderr.Len() != 0 {
		t.Fatalf("Listen printed %q and %q, want %q and nothing", stdout.String(), stderr.String(), want)
	}
	ts := &testServer{log: &syncBuffer{}, addr: l.Addr().String(), done: make(chan struct{})}
	cfg.Log = ts.log
	ts.srv = NewServer(cfg)
	go func() {
		defer close(ts.done)
		if err := ts.srv.Serve(l); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ts.srv.Stop()
		ts.wait(t)
	})
	return ts
}

// wait waits for Serve to return.
func (ts *testServer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-ts.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not end; log:\n%s", ts.log)
	}
}

func dial(t *testing.T, ts *testServer) *testClient {
	t.Helper()
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{t: t, server: ts, conn: conn, msgs: make(chan dap.Message, 100), errs: make(chan error, 1)}
	go func() {
		r := bufio.NewReader(conn)
		for {
			m, err := dap.ReadProtocolMessage(r)
			if err != nil {
				c.errs <- err
				close(c.msgs)
				return
			}
			if o, ok := m.(*dap.OutputEvent); ok && o.Body.Category == "stdout" {
				c.mu.Lock()
				c.stdout.WriteString(o.Body.Output)
				c.mu.Unlock()
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

// send sends a request with the next seq and returns that seq.
func (c *testClient) send(command string, args any) int {
	c.t.Helper()
	c.seq++
	m := map[string]any{"seq": c.seq, "type": "request", "command": command}
	if args != nil {
		m["arguments"] = args
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := dap.WriteBaseMessage(c.conn, b); err != nil {
		c.t.Fatalf("sending %s: %v", command, err)
	}
	return c.seq
}

// next returns the next message other than output, continued and process
// events, which arrive at times that depend on the target.
func (c *testClient) next() dap.Message {
	c.t.Helper()
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("connection closed: %v", <-c.errs)
			}
			switch m.(type) {
			case *dap.OutputEvent, *dap.ContinuedEvent, *dap.ProcessEvent:
				continue // checked where they matter (compat's daptest session)
			}
			return m
		case <-time.After(30 * time.Second):
			c.t.Fatal("timed out waiting for a message")
		}
	}
}

// nextAny returns the next message, whatever it is.
func (c *testClient) nextAny() dap.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("connection closed: %v", <-c.errs)
		}
		return m
	case <-time.After(30 * time.Second):
		c.t.Fatal("timed out waiting for a message")
	}
	return nil
}

// expect reads the next message, which must be a T.
func expect[T dap.Message](c *testClient) T {
	c.t.Helper()
	m := c.next()
	v, ok := m.(T)
	if !ok {
		var zero T
		b, _ := json.Marshal(m)
		c.t.Fatalf("got %s, want a %T", b, zero)
	}
	return v
}

// expectResponse reads the response to seq, which must be a successful T.
func expectResponse[T dap.ResponseMessage](c *testClient, seq int) T {
	c.t.Helper()
	v := expect[T](c)
	r := v.GetResponse()
	if !r.Success || r.RequestSeq != seq {
		b, _ := json.Marshal(v)
		c.t.Fatalf("response %s: want success for request %d", b, seq)
	}
	return v
}

// expectError reads an error response to seq.
func (c *testClient) expectError(seq int) *dap.ErrorResponse {
	c.t.Helper()
	er := expect[*dap.ErrorResponse](c)
	if er.Success || er.RequestSeq != seq {
		c.t.Fatalf("error response %+v: want failure for request %d", er, seq)
	}
	return er
}

// expectClosed waits for the server to close the connection.
func (c *testClient) expectClosed() {
	c.t.Helper()
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				if err := <-c.errs; err != io.EOF && !strings.Contains(err.Error(), "reset") {
					c.t.Fatalf("connection ended with %v, want EOF", err)
				}
				return
			}
			b, _ := json.Marshal(m)
			c.t.Fatalf("got %s, want the connection closed", b)
		case <-time.After(10 * time.Second):
			c.t.Fatal("the server kept the connection open")
		}
	}
}

// output is the target's stdout received so far.
func (c *testClient) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String()
}

// initialize runs the initialize request as VS Code sends it.
func (c *testClient) initialize() *dap.InitializeResponse {
	c.t.Helper()
	seq := c.send("initialize", map[string]any{"clientID": "vscode", "adapterID": "go",
		"linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path",
		"supportsVariableType": true, "supportsVariablePaging": true, "supportsRunInTerminalRequest": true})
	return expectResponse[*dap.InitializeResponse](c, seq)
}
