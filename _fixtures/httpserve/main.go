// Command httpserve is a net/http server under a bounded loopback load:
// a ServeMux serves /hello, and a client sends three GETs with a query,
// one after the other, then the program exits.
package main

import (
	"fmt"
	"net/http"

	"fixtures/internal/loopback"
)

func main() {
	ln := loopback.Listen()
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("n"))
	})
	go http.Serve(ln, mux)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 3; i++ {
		fmt.Println(loopback.Get(client, fmt.Sprintf("http://%s/hello?n=%d", ln.Addr(), i)))
	}
}
