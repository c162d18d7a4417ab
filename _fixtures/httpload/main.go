// Command httpload is a net/http server for load measurements: it listens
// on a loopback port, prints "listening ADDR" once it accepts connections,
// serves /hello with a small JSON body, and exits after answering /quit, so
// a tracer that started it prints its figures and ends with it.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

type reply struct {
	Greeting string `json:"greeting"`
	N        string `json:"n"`
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	quit := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply{Greeting: "hello", N: r.URL.Query().Get("n")})
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		close(quit)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Println("listening", ln.Addr())
	<-quit
	srv.Close()
}
