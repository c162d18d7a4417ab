// Package loopback is the set-up the net/http fixtures share: a server on
// a loopback port, announced for the harness that drives it, and JSON
// replies.
package loopback

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// Listen listens on a free loopback port, or exits: a fixture without its
// server has nothing to show.
func Listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	return ln
}

// Serve serves h on a loopback port in the background and prints
// "listening ADDR" once connections are accepted: the line the bench
// harness waits for before it sends its load.
func Serve(h http.Handler) *http.Server {
	ln := Listen()
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	fmt.Println("listening", ln.Addr())
	return srv
}

// JSON replies with v, JSON-encoded.
func JSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Get sends a GET to url with c and returns the body, or exits: the
// fixture's requests are its whole point.
func Get(c *http.Client, url string) string {
	resp, err := c.Get(url)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	return string(b)
}
