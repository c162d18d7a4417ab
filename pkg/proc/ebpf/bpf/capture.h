// SPDX-License-Identifier: GPL-2.0
//
// capture.h holds the capture-plan interpreter and emit, which runs a plan
// and writes its record to the ring buffer. It is included only by
// trace.bpf.c, after abi.h.
//
// Capture: the plan is a list of operations interpreted by a bounded loop
// over one global function (verified once, whatever the plan's length). A
// root operation (registers or stack) makes one segment; a deref makes one
// segment per pointer it follows in the segments of its source operation,
// once per segment or once per element of each. Each step of the loop does
// one read, so the cost of an event is what its plan reads.

// word is the 8 bytes at data[off]. Dereferenced straight from the byte
// array, a cast pointer takes the array's alignment of 1 and clang splits
// each access into eight byte loads or stores and the shifts joining them;
// through this typed pointer it is one 8-byte access. The words read are Go
// pointers and lengths, 8-aligned in 8-aligned segments, and x86 (where the
// verifier does not demand alignment of map values) would not mind if not.
static __attribute__((always_inline)) __u64 *word(struct scratch *s, __u32 off)
{
	return (__u64 *)&s->data[off];
}

// new_seg starts a segment for operation i at s->off and returns its body
// offset, or -1 when the data area or the segment table is full.
static __attribute__((always_inline)) int new_seg(struct scratch *s, __u32 i, __u64 addr, __u32 want, __u8 flags)
{
	__u32 o = s->off;
	__u32 k = s->nsegs;
	if (o > MAX_DATA - sizeof(struct segment) - 8 || k >= MAX_SEGS)
		return -1;
	struct segment *seg = (struct segment *)&s->data[o & (MAX_DATA - 1)];
	seg->addr = addr;
	seg->want = want;
	seg->len = 0;
	seg->op = i > 0xff ? 0xff : i; // dynamic plans' operations all read as 0xff
	seg->flags = flags;
	return (int)(o + sizeof(struct segment));
}

// end_seg records the n bytes written at body as the newest segment.
static __attribute__((always_inline)) void end_seg(struct scratch *s, __u32 i, __u32 body, __u32 n)
{
	struct segment *seg = (struct segment *)&s->data[(body - sizeof(struct segment)) & (MAX_DATA - 1)];
	seg->len = n;
	__u32 k = s->nsegs & (MAX_SEGS - 1);
	s->seg_off[k] = body;
	s->seg_len[k] = n;
	s->nsegs = k + 1;
	s->op_nsegs[i & (MAX_ALL_OPS - 1)] += 1;
	s->off = body + ((n + 7) & ~7U);
}

// copy_user reads len bytes at addr into the segment body; it returns the
// length copied (0 with SEGF_UNREADABLE set when the read failed).
static __attribute__((always_inline)) __u32 copy_user(struct scratch *s, __u32 body, __u64 len, __u64 addr)
{
	__u32 room = MAX_DATA - body;
	if (len > room)
		len = room;
	if (len > MAX_SEG)
		len = MAX_SEG;
	if (len == 0)
		return 0;
	if (bpf_probe_read_user(&s->data[body & (MAX_DATA - 1)], (__u32)len, (void *)addr) < 0) {
		struct segment *seg = (struct segment *)&s->data[(body - sizeof(struct segment)) & (MAX_DATA - 1)];
		seg->flags |= SEGF_UNREADABLE;
		return 0;
	}
	return (__u32)len;
}

// copy_seg appends a segment of operation i holding the want bytes at
// addr, want bounded by max (the plan's display limit: only a cut below it
// is a truncation); 0 means the data area is full.
static __attribute__((always_inline)) int copy_seg(struct scratch *s, __u32 i, __u64 addr, __u64 want, __u32 max)
{
	if (want > max)
		want = max;
	int b = new_seg(s, i, addr, (__u32)want, 0);
	if (b < 0)
		return 0;
	end_seg(s, i, (__u32)b, copy_user(s, (__u32)b, want, addr));
	return 1;
}

// root_op performs a register or stack operation; 0 means the data area
// is full.
static __attribute__((noinline)) int root_op(struct scratch *s, struct cap_op *op, __u32 i)
{
	if (!s || !op)
		return 0;
	if (op->kind == OP_REGS) {
		__u32 size = op->size;
		if (size > MAX_VALUE)
			size = MAX_VALUE;
		int b = new_seg(s, i, 0, size, 0);
		if (b < 0 || (__u32)b + size > MAX_DATA)
			return 0;
		__u32 body = (__u32)b;
		// The data area has MAX_SEG spare bytes past MAX_DATA, so zeroing a
		// whole MAX_VALUE block stays in bounds whatever the value's size.
		__u64 *words = (__u64 *)&s->data[body & (MAX_DATA - 1)];
		for (int w = 0; w < MAX_VALUE / 8; w++)
			words[w] = 0;
		__u32 np = op->npieces;
		for (int p = 0; p < MAX_PIECES; p++) {
			if (p >= np)
				break;
			__u32 r = op->regs[p];
			__u32 po = op->piece_off[p];
			__u32 ps = op->piece_size[p];
			if (ps == 0 || po + ps > size)
				continue;
			if (r == PIECE_STACK) {
				// Read straight into the zeroed value: pieces do not overlap.
				__u64 at = s->regs[REG_SP] + 8 + (__s64)op->piece_stack[p];
				if (ps > MAX_VALUE)
					ps = MAX_VALUE;
				if (bpf_probe_read_user(&s->data[(body + po) & (MAX_DATA - 1)], ps, (void *)at) < 0) {
					struct segment *seg = (struct segment *)&s->data[(body - sizeof(struct segment)) & (MAX_DATA - 1)];
					seg->flags |= SEGF_UNREADABLE;
				}
				continue;
			}
			if (r >= NUM_REGS || ps > 8)
				continue;
			__u64 v = s->regs[r];
			if (ps < 8)
				v &= (1ULL << (8 * ps)) - 1;
			// Pieces do not overlap and the value was zeroed, so OR-ing
			// the piece's low ps bytes into the word at its offset (the
			// target is little-endian) leaves every other byte as it was.
			*word(s, (body + po) & (MAX_DATA + MAX_SEG - 1)) |= v;
		}
		end_seg(s, i, body, size);
		return 1;
	}
	if (op->kind == OP_STACK) {
		return copy_seg(s, i, s->regs[REG_SP] + 8 + (__s64)op->stack_off, op->size, op->max);
	}
	return 1;
}

// hold_program stops the traced process: SIGSTOP stops every thread, and
// each one that is inside a probe now stops on its way back to user space,
// so at most a few records per running thread follow the one that crossed
// the mark. The margin above hold_bytes is sized for them (tracer.go).
// Every thread that sees the ring above the mark sends the signal again:
// a second SIGSTOP to a stopping process costs little and closes the race
// with a resume.
static __attribute__((always_inline)) void hold_program(void)
{
	bpf_send_signal(SIGSTOP);
	__u32 zero = 0;
	struct hold_state *st = bpf_map_lookup_elem(&hold, &zero);
	if (!st)
		return;
	if (!st->held) {
		st->since_ns = bpf_ktime_get_ns();
		st->held = 1;
	}
}

// deref follows the pointer at data[at + ptr_off] (at most avail bytes of
// source past at) for operation i; 0 means the data area is full. A nil
// pointer makes no segment: the loader never reads through it.
static __attribute__((noinline)) int deref(struct scratch *s, struct cap_op *op, __u32 i, __u32 at, __u32 avail)
{
	if (!s || !op)
		return 0;
	__u32 po = op->ptr_off, lo = op->len_off;
	if (po + 8 > avail)
		return 1;
	__u64 addr = *word(s, (at + po) & (MAX_DATA - 1));
	__u64 want = op->size;
	if (lo != NO_LEN_OFFSET) {
		if (lo + 8 > avail)
			return 1;
		__u64 count = *word(s, (at + lo) & (MAX_DATA - 1));
		if (op->len_kind == LEN_LOG2)
			count = (count & 0xff) > 31 ? 0xffffffffULL : 1ULL << (count & 0xff);
		else if (op->len_kind == LEN_MASK)
			count += 1;
		if ((__s64)count < 0 || count > 0xffffffffULL)
			count = 0xffffffffULL;
		want = count * op->size;
	}
	if (addr == 0 || want == 0)
		return 1;
	return copy_seg(s, i, addr, want, op->max);
}

// iface looks up the plan of the dynamic type of the interface at
// data[at + ptr_off] and queues it as a job. When the type has none, or
// the job table is full (more interfaces than MAX_JOBS in one event), it
// copies op->size bytes behind the data word instead, for the decoder to
// interpret once it knows the type: a full table used to end the whole
// capture, jobs already queued included, so that a slice of 24 interfaces
// showed none of them. An itab's dynamic type is its second
// word (len_off != NO_LEN_OFFSET says the type word is an itab); npieces
// holds the nesting level the plan was made for. gk is the operation's
// global index << 16 | the source segment (BPF calls take five arguments).
// It returns 0 when full.
static __attribute__((noinline)) int iface(struct scratch *s, struct cap_op *op, __u32 gk, __u32 at, __u32 avail)
{
	if (!s || !op)
		return 0;
	__u32 g = gk >> 16, k = gk & 0xffff;
	__u32 po = op->ptr_off;
	if (po + 16 > avail)
		return 1;
	__u64 typ = *word(s, (at + po) & (MAX_DATA - 1));
	__u64 data = *word(s, (at + po + 8) & (MAX_DATA - 1));
	if (typ == 0)
		return 1;
	if (op->len_off != NO_LEN_OFFSET) {
		__u64 t = 0;
		if (bpf_probe_read_user(&t, sizeof(t), (void *)(typ + 8)) < 0)
			return 1;
		typ = t;
	}
	__u64 key = typ | ((__u64)op->npieces << 56);
	__u32 *plan = bpf_map_lookup_elem(&dyn_types, &key);
	__u32 n = s->njobs;
	if (plan && n < MAX_JOBS) {
		struct job *jb = &s->jobs[n & (MAX_JOBS - 1)];
		jb->plan = *plan;
		jb->root = k;
		jb->root_off = at + po - s->seg_off[k & (MAX_SEGS - 1)];
		s->njobs = n + 1;
		return 1;
	}
	if (data == 0 || op->size == 0)
		return 1;
	return copy_seg(s, g, data, op->size, op->max);
}

// walk is the state of the capture interpreter between loop steps: job
// (0 for the probe's own plan, j+1 for jobs[j]), its operation i (global
// index base + i), source segment k (up to kend) and element j.
struct walk {
	__u32 nops;
	__u32 i;
	__u32 k;
	__u32 kend;
	__u32 j;
	__u32 started;  // operation i has been set up
	__u32 full;     // the data area, segment or job table filled up
	__u32 job;
	__u32 plan;     // dyn_plans index of the current job
	__u32 base;     // global index of the current plan's operation 0
	__u32 next;     // global index the next job starts at
	__u32 root;     // the current job's interface: segment ...
	__u32 root_off; // ... and offset
	__u32 elem_off; // where elements start in the current source
};

// next_job moves the walk to the next queued job; 1 means none is left.
static __attribute__((always_inline)) int next_job(struct scratch *s, struct walk *w)
{
	__u32 jn = w->job;
	if (jn >= s->njobs || jn >= MAX_JOBS)
		return 1;
	struct job *jb = &s->jobs[jn & (MAX_JOBS - 1)];
	w->job = jn + 1;
	w->plan = jb->plan;
	w->root = jb->root;
	w->root_off = jb->root_off;
	w->base = w->next;
	w->i = 0;
	w->started = 0;
	w->j = 0;
	__u32 key = jb->plan;
	struct dyn_plan *dp = bpf_map_lookup_elem(&dyn_plans, &key);
	w->nops = dp ? (dp->nops > MAX_DYN_OPS ? MAX_DYN_OPS : dp->nops) : 0;
	w->next = w->base + w->nops;
	return 0;
}

// next_op moves the walk to the next operation, or once the plan is done
// to the next job; 1 means the walk is over. Ending here rather than at a
// step of its own saves a step per plan.
static __attribute__((always_inline)) int next_op(struct scratch *s, struct walk *w)
{
	w->i++;
	w->started = 0;
	w->j = 0;
	return w->i >= w->nops ? next_job(s, w) : 0;
}

// next_source moves the walk to the next source segment of the operation,
// or to the next operation after the last one; 1 means the walk is over.
static __attribute__((always_inline)) int next_source(struct scratch *s, struct walk *w)
{
	w->k++;
	w->j = 0;
	return w->k >= w->kend ? next_op(s, w) : 0;
}

// capture_step does one step of the walk; 1 means the walk is over. It is
// global so the verifier checks it once, not once per iteration.
__attribute__((noinline)) int capture_step(struct scratch *s, struct plan *plan, struct walk *w)
{
	if (!s || !plan || !w)
		return 1;
	__u32 i = w->i;
	if (i >= w->nops)
		return next_job(s, w);
	struct cap_op *op;
	if (w->job == 0) {
		if (i >= MAX_OPS)
			return 1;
		op = &plan->ops[i & (MAX_OPS - 1)];
	} else {
		__u32 key = w->plan;
		struct dyn_plan *dp = bpf_map_lookup_elem(&dyn_plans, &key);
		if (!dp || i >= MAX_DYN_OPS)
			return 1;
		op = &dp->ops[i & (MAX_DYN_OPS - 1)];
	}
	__u32 g = w->base + i;
	if (g >= MAX_ALL_OPS) {
		w->full = 1;
		return 1;
	}
	asm volatile("" : "+r"(g)); // see k below
	g &= MAX_ALL_OPS - 1;
	if (!w->started) {
		w->started = 1;
		s->op_first[g & (MAX_ALL_OPS - 1)] = s->nsegs;
		s->op_nsegs[g & (MAX_ALL_OPS - 1)] = 0;
		if (op->kind != OP_DEREF && op->kind != OP_IFACE) {
			if (!root_op(s, op, g)) {
				w->full = 1;
				return 1;
			}
			return next_op(s, w);
		}
		__u32 src = op->src;
		if (src == ROOT_SRC && w->job != 0) {
			w->k = w->root;
			w->kend = w->root + 1;
			w->elem_off = w->root_off;
		} else if (src < i) {
			__u32 gs = (w->base + src) & (MAX_ALL_OPS - 1);
			w->k = s->op_first[gs];
			w->kend = w->k + s->op_nsegs[gs];
			w->elem_off = 0;
		} else {
			return next_op(s, w);
		}
		w->j = 0;
	}
	__u32 k = w->k;
	if (k >= w->kend || k >= MAX_SEGS) {
		return next_op(s, w);
	}
	// The barrier keeps clang from dropping the mask it can prove
	// redundant: the verifier tracks the masked copy, not the compare.
	asm volatile("" : "+r"(k));
	k &= MAX_SEGS - 1;
	__u32 so = s->seg_off[k], sl = s->seg_len[k];
	__u32 c2 = op->count2, j = w->j, elems = op->count ? op->count : 1;
	__u32 base = w->elem_off;
	// Division is slow in BPF; only the two-level elements of a map's
	// buckets need it.
	if (c2 > 1) {
		elems *= c2;
		base += (j / c2) * op->stride + (j % c2) * op->stride2;
	} else {
		base += j * op->stride;
	}
	if (j >= elems || base >= sl) {
		return next_source(s, w);
	}
	int ok;
	if (op->kind == OP_IFACE)
		ok = iface(s, op, g << 16 | k, so + base, sl - base);
	else
		ok = deref(s, op, g, so + base, sl - base);
	if (!ok) {
		w->full = 1;
		return 1;
	}
	// Moving on now rather than at the next step saves the steps that
	// would only find the element or the source segment exhausted: a
	// plain pointer then costs one step, not three.
	if (++w->j >= elems)
		return next_source(s, w);
	return 0;
}

#ifndef TINYDBG_BOUNDED_LOOP
// bpf_loop (5.17+) runs capture_cb MAX_STEPS times at most: the verifier
// checks the callback once, where it walked a bounded loop's MAX_STEPS
// iterations one by one (78,000 instructions, 66 ms of every trace's
// start-up, against 8,300 and 12 ms). build.sh also builds the object with
// -DTINYDBG_BOUNDED_LOOP for kernels without bpf_loop.
struct loop_ctx {
	struct scratch *s;
	struct plan *plan;
	struct walk *w;
	int done;
};

static long capture_cb(__u64 i, void *ctx)
{
	struct loop_ctx *lc = ctx;
	if (capture_step(lc->s, lc->plan, lc->w)) {
		lc->done = 1;
		return 1;
	}
	return 0;
}
#endif

// capture runs a plan's operations, then the plans of the dynamic types
// found; 0 means something was cut off.
static __attribute__((always_inline)) int capture(struct scratch *s, struct plan *plan, __u32 nops)
{
	struct walk w = {.nops = nops > MAX_OPS ? MAX_OPS : nops};
	w.next = w.nops;
	s->off = 0;
	s->nsegs = 0;
	s->njobs = 0;
	int done = 0;
#ifdef TINYDBG_BOUNDED_LOOP
	for (int n = 0; n < MAX_STEPS; n++)
		if (capture_step(s, plan, &w)) {
			done = 1;
			break;
		}
#else
	struct loop_ctx lc = {.s = s, .plan = plan, .w = &w};
	long n = bpf_loop(MAX_STEPS, capture_cb, &lc, 0);
	done = n >= 0 && lc.done;
#endif
	return !w.full && done; // not done: MAX_STEPS ran out first
}

// emit runs the capture plan of one call or return and writes the record
// to the ring buffer. The record wakes the reader only when enough data
// has accumulated (the reader also polls), because a wake-up per event
// costs more than the probe itself. It is a global function so that the
// verifier checks it, and the capture loop in it, once rather than at
// each of its call sites: that was most of the program's verification.
__attribute__((noinline)) int emit(struct scratch *s, struct config *cfg, __u32 fn, __u32 kind, __u8 flags)
{
	if (!s || !cfg)
		return 0;
	__u32 key = fn * 2 + (kind == EV_CALL ? 0 : 1);
	struct plan *plan = bpf_map_lookup_elem(&plans, &key);
	if (!plan) {
		count_drop(DROP_NO_PLAN);
		return 0;
	}
	struct event_header *h = &s->hdr;
	h->time_ns = bpf_ktime_get_ns();
	h->cookie = key;
	h->kind = kind;
	h->flags = flags;

	if (!capture(s, plan, (flags & EVF_TAIL) ? 0 : plan->nops))
		h->flags |= EVF_TRUNCATED;
	__u32 off = s->off;
	if (off > MAX_DATA)
		off = MAX_DATA;
	h->data_len = off;
	__u32 fn_key = fn * 2;
	__u64 *lost_calls = bpf_map_lookup_elem(&fn_drops, &fn_key);
	fn_key++;
	__u64 *lost_rets = bpf_map_lookup_elem(&fn_drops, &fn_key);
	h->drop_gen = (__u32)((lost_calls ? *lost_calls : 0) + (lost_rets ? *lost_rets : 0));
	__u64 wake = BPF_RB_NO_WAKEUP;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail >= cfg->wake_bytes)
		wake = BPF_RB_FORCE_WAKEUP;
	if (cfg->hold_bytes && avail >= cfg->hold_bytes)
		hold_program();
	if (bpf_ringbuf_output(&events, s, sizeof(struct event_header) + (off & (MAX_DATA * 2 - 1)), wake) < 0) {
		// Lossless mode sizes its margin so this cannot happen; if it
		// does anyway, the loss is counted, never silent.
		count_drop(DROP_RINGBUF);
		__u64 *lost = bpf_map_lookup_elem(&fn_drops, &key);
		if (lost)
			__sync_fetch_and_add(lost, 1);
	}
	return 0;
}
