package rpc2

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// Listen opens the server's listener: a unix socket for "unix:PATH" or a
// path starting with "/", TCP otherwise (empty: 127.0.0.1:0). A TCP address
// that is not loopback gets a loud warning on stderr, since anyone who can
// reach it can run code as this user. It prints the line Delve's clients
// wait for, "API server listening at: ADDR", on stdout.
func Listen(addr string, stdout, stderr io.Writer) (net.Listener, error) {
	var l net.Listener
	var err error
	switch {
	case strings.HasPrefix(addr, "unix:"):
		l, err = net.Listen("unix", strings.TrimPrefix(addr, "unix:"))
	case strings.HasPrefix(addr, "/"):
		l, err = net.Listen("unix", addr)
	default:
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	WarnIfExposed(l.Addr(), stderr)
	fmt.Fprintf(stdout, "API server listening at: %s\n", l.Addr())
	return l, nil
}

// WarnIfExposed warns loudly on stderr when addr is a TCP address that is
// not loopback: the server authenticates no one, so whoever can reach it
// can run code as this user. Every listener of the API server goes
// through it, whoever opened it.
func WarnIfExposed(addr net.Addr, stderr io.Writer) {
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		fmt.Fprintf(stderr, "WARNING: the API server listens on %s, which is not a loopback address.\n"+
			"WARNING: anyone who can connect to it can run arbitrary code as this user.\n", ta)
	}
}
