package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	cebpf "github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Lossless tracing: when the reader falls behind, the BPF program stops
// the traced process with SIGSTOP once the ring buffer holds more than the
// high-water mark (config.hold_bytes), and the reader sends SIGCONT once it
// has drained the ring below the low-water mark. SIGSTOP is taken by each
// thread on its way back to user space, so threads already inside a probe
// still write their record: the space above the mark is sized for them
// (holdMargin), and a record that finds no room anyway is counted as a
// drop, never lost silently.

// maxRecord is the most ring-buffer space one event takes: the kernel's
// 8-byte record header, the event header and a full data area, rounded up
// to 8 as the kernel rounds records.
const maxRecord = (8 + eventHeaderSize + maxData + 7) &^ 7

// inflightPerCPU bounds the records a running thread may still write
// between the mark being crossed and its stop: the probe it is in (two
// records at a site that is an entry and a return), and one more while the
// stop reaches its CPU.
const inflightPerCPU = 4

// holdMargin is the free space kept above the high-water mark: room for the
// records of every thread that can be inside a probe at once — a thread
// writes only while on a CPU, so one per CPU, or per thread the process had
// when attached if that is more, plus 8 for threads preempted inside a
// probe — and never less than a quarter of the ring.
func holdMargin(ring, threads int) int {
	return max(ring/4, inflightPerCPU*(max(runtime.NumCPU(), threads)+8)*maxRecord)
}

// losslessRing returns the ring size and the high-water mark for a
// requested ring size and the process's thread count: the ring grows until
// the margin is at most half of it.
func losslessRing(requested, threads int) (ring, mark int) {
	ring = ringSize(requested)
	for holdMargin(ring, threads) > ring/2 {
		ring <<= 1
	}
	return ring, ring - holdMargin(ring, threads)
}

// threadCount reads how many threads pid has now; 1 if it cannot.
func threadCount(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return 1
}

// holder resumes the process the BPF program stopped. Its methods are
// safe for concurrent use: the reader checks after every record, Close
// releases the process at the end.
type holder struct {
	mem   *cebpf.Memory // the hold map: one holdState
	pidfd int
	low   int // resume once the ring holds less than this

	mu    sync.Mutex
	holds uint64
	held  time.Duration
	err   error // the first failure to resume
}

func newHolder(m *cebpf.Map, pid, low int) (*holder, error) {
	mem, err := m.Memory()
	if err != nil {
		return nil, fmt.Errorf("mapping the hold flag: %w", err)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return &holder{mem: mem, pidfd: fd, low: low}, nil
}

// state reads the hold flag and when the hold began.
func (h *holder) state() (held bool, since uint64) {
	var b [16]byte
	if _, err := h.mem.ReadAt(b[:], 0); err != nil {
		return false, 0
	}
	return binary.NativeEndian.Uint64(b[:]) != 0, binary.NativeEndian.Uint64(b[8:])
}

// check resumes the process if the BPF program holds it and the ring has
// drained below the low-water mark (avail bytes wait in it).
func (h *holder) check(avail int) {
	if avail >= h.low {
		return
	}
	if held, _ := h.state(); held {
		h.resume()
	}
}

// resume clears the flag, then sends SIGCONT: in that order a SIGSTOP that
// races with it sets the flag again and is answered at the next check.
func (h *holder) resume() {
	h.mu.Lock()
	defer h.mu.Unlock()
	held, since := h.state()
	if !held || h.pidfd < 0 {
		return
	}
	var zero [8]byte
	if _, err := h.mem.WriteAt(zero[:], 0); err != nil {
		h.fail(fmt.Errorf("clearing the hold flag: %w", err))
		return
	}
	err := unix.PidfdSendSignal(h.pidfd, unix.SIGCONT, nil, 0)
	if err != nil && !errors.Is(err, unix.ESRCH) {
		h.fail(fmt.Errorf("resuming the held program: %w", err))
		return
	}
	h.holds++
	if now := monotonicNs(); now > since {
		h.held += time.Duration(now - since)
	}
}

func (h *holder) fail(err error) {
	if h.err == nil {
		h.err = err
	}
}

// release resumes a held process for good and frees the pidfd; the probes
// are gone by then, so it cannot be stopped again.
func (h *holder) release() error {
	h.resume()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pidfd >= 0 {
		unix.Close(h.pidfd)
		h.pidfd = -1
	}
	return h.err
}

// totals reports how often and how long the process was held.
func (h *holder) totals() (uint64, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.holds, h.held
}

// monotonicNs reads CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.
func monotonicNs() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}
