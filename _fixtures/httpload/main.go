// Command httpload is a net/http server for load measurements: it listens
// on a loopback port, prints "listening ADDR" once it accepts connections,
// serves /hello with a small JSON body, and exits after answering /quit, so
// a tracer that started it prints its figures and ends with it.
package main

import (
	"fmt"
	"net/http"

	"fixtures/internal/loopback"
)

type reply struct {
	Greeting string `json:"greeting"`
	N        string `json:"n"`
}

func main() {
	quit := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		loopback.JSON(w, reply{Greeting: "hello", N: r.URL.Query().Get("n")})
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		close(quit)
	})
	srv := loopback.Serve(mux)
	<-quit
	srv.Close()
}
