package ebpf

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// bpfFDs counts this process's open BPF link and perf event descriptors,
// which hold uprobes alive; after Close none of the tracer's may remain.
func bpfFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (strings.Contains(target, "bpf-link") || strings.Contains(target, "perf_event") ||
			strings.Contains(target, "bpf-prog") || strings.Contains(target, "bpf-map")) {
			n++
		}
	}
	return n
}

// TestTraceNetHTTP attaches to every net/http function of a real server
// and client exchange, checks that nothing is dropped or left behind, and
// reports the attach and detach times.
func TestTraceNetHTTP(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "ebpfhttp", fixture.Flavour{Optimized: true})
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	funcs := bi.FuncsMatching(regexp.MustCompile(`^net/http\.`))
	if len(funcs) < 1000 {
		t.Fatalf("only %d net/http functions", len(funcs))
	}
	before := bpfFDs(t)
	st := startStopped(t, path)
	tr, err := Open(bi, st.cmd.Process.Pid, funcs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := collect(tr)
	info, err := tr.coll.Programs[programName].Info()
	if err != nil {
		t.Fatal(err)
	}
	progID, _ := info.ID()
	if links := linksOf(t, progID); links != 1 && links != -1 {
		t.Errorf("bpftool sees %d links of program %d while attached, want 1", links, progID)
	}
	st.run(t)
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := <-res
	if after := bpfFDs(t); after != before {
		t.Errorf("%d BPF/perf descriptors open after Close, %d before", after, before)
	}
	// The kernel's own view: no link of the program survives.
	if links := linksOf(t, progID); links > 0 {
		t.Errorf("%d links of program %d left after Close", links, progID)
	}
	if want := "hello /req0\nhello /req1\nhello /req2\n"; st.out.String() != want {
		t.Errorf("target printed %q, want %q", st.out.String(), want)
	}
	stats := tr.Stats()
	if stats.Dropped != 0 || stats.Abandoned != 0 {
		t.Errorf("dropped %d events, abandoned %d calls", stats.Dropped, stats.Abandoned)
	}
	calls, rets := 0, 0
	var reqs []string
	for _, ev := range evs {
		if ev.Err != nil || ev.Unpaired {
			t.Errorf("bad event %s: err %v unpaired %v", describe(ev), ev.Err, ev.Unpaired)
			break
		}
		if ev.Kind == event.Call {
			calls++
		} else {
			rets++
		}
		if ev.Kind == event.Call && ev.Function == "net/http.NewRequestWithContext" {
			// method and url, strings in RCX/RDI and RSI/R8, after the
			// context interface in RAX/RBX.
			v := ev.Values
			if len(v) != 4 || text(v[1]) != `method="GET"` || !strings.HasPrefix(text(v[2]), `url="http://127.0.0.1:`) {
				t.Errorf("unexpected %s", describe(ev))
				continue
			}
			reqs = append(reqs, text(v[2])[strings.LastIndex(text(v[2]), "/"):])
		}
	}
	if got := strings.Join(reqs, " "); got != `/req0" /req1" /req2"` {
		t.Errorf("NewRequestWithContext urls end in %s", got)
	}
	if rets == 0 || rets > calls {
		t.Errorf("%d calls, %d returns", calls, rets)
	}
	t.Logf("%d functions, %d probes, multi=%v: attach %v, detach %v; %d calls, %d returns",
		len(funcs), stats.Probes, stats.Multi, stats.AttachTime, stats.DetachTime, calls, rets)
}

// linksOf counts the kernel's BPF links running program id, as bpftool
// lists them, or returns -1 when bpftool is not installed.
func linksOf(t *testing.T, id ebpf.ProgramID) int {
	t.Helper()
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		return -1
	}
	out, err := exec.Command(bpftool, "-j", "link", "show").Output()
	if err != nil {
		t.Fatalf("bpftool link show: %v\n%s", err, out)
	}
	var links []struct {
		ProgID uint32 `json:"prog_id"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("parsing bpftool output %q: %v", out, err)
	}
	n := 0
	for _, l := range links {
		if l.ProgID == uint32(id) {
			n++
		}
	}
	return n
}
