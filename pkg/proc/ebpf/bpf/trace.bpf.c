// SPDX-License-Identifier: GPL-2.0
//
// trace.bpf.c is tinydbg's uprobe program for `trace --ebpf`. One program is
// attached at every probe: the entry of each traced Go function (just after
// its stack-growth check, so a morestack re-entry does not fire twice) and
// every RET instruction of its body. The attach cookie tells which function
// and which kind of probe fired; the capture plan for that kind, built in
// Go from DWARF and the ABIInternal rules, says which registers and memory to
// copy. Every event carries its goroutine (goid read through R14) and the
// distance of SP below the goroutine's stack top: a call and its return see
// the same distance even when the stack was copied in between, so user
// space pairs them by it, and a panic that abandons calls cannot shift the
// pairing of later ones. The program keeps no per-call state and updates
// no map on its fast path, which keeps the probe cheap; records are written
// without a wake-up and user space is woken only once a batch has
// accumulated. By default no event is lost: once the ring holds more than
// config.hold_bytes the program stops the process (hold_program) and the
// reader resumes it when drained; in lossy mode it never does, and a full
// ring costs the event, counted per function.
//
// The program is split by concept into headers that only this file includes,
// in this order: abi.h (types, helpers, shared layouts and maps), capture.h
// (the capture-plan interpreter and emit), cond.h (kernel conditions), then
// this file's entry/return program, then stats.h (the --stats program).
// build.sh hashes every one of them into trace.bpf.o.sum.

#include "abi.h"
#include "capture.h"
#include "cond.h"

// G_SPAN bounds the bytes of g read at once for its stack top and goid.
#define G_SPAN 256

// read_g sets the header's goid and, in stack_off, g.stack.hi. The two
// fields lie a few words apart in every Go release, so one read covers
// both: a read costs far more in fixed overhead than in bytes. The bytes
// land in the data area, which the capture overwrites afterwards. A field
// that cannot be read is 0, as with two reads.
static __attribute__((always_inline)) void read_g(struct scratch *s, struct config *cfg, __u64 g)
{
	__u32 lo = cfg->stack_hi_offset, go = cfg->goid_offset;
	__u32 n = go + 8 - lo;
	s->hdr.goid = 0;
	s->hdr.stack_off = 0;
	if (go >= lo + 8 && n <= G_SPAN) {
		// The barrier keeps the bound the verifier needs on n itself.
		asm volatile("" : "+r"(n));
		n &= 2 * G_SPAN - 1;
		if (n > G_SPAN || n < 16)
			return;
		if (bpf_probe_read_user(s->data, n, (void *)(g + lo)) < 0)
			return;
		s->hdr.stack_off = *word(s, 0);
		s->hdr.goid = *word(s, (go - lo) & (G_SPAN - 1));
		return;
	}
	bpf_probe_read_user(&s->hdr.goid, sizeof(s->hdr.goid), (void *)(g + go));
	bpf_probe_read_user(&s->hdr.stack_off, sizeof(s->hdr.stack_off), (void *)(g + lo));
}

// The attach cookie is fn << 2 | probe kind. A function whose first
// instruction is its RET (an empty body) has one site that is both its
// entry and its return: two uprobes at one address would fire in an
// unspecified order, so one probe of kind PROBE_BOTH reports both.
SEC("uprobe")
int tinydbg_trace(void *ctx)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
	__u64 pid_tgid = current_pid_tgid(cfg);
	if ((pid_tgid >> 32) != cfg->tgid)
		return 0;

	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	for (int r = 0; r < NUM_REGS; r++)
		s->regs[r] = ((__u64 *)ctx)[r];

	struct event_header *h = &s->hdr;
	read_g(s, cfg, s->regs[REG_G]);
	h->stack_off -= s->regs[REG_SP];
	h->tid = (__u32)pid_tgid;

	__u32 cookie = (__u32)bpf_get_attach_cookie(ctx);
	__u32 fn = cookie >> 2, kind = cookie & 3;
	if (cond_enabled) {
		if (kind == PROBE_CALL || kind == PROBE_BOTH)
			bpf_tail_call(ctx, &cond_progs, fn); // returns only when fn has no condition
		else if (cond_return_dropped(s, fn))
			return 0;
	}
	if (kind == PROBE_BOTH) {
		emit(s, cfg, fn, EV_CALL, 0);
		emit(s, cfg, fn, EV_RETURN, 0);
	} else if (kind == PROBE_TAIL) {
		emit(s, cfg, fn, EV_RETURN, EVF_TAIL);
	} else {
		emit(s, cfg, fn, kind, 0);
	}
	return 0;
}

#include "stats.h"

char LICENSE[] SEC("license") = "GPL";
