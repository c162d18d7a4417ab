package native

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadMemory reads len(buf) bytes at addr. It uses process_vm_readv from the
// calling goroutine (no ptrace round trip), so it also works while the
// program runs. A read that crosses into unmapped memory returns the count of
// bytes read and an error.
func (p *Process) ReadMemory(buf []byte, addr uint64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if p.finished() {
		return 0, p.goneErr()
	}
	n, err := vmRead(p.pid, buf, addr)
	if err == unix.ENOSYS || err == unix.EPERM {
		n, err = p.readMemFile(buf, addr)
	}
	p.kern.mask(buf[:n], addr)
	return n, err
}

// MaskText makes ReadMemory show orig[a] at each address a, where a
// uprobe attached by another part of the debugger (kernel logpoints, the
// eBPF tracer) has put its int3 in the text: memory views, disassembly and
// the original byte a breakpoint saves then see the executable's bytes, as
// with the kernel conditions' own probes. Call the function it returns
// when those probes are gone.
func (p *Process) MaskText(orig map[uint64]byte) (unmask func()) {
	key := new(int)
	sites := make(map[uint64]byte, len(orig))
	for a, b := range orig {
		sites[a] = b
	}
	k := &p.kern
	k.mu.Lock()
	if k.foreign == nil {
		k.foreign = map[*int]map[uint64]byte{}
	}
	k.foreign[key] = sites
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		delete(k.foreign, key)
		k.mu.Unlock()
	}
}

// vmRead reads with process_vm_readv, which needs no ptrace round trip; the
// raw ENOSYS or EPERM tells the caller to fall back to /proc/PID/mem.
func vmRead(pid int, buf []byte, addr uint64) (int, error) {
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err == unix.ENOSYS || err == unix.EPERM {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if err != nil {
		return n, fmt.Errorf("reading %d bytes at %#x: %w", len(buf), addr, err)
	}
	if n < len(buf) {
		return n, fmt.Errorf("reading %d bytes at %#x: only %d readable: %w", len(buf), addr, n, unix.EFAULT)
	}
	return n, nil
}

// readOnPtraceThread is ReadMemory for code already running on the ptrace
// thread, where the /proc/PID/mem fallback must not queue behind itself.
func (p *Process) readOnPtraceThread(buf []byte, addr uint64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	n, err := vmRead(p.pid, buf, addr)
	if err == unix.ENOSYS || err == unix.EPERM {
		n, err = p.mem.ReadAt(buf, int64(addr))
		if err != nil {
			return n, fmt.Errorf("reading %d bytes at %#x: %w", len(buf), addr, err)
		}
	}
	return n, err
}

// readMemFile is the fallback for kernels or sandboxes without
// process_vm_readv.
func (p *Process) readMemFile(buf []byte, addr uint64) (int, error) {
	var n int
	err := p.do(func() error {
		var err error
		n, err = p.mem.ReadAt(buf, int64(addr))
		return err
	})
	if err != nil {
		return n, fmt.Errorf("reading %d bytes at %#x: %w", len(buf), addr, err)
	}
	return n, nil
}

// WriteMemory writes data at addr, including into read-only code (the kernel
// lets the tracer write through /proc/PID/mem). It returns the count written.
func (p *Process) WriteMemory(addr uint64, data []byte) (int, error) {
	if len(data) == 0 {
		return 0, nil
	}
	var n int
	err := p.do(func() error {
		var err error
		n, err = p.writeOnPtraceThread(addr, data)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("writing %d bytes at %#x: %w", len(data), addr, err)
	}
	return n, nil
}

// writeOnPtraceThread writes through /proc/PID/mem. It must run on the
// ptrace thread: with proc_mem.force_override=ptrace the kernel only lets
// the tracer itself write to read-only pages.
func (p *Process) writeOnPtraceThread(addr uint64, data []byte) (int, error) {
	n, err := p.mem.WriteAt(data, int64(addr))
	if n == 0 && err != nil {
		// Some hardened kernels refuse /proc/PID/mem writes; PTRACE_POKEDATA
		// through any stopped thread reaches the same address space.
		if t := p.anyStoppedThread(); t != nil {
			n, err = unix.PtracePokeData(t.tid, uintptr(addr), data)
		}
	}
	return n, err
}

func (p *Process) anyStoppedThread() *Thread {
	for _, t := range p.Threads() {
		if t.stopped {
			return t
		}
	}
	return nil
}

// atEntry is AT_ENTRY from <elf.h>: the program's entry point after loading.
const atEntry = 9

// AuxvEntry returns the AT_ENTRY value of the process's auxiliary vector;
// subtracting the ELF header's entry gives the load bias of a PIE.
func (p *Process) AuxvEntry() (uint64, error) {
	if p.finished() {
		return 0, p.goneErr()
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", p.pid))
	if err != nil {
		return 0, fmt.Errorf("reading auxv: %w", err)
	}
	const word = int(unsafe.Sizeof(uint64(0)))
	for i := 0; i+2*word <= len(b); i += 2 * word {
		tag := binary.LittleEndian.Uint64(b[i:])
		if tag == atEntry {
			return binary.LittleEndian.Uint64(b[i+word:]), nil
		}
		if tag == 0 {
			break
		}
	}
	return 0, fmt.Errorf("AT_ENTRY not in /proc/%d/auxv", p.pid)
}
