// Package peercred tells whether a connection to a local listener comes
// from the same local user, so that every debugger server (JSON-RPC, DAP)
// refuses other users the same way.
package peercred

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// CheckSameUser refuses a connection to a loopback or unix listener made
// by another local user, who could otherwise run code as this user through
// the debugger: TCP peers are found in /proc/net/tcp{,6} (the
// client's socket row carries its owner's uid), unix peers by SO_PEERCRED.
// Connections to other addresses come from other machines and cannot be
// checked this way.
func CheckSameUser(listen net.Addr, c net.Conn) error {
	switch la := listen.(type) {
	case *net.UnixAddr:
		uc, ok := c.(*net.UnixConn)
		if !ok {
			return nil
		}
		raw, err := uc.SyscallConn()
		if err != nil {
			return fmt.Errorf("checking peer: %w", err)
		}
		var cred *syscall.Ucred
		var cerr error
		if err := raw.Control(func(fd uintptr) {
			cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		}); err != nil {
			return fmt.Errorf("checking peer: %w", err)
		}
		if cerr != nil {
			return fmt.Errorf("checking peer: %w", cerr)
		}
		if int(cred.Uid) != os.Getuid() {
			return fmt.Errorf("peer uid %d is not our uid %d", cred.Uid, os.Getuid())
		}
		return nil
	case *net.TCPAddr:
		if !la.IP.IsLoopback() {
			return nil
		}
		local, ok1 := c.LocalAddr().(*net.TCPAddr)
		remote, ok2 := c.RemoteAddr().(*net.TCPAddr)
		if !ok1 || !ok2 {
			return nil
		}
		uid, err := tcpPeerUID(local, remote)
		if err != nil {
			return fmt.Errorf("cannot verify the connecting user (%w); connections to localhost are only accepted from the same user", err)
		}
		if uid != os.Getuid() {
			return fmt.Errorf("connection from uid %d refused: connections to localhost are only accepted from the same user (uid %d)", uid, os.Getuid())
		}
	}
	return nil
}

// errNoSocket says the client's socket is not in the kernel's table.
var errNoSocket = errors.New("client socket not found in /proc/net/tcp")

// tcpPeerUID finds the uid owning the client end of a connection whose
// server end is local and client end is remote.
func tcpPeerUID(local, remote *net.TCPAddr) (int, error) {
	if remote.IP.To4() != nil {
		uid, err := findSocketUID("/proc/net/tcp", hex4(remote), hex4(local))
		if err == nil || !errors.Is(err, errNoSocket) {
			return uid, err
		}
		// An IPv4 client of a dual-stack socket appears as a mapped address.
		return findSocketUID("/proc/net/tcp6", "0000000000000000FFFF0000"+hex4(remote), "0000000000000000FFFF0000"+hex4(local))
	}
	return findSocketUID("/proc/net/tcp6", hex6(remote), hex6(local))
}

// hex4 writes an IPv4 address and port as /proc/net/tcp does: the address
// as a little-endian 32-bit word, the port big-endian, both in hex.
func hex4(a *net.TCPAddr) string {
	b := a.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], a.Port)
}

// hex6 writes an IPv6 address as four little-endian 32-bit words.
func hex6(a *net.TCPAddr) string {
	b := a.IP.To16()
	var s strings.Builder
	for w := 0; w < 4; w++ {
		fmt.Fprintf(&s, "%02X%02X%02X%02X", b[4*w+3], b[4*w+2], b[4*w+1], b[4*w])
	}
	return fmt.Sprintf("%s:%04X", s.String(), a.Port)
}

// findSocketUID returns the uid column of the row with the given local and
// remote addresses.
func findSocketUID(table, localHex, remoteHex string) (int, error) {
	b, err := os.ReadFile(table)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 || f[1] != localHex || f[2] != remoteHex {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			return 0, fmt.Errorf("bad uid in %s: %w", table, err)
		}
		return uid, nil
	}
	return 0, errNoSocket
}
