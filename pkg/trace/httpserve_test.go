package trace

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestEBPFShowsHTTPRequest traces (*ServeMux).ServeHTTP on a real net/http
// server under three loopback requests: at depth 1 the eBPF backend must
// print each *http.Request argument exactly as the ptrace backend does,
// Method, URL.Path, URL.RawQuery, Host and RemoteAddr included, and the
// ResponseWriter's dynamic *http.response with its fields. Ports and
// heap addresses differ between the two runs and are normalized.
func TestEBPFShowsHTTPRequest(t *testing.T) {
	requireBPF(t)
	const re = `^net/http\.\(\*ServeMux\)\.ServeHTTP$`
	for _, fl := range []fixture.Flavour{{Optimized: true}, {}} {
		t.Run(fl.Name(), func(t *testing.T) {
			ptext, _ := traceFixture(t, "httpserve", fl, Options{Regexp: re, Depth: 1})
			etext, esum := traceFixture(t, "httpserve", fl, Options{Regexp: re, Depth: 1, EBPF: true})
			preqs, ereqs := requestArgs(t, ptext), requestArgs(t, etext)
			if len(preqs) != 3 || len(ereqs) != 3 {
				t.Fatalf("want 3 calls from each backend\nptrace:\n%s\nebpf:\n%s", ptext, etext)
			}
			for i := range preqs {
				for _, field := range []string{`Method: "GET"`, `Path: "/hello"`, fmt.Sprintf(`RawQuery: "n=%d"`, i),
					`Host: "127.0.0.1:PORT"`, `RemoteAddr: "127.0.0.1:PORT"`, fmt.Sprintf(`RequestURI: "/hello?n=%d"`, i)} {
					if !strings.Contains(preqs[i], field) {
						t.Errorf("ptrace request %d lacks %s: %s", i, field, preqs[i])
					}
				}
				if preqs[i] != ereqs[i] {
					t.Errorf("request %d:\nebpf   %s\nptrace %s", i, ereqs[i], preqs[i])
				}
			}
			// The ResponseWriter's dynamic value, *http.response, up to its
			// bufio.Writer, whose fresh buffer may not be paged in yet (a
			// probe cannot fault pages in; ptrace reads them through the
			// kernel).
			pw, ew := writerArgs(t, ptext), writerArgs(t, etext)
			for i := range pw {
				if !strings.Contains(pw[i], `remoteAddr: "127.0.0.1:PORT"`) || !strings.Contains(pw[i], `lastMethod: "GET"`) {
					t.Errorf("ptrace ResponseWriter %d: %s", i, pw[i])
				}
				if i >= len(ew) || pw[i] != ew[i] {
					t.Errorf("ResponseWriter %d:\nebpf   %s\nptrace %s", i, ew[i], pw[i])
				}
			}
			if esum.Dropped != 0 || esum.Events != 6 {
				t.Errorf("ebpf summary %+v", esum)
			}
		})
	}
}

// requestArgs returns the *http.Request argument of every ServeHTTP call
// in a text trace, with ports and addresses normalized.
func requestArgs(t *testing.T, text string) []string {
	return callArgs(t, text, func(line string) (int, int) {
		return strings.LastIndex(line, ", *net/http.Request {") + 2, len(line)
	})
}

// writerArgs returns the ResponseWriter argument of every ServeHTTP call,
// normalized, up to its bufio.Writer.
func writerArgs(t *testing.T, text string) []string {
	return callArgs(t, text, func(line string) (int, int) {
		return strings.Index(line, "net/http.ResponseWriter(*net/http.response) *{"), strings.Index(line, ", w: *bufio.Writer {")
	})
}

// callArgs cuts [from, to) out of every call line, as span finds them,
// with ports and addresses normalized.
func callArgs(t *testing.T, text string, span func(line string) (from, to int)) []string {
	t.Helper()
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	hex := regexp.MustCompile(`0x[0-9a-f]+`)
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "> ") {
			continue
		}
		from, to := span(line)
		if from < 2 || to < from {
			t.Fatalf("argument not found in %q", line)
		}
		out = append(out, hex.ReplaceAllString(port.ReplaceAllString(line[from:to], "127.0.0.1:PORT"), "0x?"))
	}
	return out
}
