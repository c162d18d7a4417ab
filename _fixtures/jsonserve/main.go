// Command jsonserve is a net/http server answering every GET /item?id=N with
// a JSON-encoded struct, for measuring what tracing costs a real server
// under load. It prints "listening ADDR" once it accepts connections and
// serves until its standard input closes.
package main

import (
	"io"
	"net/http"
	"os"
	"strconv"

	"fixtures/internal/loopback"
)

// Item is the response body: a few fields of the usual kinds.
type Item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Tags  []string `json:"tags"`
	Price float64  `json:"price"`
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		loopback.JSON(w, Item{ID: id, Name: "item-" + strconv.Itoa(id), Tags: []string{"a", "b"}, Price: float64(id) / 4})
	})
	loopback.Serve(mux)
	io.Copy(io.Discard, os.Stdin)
}
