package main

import (
	"net"

	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// newClient negotiates API v2 on conn; the rpc2 client is the terminal's client.
func newClient(conn net.Conn) (terminal.Client, error) {
	c, err := rpc2.NewClientFromConn(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}
