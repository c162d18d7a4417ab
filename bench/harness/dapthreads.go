package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dapConn speaks just enough DAP to time requests: framed JSON both ways.
type dapConn struct {
	conn net.Conn
	r    *bufio.Reader
	seq  int
}

// dapMsg is the part of a DAP message the harness looks at.
type dapMsg struct {
	Type       string          `json:"type"`
	Event      string          `json:"event"`
	Command    string          `json:"command"`
	RequestSeq int             `json:"request_seq"`
	Success    bool            `json:"success"`
	Message    string          `json:"message"`
	Body       json.RawMessage `json:"body"`
}

func (c *dapConn) send(command string, args any) (int, error) {
	c.seq++
	b, err := json.Marshal(map[string]any{"seq": c.seq, "type": "request", "command": command, "arguments": args})
	if err != nil {
		return 0, err
	}
	_, err = fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n%s", len(b), b)
	return c.seq, err
}

func (c *dapConn) read() (dapMsg, error) {
	var m dapMsg
	n := -1
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimSpace(line)
		if line == "" && n >= 0 {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			if n, err = strconv.Atoi(v); err != nil {
				return m, err
			}
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// until reads messages until one matches; a failed response to seq ends it.
func (c *dapConn) until(seq int, match func(dapMsg) bool) (dapMsg, error) {
	c.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		m, err := c.read()
		if err != nil {
			return m, err
		}
		if m.Type == "response" && m.RequestSeq == seq && !m.Success {
			return m, fmt.Errorf("%s failed: %s", m.Command, m.Message)
		}
		if match(m) {
			return m, nil
		}
	}
}

func response(seq int) func(dapMsg) bool {
	return func(m dapMsg) bool { return m.Type == "response" && m.RequestSeq == seq }
}

func stopped(m dapMsg) bool { return m.Type == "event" && m.Event == "stopped" }

var dapListening = regexp.MustCompile(`DAP server listening at: (\S+:\d+)`)

// dapTimes are the timings of one stop of dapThreads: the first threads
// request, the same request again and a parked goroutine's stack, which a
// client asks for at the same stop.
type dapTimes struct{ first, again, stack []float64 }

// dapThreads starts `dap` on manygoroutines with n goroutines, stops in
// main.ready and, k times after a next, times a threads request, a second
// one and a stackTrace of the last goroutine listed (parked in main.park).
func dapThreads(c *config, d debugger, n, k int) (*dapTimes, error) {
	s, err := startSession(d.path, []string{"dap", "--listen=127.0.0.1:0"}, nil)
	if err != nil {
		return nil, err
	}
	defer s.kill()
	m, _, err := s.waitFor(dapListening, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s dap: %w", d.name, err)
	}
	s.drain()
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	dc := &dapConn{conn: conn, r: bufio.NewReaderSize(conn, 1<<20)}
	step := func(command string, args any, match func(int) func(dapMsg) bool) (dapMsg, error) {
		seq, err := dc.send(command, args)
		if err != nil {
			return dapMsg{}, err
		}
		return dc.until(seq, match(seq))
	}
	anyStop := func(int) func(dapMsg) bool { return stopped }
	if _, err := step("initialize", map[string]any{"adapterID": "go", "linesStartAt1": true, "pathFormat": "path"}, response); err != nil {
		return nil, err
	}
	if _, err := step("launch", map[string]any{"request": "launch", "mode": "exec", "program": c.many, "args": []string{strconv.Itoa(n)}}, response); err != nil {
		return nil, err
	}
	if _, err := step("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.ready"}}}, response); err != nil {
		return nil, err
	}
	if _, err := step("configurationDone", nil, anyStop); err != nil {
		return nil, err
	}
	out := &dapTimes{}
	timed := func(to *[]float64, command string, args any) (dapMsg, error) {
		t0 := time.Now()
		r, err := step(command, args, response)
		*to = append(*to, time.Since(t0).Seconds())
		return r, err
	}
	for i := 0; i < k; i++ {
		if _, err := step("next", map[string]any{"threadId": 1}, anyStop); err != nil {
			return nil, err
		}
		var last struct{ Id int }
		for _, to := range []*[]float64{&out.first, &out.again} {
			r, err := timed(to, "threads", nil)
			if err != nil {
				return nil, err
			}
			var body struct{ Threads []json.RawMessage }
			if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Threads) < pageSize {
				return nil, fmt.Errorf("%s: threads answered %d threads (%v)", d.name, len(body.Threads), err)
			}
			if err := json.Unmarshal(body.Threads[len(body.Threads)-1], &last); err != nil {
				return nil, err
			}
		}
		if _, err := timed(&out.stack, "stackTrace", map[string]any{"threadId": last.Id, "levels": 20}); err != nil {
			return nil, err
		}
	}
	step("disconnect", map[string]any{"terminateDebuggee": true}, response)
	return out, nil
}
