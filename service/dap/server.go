// Package dap serves the Debug Adapter Protocol, the protocol VS Code's Go
// extension speaks to Delve's "dlv dap". One server serves one client
// session: the client launches or attaches to a Go program through it, and
// the session ends with the connection. Everything the session does to the
// target goes through service/debugger.
//
// The session reads requests on one goroutine. Requests that resume the
// target (configurationDone, continue, next, stepIn, stepOut) run on a
// goroutine of their own so that pause, threads, breakpoint changes and
// disconnect are answered while the target runs; their end is reported
// with a stopped, or exited and terminated, event.
package dap

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/tinydbg/tinydbg/internal/peercred"
)

// Config configures a DAP server.
type Config struct {
	// Log receives one line per notable server event (connections,
	// protocol errors); nil: standard error.
	Log io.Writer
	// AllowOtherUsers disables the check that refuses loopback connections
	// from other local users, who could otherwise run code as this user.
	AllowOtherUsers bool
	// LogMessages, when set, is told every message received and sent
	// (--log-output=dap).
	LogMessages func(format string, args ...any)
	// DisableASLR launches programs without address randomization.
	DisableASLR bool
	// CheckGoVersion, when set, vets the Go version a program was built
	// with (--check-go-version); its error fails the launch or attach.
	CheckGoVersion func(goVersion string) error
}

// Server serves one DAP session at a time.
type Server struct {
	cfg Config

	mu       sync.Mutex
	listener net.Listener
	sess     *session
	stopped  bool
}

// NewServer returns a server with cfg.
func NewServer(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	return &Server{cfg: cfg}
}

// Listen opens addr for a DAP server (empty: 127.0.0.1:0) and prints the
// line VS Code's Go extension waits for, "DAP server listening at: ADDR",
// on stdout. A non-loopback address gets a loud warning on stderr:
// whoever reaches it can run code as this user.
func Listen(addr string, stdout, stderr io.Writer) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	if ta, ok := l.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		fmt.Fprintf(stderr, "WARNING: the DAP server listens on %s, which is not a loopback address.\n"+
			"WARNING: connections are neither authenticated nor encrypted: anyone who can reach it can run arbitrary code as this user.\n", ta)
	}
	fmt.Fprintf(stdout, "DAP server listening at: %s\n", l.Addr())
	return l, nil
}

// Serve accepts one connection on l, serves its session to the end and
// returns; l is closed as soon as the client is connected, since a DAP
// server debugs one program for one client. Connections from other local
// users are refused (unless Config.AllowOtherUsers) and the server keeps
// waiting for its own user's client.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listener = l
	s.mu.Unlock()
	conn, err := s.accept(l)
	l.Close()
	if err != nil {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return nil
		}
		return fmt.Errorf("accepting a DAP client: %w", err)
	}
	s.logf("client connected from %s", conn.RemoteAddr())
	s.ServeConn(conn)
	return nil
}

// accept returns the first connection that passes the same-user check.
func (s *Server) accept(l net.Listener) (net.Conn, error) {
	for {
		conn, err := l.Accept()
		if err != nil || s.cfg.AllowOtherUsers {
			return conn, err
		}
		if err := peercred.CheckSameUser(l.Addr(), conn); err != nil {
			s.logf("closing connection from %s: %v", conn.RemoteAddr(), err)
			conn.Close()
			continue
		}
		return conn, nil
	}
}

// ServeConn serves one session on conn until the client disconnects or
// the connection fails; the target is then killed (launched) or detached
// from (attached) and conn is closed.
func (s *Server) ServeConn(conn io.ReadWriteCloser) {
	sess := newSession(conn, s.logf)
	sess.logMsg, sess.disableASLR, sess.checkGo = s.cfg.LogMessages, s.cfg.DisableASLR, s.cfg.CheckGoVersion
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.sess = sess
	s.mu.Unlock()
	sess.serve()
	s.mu.Lock()
	s.sess = nil
	s.mu.Unlock()
}

// Stop ends the server: a pending accept fails and a running session is
// closed, its target killed or detached from. It waits for the session to
// finish its cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopped = true
	l, sess := s.listener, s.sess
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	if sess != nil {
		sess.conn.Close()
		<-sess.done
	}
}

func (s *Server) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(s.cfg.Log, "dap: %s\n", strings.TrimRight(msg, "\n"))
}
