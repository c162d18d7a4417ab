package peercred

import (
	"net"
	"path/filepath"
	"testing"
)

// accepted dials l and returns both ends of the connection.
func accepted(t *testing.T, l net.Listener) (server, client net.Conn) {
	t.Helper()
	client, err := net.Dial(l.Addr().Network(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

// TestSameUserAccepted checks that our own connections pass on TCP
// loopback (found in /proc/net/tcp) and on a unix socket (SO_PEERCRED).
// Refusals of another uid are tested by the servers (rpc2, dap), which
// connect as nobody.
func TestSameUserAccepted(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = filepath.Join(t.TempDir(), "s.sock")
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		server, _ := accepted(t, l)
		if err := CheckSameUser(l.Addr(), server); err != nil {
			t.Errorf("%s: %v", network, err)
		}
	}
}

// TestProcNetAddresses checks the address spelling of /proc/net/tcp{,6}.
func TestProcNetAddresses(t *testing.T) {
	if got := hex4(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); got != "0100007F:1F90" {
		t.Errorf("hex4 = %s", got)
	}
	if got := hex6(&net.TCPAddr{IP: net.IPv6loopback, Port: 443}); got != "00000000000000000000000001000000:01BB" {
		t.Errorf("hex6 = %s", got)
	}
}
