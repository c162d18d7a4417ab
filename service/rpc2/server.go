// Package rpc2 serves a debugger over JSON-RPC 1.0 the way Delve's API v2
// does (methods "RPCServer.<Name>", one JSON object per message, as Go's
// net/rpc/jsonrpc speaks it), and provides the matching client.
//
// Entry points: NewServer + (*Server).Serve(listener) for TCP or unix
// sockets, (*Server).ServeConn for one in-process connection (net.Pipe),
// and Serve for the common "listen, serve, clean up" case. Listen opens a
// listener and prints the "API server listening at:" line clients wait for.
//
// Replies may leave out of order: Command, blocking State, Restart and
// GetEvents run on their own goroutine so that a halt sent after a
// continue is read and acted upon while the continue runs.
package rpc2

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/tinydbg/tinydbg/internal/peercred"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// Config configures a server.
type Config struct {
	// AcceptMulti keeps serving after the first client disconnects;
	// otherwise the server serves one client and stops when it leaves.
	AcceptMulti bool
	// APIVersion must be 0 or 2; API v1 is not supported.
	APIVersion int
	// ContinueOnStart resumes the target as soon as the server starts.
	ContinueOnStart bool
	// AllowOtherUsers disables the check that refuses loopback connections
	// from other local users.
	AllowOtherUsers bool
	// Version is reported by GetVersion.
	Version string
	// Stderr receives diagnostics (refused connections, malformed input);
	// nil means os.Stderr.
	Stderr io.Writer
	// KeepTargetOnExit leaves the target alone when the server stops
	// instead of killing a launched target or detaching from an attached one.
	KeepTargetOnExit bool
	// DAP, when set, serves the connections that speak the Debug Adapter
	// Protocol (they start with "Content-Length:", JSON-RPC ones with
	// "{"), as Delve's headless server does for VS Code's remote attach.
	// It returns whether the server must stop.
	DAP func(c io.ReadWriteCloser) (stopServer bool)
	// LogRPC, when set, is told every request and reply (--log-output=rpc).
	LogRPC func(format string, args ...any)
}

// Server serves one debugger to JSON-RPC clients.
type Server struct {
	cfg     Config
	d       *debugger.Debugger
	methods map[string]handler

	mu        sync.Mutex
	stopped   bool
	stopCh    chan struct{} // closed by Stop
	conns     map[io.Closer]bool
	listeners []net.Listener
	wg        sync.WaitGroup // connection and request goroutines

	events    chan api.Event
	continued atomic.Bool // ContinueOnStart has been done
}

// NewServer prepares a server for d; it does not listen yet.
func NewServer(cfg Config, d *debugger.Debugger) (*Server, error) {
	if cfg.APIVersion != 0 && cfg.APIVersion != 2 {
		return nil, fmt.Errorf("API version %d is not supported: tinydbg speaks API v2 only", cfg.APIVersion)
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	s := &Server{
		cfg: cfg, d: d, stopCh: make(chan struct{}),
		conns: map[io.Closer]bool{}, events: make(chan api.Event, 100),
	}
	s.methods = s.methodTable()
	return s, nil
}

// Serve serves d on l until the single client leaves (or, with
// AcceptMulti, until a client detaches or Stop is called), then kills a
// launched target or detaches from an attached one.
func Serve(cfg Config, d *debugger.Debugger, l net.Listener) error {
	s, err := NewServer(cfg, d)
	if err != nil {
		l.Close()
		return err
	}
	return s.Serve(l)
}

// Serve accepts clients on l until the server stops; see the package doc.
// It may be called for several listeners at once (TCP and a unix socket).
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		l.Close()
		return errors.New("server stopped")
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	if s.cfg.ContinueOnStart && s.continued.CompareAndSwap(false, true) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_, _ = s.d.Command(api.DebuggerCommand{Name: api.Continue}, nil)
		}()
	}
	var acceptErr error
	for {
		c, err := l.Accept()
		if err != nil {
			if !s.isStopped() {
				acceptErr = fmt.Errorf("accepting connections: %w", err)
			}
			break
		}
		if !s.cfg.AllowOtherUsers {
			if err := peercred.CheckSameUser(l.Addr(), c); err != nil {
				fmt.Fprintf(s.cfg.Stderr, "closing connection from %v: %v\n", c.RemoteAddr(), err)
				c.Close()
				continue
			}
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if s.serveDemux(c) || !s.cfg.AcceptMulti {
				s.Stop()
			}
		}()
		if !s.cfg.AcceptMulti {
			<-s.stopCh
			break
		}
	}
	err := s.Stop()
	s.wg.Wait()
	return errors.Join(acceptErr, err)
}

// bufConn reads through the buffer that sniffed the protocol.
type bufConn struct {
	*bufio.Reader
	io.WriteCloser
}

// serveDemux serves c with the protocol its first byte names and reports
// whether the DAP session asked the server to stop.
func (s *Server) serveDemux(c net.Conn) bool {
	if s.cfg.DAP == nil {
		s.serveConn(c)
		return false
	}
	// Tracked while sniffing, so that Stop ends a client that connected
	// and said nothing.
	if !s.track(c) {
		return false
	}
	defer s.untrack(c)
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	if err != nil {
		c.Close()
		return false
	}
	bc := &bufConn{br, c}
	if b[0] != 'C' { // DAP's header is Content-Length; JSON starts with {
		s.serveConn(bc)
		return false
	}
	return s.cfg.DAP(bc)
}

// track registers a connection that Stop must close; it fails (closing
// rwc) once the server is stopped.
func (s *Server) track(rwc io.ReadWriteCloser) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		rwc.Close()
		return false
	}
	s.conns[rwc] = true
	return true
}

func (s *Server) untrack(rwc io.ReadWriteCloser) {
	s.mu.Lock()
	delete(s.conns, rwc)
	s.mu.Unlock()
}

// ServeConn serves one connection (for example one end of a net.Pipe)
// until it closes. It does not stop the server.
func (s *Server) ServeConn(c io.ReadWriteCloser) {
	s.wg.Add(1)
	defer s.wg.Done()
	s.serveConn(c)
}

func (s *Server) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Stop closes the listener and every connection, halts a running target,
// releases it (unless KeepTargetOnExit) and waits for every goroutine of
// the server. It may be called more than once.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.stopCh)
	for _, l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	var err error
	if !s.cfg.KeepTargetOnExit {
		err = s.d.Detach(s.d.AttachPid() == 0)
	} else {
		s.d.Halt()
	}
	return err
}

// Wait blocks until every goroutine of the server has finished.
func (s *Server) Wait() { s.wg.Wait() }

// request is one JSON-RPC 1.0 request.
type request struct {
	Method string           `json:"method"`
	Params *json.RawMessage `json:"params"`
	ID     *json.RawMessage `json:"id"`
}

// response is one JSON-RPC 1.0 response; Result and Error are never both set.
type response struct {
	ID     *json.RawMessage `json:"id"`
	Result any              `json:"result"`
	Error  any              `json:"error"`
}

// conn is one client connection.
type conn struct {
	s       *Server
	rwc     io.ReadWriteCloser
	wmu     sync.Mutex
	enc     *json.Encoder
	gone    chan struct{} // closed when the client is gone
	pending sync.WaitGroup
}

func (s *Server) serveConn(rwc io.ReadWriteCloser) {
	if !s.track(rwc) {
		return
	}
	c := &conn{s: s, rwc: rwc, enc: json.NewEncoder(rwc), gone: make(chan struct{})}
	dec := json.NewDecoder(bufio.NewReader(rwc))
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
				// The stream cannot be resynchronised after bad JSON:
				// answer once, then hang up on this client only.
				c.reply(nil, nil, fmt.Errorf("malformed request: %w", err))
			}
			break
		}
		c.dispatch(&req)
	}
	close(c.gone)
	rwc.Close()
	c.pending.Wait()
	s.untrack(rwc)
}

// reply writes one response; writes of concurrent requests are serialized.
func (c *conn) reply(id *json.RawMessage, result any, err error) {
	resp := response{ID: id, Result: result}
	if err != nil {
		resp.Result, resp.Error = nil, err.Error()
	}
	if id == nil {
		null := json.RawMessage("null")
		resp.ID = &null
	}
	if logf := c.s.cfg.LogRPC; logf != nil {
		if b, merr := json.Marshal(&resp); merr == nil {
			logf("-> %s", b)
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if werr := c.enc.Encode(&resp); werr != nil {
		select {
		case <-c.gone:
		default:
			fmt.Fprintf(c.s.cfg.Stderr, "rpc: writing reply to %s: %v\n", "client", werr)
		}
	}
}

// dispatch runs one request. Synchronous methods run inline, keeping the
// order of a pipelined batch, unless the target is running: then they would
// block the reading of a following halt, so they wait on their own
// goroutine. Asynchronous methods always get a goroutine; the next request
// is read once they signal that they are set up.
func (c *conn) dispatch(req *request) {
	if logf := c.s.cfg.LogRPC; logf != nil {
		var params []byte
		if req.Params != nil {
			params = *req.Params
		}
		logf("<- %s(%s)", req.Method, params)
	}
	h, ok := c.s.methods[req.Method]
	if !ok {
		c.reply(req.ID, nil, fmt.Errorf("unknown method: %s", req.Method))
		return
	}
	var raw json.RawMessage
	if req.Params != nil {
		raw = *req.Params
	}
	if !h.async && !c.s.d.IsRunning() {
		out, err := c.call(h, raw, nil)
		c.reply(req.ID, out, err)
		c.afterReply(req.Method, err)
		return
	}
	setup := make(chan struct{})
	var once sync.Once
	done := func() { once.Do(func() { close(setup) }) }
	if !h.async {
		done()
	}
	c.pending.Add(1)
	go func() {
		defer c.pending.Done()
		defer done()
		out, err := c.call(h, raw, done)
		select {
		case <-c.gone:
			return // nobody to answer
		default:
		}
		c.reply(req.ID, out, err)
		c.afterReply(req.Method, err)
	}()
	<-setup
}

// afterReply ends the server once a client has detached, as Delve does:
// the target is gone, so no client could do anything more.
func (c *conn) afterReply(method string, err error) {
	if err == nil && method == "RPCServer.Detach" {
		c.s.Stop()
	}
}

// call decodes the parameters and runs a handler, turning a panic into an
// error reply so one bad request cannot take the server down.
func (c *conn) call(h handler, raw json.RawMessage, setup func()) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal debugger error: %v", r)
		}
	}()
	if setup == nil {
		setup = func() {}
	}
	return h.fn(&callCtx{conn: c, setup: setup}, raw)
}

// callCtx is what a handler knows about its call.
type callCtx struct {
	conn  *conn
	setup func() // lets the connection read its next request
}

// handler is one method of the table.
type handler struct {
	async bool
	fn    func(c *callCtx, raw json.RawMessage) (any, error)
}

// decodeParams unpacks net/rpc's one-element parameter array into in.
func decodeParams(raw json.RawMessage, in any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return fmt.Errorf("malformed request parameters: %w", err)
	}
	if len(arr) == 0 {
		return nil
	}
	if len(arr) != 1 {
		return fmt.Errorf("malformed request parameters: want one object, got %d", len(arr))
	}
	if err := json.Unmarshal(arr[0], in); err != nil {
		return fmt.Errorf("malformed request parameters: %w", err)
	}
	return nil
}

// syncH makes a synchronous handler from a typed method.
func syncH[In, Out any](f func(in In, out *Out) error) handler {
	return handler{fn: func(_ *callCtx, raw json.RawMessage) (any, error) {
		var in In
		if err := decodeParams(raw, &in); err != nil {
			return nil, err
		}
		out := new(Out)
		if err := f(in, out); err != nil {
			return nil, err
		}
		return out, nil
	}}
}

// asyncH makes an asynchronous handler; f calls c.setup once the next
// request may be read.
func asyncH[In, Out any](f func(c *callCtx, in In, out *Out) error) handler {
	return handler{async: true, fn: func(c *callCtx, raw json.RawMessage) (any, error) {
		var in In
		if err := decodeParams(raw, &in); err != nil {
			return nil, err
		}
		out := new(Out)
		if err := f(c, in, out); err != nil {
			return nil, err
		}
		return out, nil
	}}
}
