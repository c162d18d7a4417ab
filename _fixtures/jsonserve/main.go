// Command jsonserve is a net/http server answering every GET /item?id=N with
// a JSON-encoded struct, for measuring what tracing costs a real server
// under load. It prints "listening ADDR" once it accepts connections and
// serves until its standard input closes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

// Item is the response body: a few fields of the usual kinds.
type Item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Tags  []string `json:"tags"`
	Price float64  `json:"price"`
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Item{ID: id, Name: "item-" + strconv.Itoa(id), Tags: []string{"a", "b"}, Price: float64(id) / 4})
	})
	go http.Serve(ln, mux)
	fmt.Println("listening", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
}
