// Command ebpfhttp is a large target for the eBPF tracer's attach/detach
// measurements: tracing net/http means about a thousand functions. It waits
// for a line on stdin, serves three requests over loopback and exits.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"

	"fixtures/internal/loopback"
)

func main() {
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("stdin:", err)
		return
	}
	ln := loopback.Listen()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	for i := 0; i < 3; i++ {
		fmt.Println(loopback.Get(http.DefaultClient, fmt.Sprintf("http://%s/req%d", ln.Addr(), i)))
	}
	srv.Close()
}
