// Command jsonserve is a net/http server answering every GET /item?id=N with
// a JSON-encoded struct, for measuring what tracing costs a real server
// under load. It prints "listening ADDR" once it accepts connections and
// serves until its standard input closes. With JSONSERVE_SELF=N it sends
// itself N GETs over 8 keep-alive connections instead and exits, so that
// an in-process benchmark can trace a server without a load generator of
// its own.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"

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
	if n, err := strconv.Atoi(os.Getenv("JSONSERVE_SELF")); err == nil {
		ln := loopback.Listen()
		go http.Serve(ln, mux)
		loadSelf(ln.Addr().String(), n)
		return
	}
	loopback.Serve(mux)
	io.Copy(io.Discard, os.Stdin)
}

// loadSelf sends n GETs to addr from 8 workers, each reading its answer.
func loadSelf(addr string, n int) {
	const conns = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += conns {
				loopback.Get(client, fmt.Sprintf("http://%s/item?id=%d", addr, i))
			}
		}(w)
	}
	wg.Wait()
	fmt.Println("served", n)
}
