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
// The layouts below are mirrored in Go (abi.go); layout_test.go compares them
// through the BTF of the compiled object.

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_get_ns_current_pid_tgid)(__u64 dev, __u64 ino, void *nsdata, __u32 size) = (void *)120;
static long (*bpf_probe_read_user)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)112;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static __u64 (*bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)134;
static __u64 (*bpf_get_attach_cookie)(void *ctx) = (void *)174;
static long (*bpf_send_signal)(__u32 sig) = (void *)109;

#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_RINGBUF 27
#define BPF_RB_NO_WAKEUP 1
#define BPF_RB_FORCE_WAKEUP 2
#define BPF_RB_AVAIL_DATA 0
#define BPF_F_MMAPABLE 1024
#define BPF_ANY 0
#define SIGSTOP 19

// The constants below are enums, not macros, so that they reach the BTF of
// the object: layout_test.go checks their Go mirrors (abi.go) against it,
// as it checks the structs.
enum limits {
	MAX_OPS = 128,          // capture operations per probe kind of a function
	MAX_PIECES = 12,        // pieces (registers, stack runs) making up one value
	MAX_VALUE = 64,         // bytes of one register-assigned value
	MAX_DATA = 16384,       // captured bytes (segment headers included) per event
	MAX_SEG = 4096,         // bytes one segment may hold
	MAX_SEGS = 256,         // segments per event
	MAX_STEPS = 2048,       // interpreter steps per event
	MAX_DYN_OPS = 64,       // operations of the plan of one dynamic type
	MAX_JOBS = 16,          // dynamic-type plans run per event
	MAX_ALL_OPS = 512,      // operations per event, dynamic ones included
	ROOT_SRC = 0xff,        // cap_op.src of a dynamic plan's interface itself
	NO_LEN_OFFSET = 0xffff, // cap_op.len_off of a fixed-size value
	PIECE_STACK = 0xfe,     // cap_op.regs[] of a piece read from the stack
};

#define NUM_REGS 21       // u64 slots of struct pt_regs on x86-64
#define REG_SP 19         // pt_regs slot of RSP
#define REG_G 1           // pt_regs slot of R14, the current g under ABIInternal

// Operation kinds.
enum op_kind {
	OP_REGS = 1,  // assemble a value from registers (and stack pieces)
	OP_STACK = 2, // copy a value from CFA + stack_off
	OP_DEREF = 3, // follow a pointer held in an earlier segment
	OP_IFACE = 4, // run the plan of an interface's dynamic type
};

// How a deref's element count is stored at len_off.
enum len_kind {
	LEN_COUNT = 0, // a 64-bit count (string, slice, Swiss directory)
	LEN_LOG2 = 1,  // a byte B: 1 << B elements (a Go 1.22 map's buckets)
	LEN_MASK = 2,  // a 64-bit mask: mask + 1 elements (a Swiss table's groups)
};

// Event kinds and flags.
enum ev_kind {
	EV_CALL = 0,
	EV_RETURN = 1,
};

enum ev_flags {
	EVF_TRUNCATED = 2, // the data area filled up; later operations were skipped
	EVF_TAIL = 8,      // a return by tail call: results are the callee's
};

// Probe kinds: the low two bits of an attach cookie (fn << 2 | kind).
enum probe_kind {
	PROBE_CALL = 0,   // a function's entry
	PROBE_RETURN = 1, // a RET of its body
	PROBE_BOTH = 2,   // a site that is the entry and a return
	PROBE_TAIL = 3,   // a tail JMP leaving the function
};

// Segment flags.
enum seg_flags {
	SEGF_NIL = 1,        // the pointer to follow was nil
	SEGF_UNREADABLE = 2, // bpf_probe_read_user failed
	SEGF_BAD_SOURCE = 4, // the source segment lacked the pointer or length
};

// Drop counter slots.
enum drop_slot {
	DROP_RINGBUF = 0, // ring buffer full: the event was lost
	DROP_NO_PLAN = 2, // probe fired with an unknown cookie
	NUM_DROPS = 4,
};

// abi_constants is never called: its parameter puts the enums above into
// the BTF, which has no room for macros and keeps only types in use.
struct abi_enums {
	enum limits limits;
	enum op_kind op_kind;
	enum ev_kind ev_kind;
	enum ev_flags ev_flags;
	enum probe_kind probe_kind;
	enum seg_flags seg_flags;
	enum drop_slot drop_slot;
	enum len_kind len_kind;
};

__attribute__((noinline)) int abi_constants(struct abi_enums *e)
{
	return 0;
}

struct config {
	__u32 tgid;
	__u32 goid_offset;     // of runtime.g.goid
	__u32 stack_hi_offset; // of runtime.g.stack.hi
	__u32 wake_bytes;      // wake the reader once this much data waits
	__u32 hold_bytes;      // stop the program once this much waits; 0: lossy, never
	__u32 pad;
	// tinydbg's pid namespace, when it is not the initial one: tgid and
	// the thread ids of events are then those tinydbg (and /proc) uses.
	__u64 ns_dev;
	__u64 ns_ino;
};

struct pidns_info {
	__u32 pid;
	__u32 tgid;
};

// current_pid_tgid is bpf_get_current_pid_tgid in tinydbg's own pid
// namespace: in a container the initial namespace's ids would match no
// pid tinydbg knows, and every event would be filtered out. 0 if the
// thread is outside that namespace.
static __attribute__((always_inline)) __u64 current_pid_tgid(const struct config *cfg)
{
	if (!cfg->ns_ino)
		return bpf_get_current_pid_tgid();
	struct pidns_info ns = {};
	if (bpf_get_ns_current_pid_tgid(cfg->ns_dev, cfg->ns_ino, &ns, sizeof(ns)))
		return 0;
	return (__u64)ns.tgid << 32 | ns.pid;
}

// hold_state is shared with the reader through a memory-mapped array. The
// program sets held (and since, when it was 0) after sending SIGSTOP; the
// reader, once it has drained the ring below its low-water mark, clears
// held and then sends SIGCONT. Sending before setting means held never
// names a stop that is yet to come, so the reader's SIGCONT always follows
// the SIGSTOP it answers; a stop that races with a resume sets held again
// and is answered at the reader's next look.
struct hold_state {
	__u64 held;
	__u64 since_ns; // CLOCK_MONOTONIC when the first thread sent SIGSTOP
};

struct cap_op {
	__u8 kind;
	__u8 param;
	__u8 src;
	__u8 npieces;
	__u8 regs[MAX_PIECES];
	__u8 piece_off[MAX_PIECES];
	__u8 piece_size[MAX_PIECES];
	// A piece whose regs[] is PIECE_STACK is not in a register but on the
	// stack at SP + 8 + piece_stack[] (an inlined copy's argument split
	// between registers and its caller's frame).
	__s16 piece_stack[MAX_PIECES];
	__s32 stack_off;
	__u16 ptr_off;
	__u16 len_off; // NO_LEN_OFFSET: fixed size
	__u32 size;    // value size, or element size for a counted deref
	__u32 max;     // byte bound of a deref
	// A deref with count > 0 is applied to count elements of stride bytes
	// of each source segment (ptr_off and len_off within the element): a
	// slice's strings, an array's pointers. Elements past the bytes the
	// source segment holds are skipped.
	__u16 stride;
	__u16 count;
	// A second level of elements inside each of those (a map bucket's
	// slots): element j is at (j / count2) * stride + (j % count2) * stride2.
	__u16 stride2;
	__u8 count2;
	__u8 len_kind; // how the count at len_off is stored (enum len_kind)
};


struct plan {
	__u32 nops;
	__u32 pad;
	struct cap_op ops[MAX_OPS];
};

// dyn_plan is what is captured of a value of one dynamic type found in an
// interface: its operations' sources are its own earlier operations, or
// ROOT_SRC, the interface's two words.
struct dyn_plan {
	__u32 nops;
	__u32 pad;
	struct cap_op ops[MAX_DYN_OPS];
};

// job is a dynamic plan to run once the current ones are done, on the
// interface at data offset root_off of segment root.
struct job {
	__u32 plan;
	__u16 root;
	__u16 root_off;
};

struct event_header {
	__u64 goid;
	__u64 time_ns;
	__u64 stack_off; // g.stack.hi - SP at the probe
	__u32 tid;
	__u32 cookie;
	__u16 data_len;
	__u8 kind;
	__u8 flags;
	__u32 drop_gen; // events of this function lost so far (see fn_drops)
};

struct segment {
	__u64 addr;
	__u32 want;
	__u16 len;
	__u8 op;
	__u8 flags;
};

struct scratch {
	struct event_header hdr;
	__u8 data[MAX_DATA + MAX_SEG + 64];
	__u64 regs[NUM_REGS];
	// Segment k's body is at data[seg_off[k]], seg_len[k] bytes. The
	// segments of one operation are contiguous: op_first[i], op_nsegs[i].
	__u16 seg_off[MAX_SEGS];
	__u16 seg_len[MAX_SEGS];
	__u16 op_first[MAX_ALL_OPS];
	__u16 op_nsegs[MAX_ALL_OPS];
	struct job jobs[MAX_JOBS];
	__u32 off;   // end of the segments written so far
	__u32 nsegs; // segments written so far
	__u32 njobs;
	__u32 pad;
};

// segment_layout is never used at run time: it keeps struct segment in the
// object's BTF so the Go layout test can compare it.
struct segment segment_layout;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); // resized by the loader to 2 × functions
	__type(key, __u32);
	__type(value, struct plan);
} plans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

// dyn_types maps a runtime type descriptor's address, with the nesting
// level in the top byte, to its plan in dyn_plans; both are filled and
// resized by the loader.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} dyn_types SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dyn_plan);
} dyn_plans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NUM_DROPS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

// fn_drops counts, per capture plan (function × call/return), the events
// lost because the ring buffer was full. Every event carries the sum for
// its function (drop_gen): a return whose call was recorded under another
// sum may be paired with the wrong call, so user space marks it unpaired.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); // resized by the loader to 2 × functions
	__type(key, __u32);
	__type(value, __u64);
} fn_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hold_state);
} hold SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); // resized by the loader
} events SEC(".maps");

static __attribute__((always_inline)) void count_drop(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &slot);
	if (n)
		*n += 1;
}

// Capture: the plan is a list of operations interpreted by a bounded loop
// over one global function (verified once, whatever the plan's length). A root operation (registers
// or stack) makes one segment; a deref makes one segment per pointer it
// follows in the segments of its source operation, once per segment or
// once per element of each. Each step of the loop does one read, so the
// cost of an event is what its plan reads.

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
// data[at + ptr_off] and queues it as a job. When the type has none, it
// copies op->size bytes behind the data word instead, for the decoder to
// interpret once it knows the type. An itab's dynamic type is its second
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
	if (plan) {
		__u32 n = s->njobs;
		if (n >= MAX_JOBS)
			return 0;
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

// capture runs a plan's operations, then the plans of the dynamic types
// found; 0 means something was cut off.
static __attribute__((always_inline)) int capture(struct scratch *s, struct plan *plan, __u32 nops)
{
	// bpf_loop would suit, but its callback fails to load (EFAULT) on
	// the kernels tried; a bounded loop over a global function costs the
	// verifier a few instructions per iteration.
	struct walk w = {.nops = nops > MAX_OPS ? MAX_OPS : nops};
	w.next = w.nops;
	s->off = 0;
	s->nsegs = 0;
	s->njobs = 0;
	int n;
	for (n = 0; n < MAX_STEPS; n++)
		if (capture_step(s, plan, &w))
			break;
	return !w.full && n < MAX_STEPS;
}

// emit runs the capture plan of one call or return and writes the record
// to the ring buffer. The record wakes the reader only when enough data
// has accumulated (the reader also polls), because a wake-up per event
// costs more than the probe itself.
static __attribute__((noinline)) int emit(struct scratch *s, struct config *cfg, __u32 fn, __u32 kind, __u8 flags)
{
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

// Conditions (`trace --ebpf --if COND`). The entry probe of a function
// with a condition tail-calls its compiled condition, cond_progs[fn] (built
// in Go by pkg/proc/ebpf/cond), which tail-calls cond_progs[functions + R0]:
// tinydbg_cond_pass emits the call, tinydbg_cond_false and
// tinydbg_cond_fault count it and remember it as filtered, so that its
// return is dropped as well and neither reaches user space. A filtered call
// is keyed by goroutine, stack position and function, as user space pairs;
// a call that passes deletes the key a filtered call abandoned by a panic
// may have left at its position.
static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

#define BPF_MAP_TYPE_PROG_ARRAY 3
#define BPF_MAP_TYPE_LRU_HASH 9
#define COND_FILTERED 0 // cond_counts slot: calls whose condition was false
#define COND_FAULTS 1   // and calls whose condition faulted (also filtered)

// cond_enabled is set by the loader when some function has a condition.
volatile const __u32 cond_enabled = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3); // resized by the loader to functions + 3
	__type(key, __u32);
	__type(value, __u32);
} cond_progs SEC(".maps");

struct filter_key {
	__u64 goid;
	__u64 stack_off;
	__u32 fn;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct filter_key);
	__type(value, __u8);
} filtered SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} cond_counts SEC(".maps");

static __attribute__((always_inline)) void cond_key(struct filter_key *k, struct scratch *s, __u32 fn)
{
	k->goid = s->hdr.goid;
	k->stack_off = s->hdr.stack_off;
	k->fn = fn;
	k->pad = 0;
}

// cond_return_dropped reports (and forgets) a return whose call was filtered.
static __attribute__((always_inline)) int cond_return_dropped(struct scratch *s, __u32 fn)
{
	struct filter_key k;
	cond_key(&k, s, fn);
	if (!bpf_map_lookup_elem(&filtered, &k))
		return 0;
	bpf_map_delete_elem(&filtered, &k);
	return 1;
}

// cond_filter counts a call whose condition did not hold and remembers it
// for its return (a site that is also the return has none to drop).
static __attribute__((always_inline)) int cond_filter(void *ctx, __u32 slot)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&cond_counts, &slot);
	if (n)
		*n += 1;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	__u32 cookie = (__u32)bpf_get_attach_cookie(ctx);
	if ((cookie & 3) == PROBE_BOTH)
		return 0;
	struct filter_key k;
	cond_key(&k, s, cookie >> 2);
	__u8 one = 1;
	bpf_map_update_elem(&filtered, &k, &one, 0);
	return 0;
}

SEC("uprobe")
int tinydbg_cond_false(void *ctx)
{
	return cond_filter(ctx, COND_FILTERED);
}

SEC("uprobe")
int tinydbg_cond_fault(void *ctx)
{
	return cond_filter(ctx, COND_FAULTS);
}

// tinydbg_cond_pass continues the entry probe of a call whose condition
// held, with the registers and header the entry left in the scratch.
SEC("uprobe")
int tinydbg_cond_pass(void *ctx)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!cfg || !s)
		return 0;
	__u32 cookie = (__u32)bpf_get_attach_cookie(ctx);
	__u32 fn = cookie >> 2, kind = cookie & 3;
	struct filter_key k;
	cond_key(&k, s, fn);
	bpf_map_delete_elem(&filtered, &k);
	emit(s, cfg, fn, EV_CALL, 0);
	if (kind == PROBE_BOTH)
		emit(s, cfg, fn, EV_RETURN, 0);
	return 0;
}

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

// ---- trace --stats: latency histograms aggregated in the kernel --------
//
// tinydbg_stats is attached instead of tinydbg_trace in --stats mode, at the
// same sites with the same cookies. It captures nothing and writes no
// record: a call stores its time under its activation (goroutine, distance
// of SP below the goroutine's stack top, function: what user space pairs
// by, so recursion pairs right and a goroutine that moved to another
// thread while it blocked still finds its call), and the return adds the
// latency to the function's histogram. Per-thread tools pair by thread,
// which is wrong for Go. The histogram is log2 with 8 linear sub-buckets
// (values below 16 ns have one bucket each), mirrored in Go by
// pkg/proc/event's BucketOf; stats.go reads the per-CPU sums.

enum stats_limits {
	STATS_BUCKETS = 512,    // histogram buckets per function (496 used)
	STATS_EXACT = 16,       // values below are their own bucket
	STATS_SUB_BITS = 3,     // 1 << STATS_SUB_BITS linear sub-buckets per power of two
	STATS_OPEN = 1 << 16,   // open calls tracked at once
};

// stats_constants is never called: its parameter puts stats_limits into
// the BTF, for stats_layout_test.go (see abi_constants).
__attribute__((noinline)) int stats_constants(enum stats_limits *e)
{
	return 0;
}

// stats_key names one activation.
struct stats_key {
	__u64 goid;
	__u64 stack_off;
	__u32 fn;
	__u32 pad;
};

// fn_stats is one function's figures on one CPU.
struct fn_stats {
	__u64 calls;    // entries seen
	__u64 unpaired; // returns whose call was not in open_calls
	__u64 lost;     // calls that found open_calls full: their returns are unpaired
	__u64 max_ns;   // largest latency
	__u64 sum_ns;
	__u64 buckets[STATS_BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	// Resized by the stats loader to STATS_OPEN: the event tracer, which
	// loads every program of the object, then creates only one entry.
	__uint(max_entries, 1);
	__type(key, struct stats_key);
	__type(value, __u64);
} open_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); // resized by the loader to the functions traced
	__type(key, __u32);
	__type(value, struct fn_stats);
} fn_stats SEC(".maps");

// stats_log2 is the index of v's highest set bit (v > 0), by halving: BPF
// has no count-leading-zeros instruction.
static __attribute__((always_inline)) __u32 stats_log2(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __attribute__((always_inline)) __u32 stats_bucket(__u64 ns)
{
	if (ns < STATS_EXACT)
		return (__u32)ns;
	__u32 e = stats_log2(ns); // >= 4
	__u32 sub = (ns >> (e - STATS_SUB_BITS)) & ((1 << STATS_SUB_BITS) - 1);
	return STATS_EXACT + ((e - 4) << STATS_SUB_BITS) + sub;
}

// Counts are added atomically although the values are per CPU: a uprobe
// program runs with migration, not preemption, disabled, so two threads on
// one CPU can interleave in it. A locked add on a line no other CPU writes
// costs little. The max is compared and stored without a lock (this BPF
// target has no compare-and-exchange): two such updates interleaving on
// one CPU could keep the smaller of two maxima.
static __attribute__((always_inline)) void stats_record(struct fn_stats *st, __u64 ns)
{
	__sync_fetch_and_add(&st->buckets[stats_bucket(ns) & (STATS_BUCKETS - 1)], 1);
	__sync_fetch_and_add(&st->sum_ns, ns);
	if (ns > st->max_ns)
		st->max_ns = ns;
}

SEC("uprobe")
int tinydbg_stats(void *ctx)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return 0;
	__u64 pid_tgid = current_pid_tgid(cfg);
	if ((pid_tgid >> 32) != cfg->tgid)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 g = ((__u64 *)ctx)[REG_G], sp = ((__u64 *)ctx)[REG_SP];
	struct stats_key key = {};
	__u64 hi = 0;
	bpf_probe_read_user(&key.goid, sizeof(key.goid), (void *)(g + cfg->goid_offset));
	bpf_probe_read_user(&hi, sizeof(hi), (void *)(g + cfg->stack_hi_offset));
	key.stack_off = hi - sp;
	__u32 cookie = (__u32)bpf_get_attach_cookie(ctx);
	__u32 fn = cookie >> 2, kind = cookie & 3;
	key.fn = fn;
	struct fn_stats *st = bpf_map_lookup_elem(&fn_stats, &fn);
	if (!st) {
		count_drop(DROP_NO_PLAN);
		return 0;
	}
	if (kind == PROBE_CALL) {
		__sync_fetch_and_add(&st->calls, 1);
		if (bpf_map_update_elem(&open_calls, &key, &now, BPF_ANY) < 0)
			__sync_fetch_and_add(&st->lost, 1);
		return 0;
	}
	if (kind == PROBE_BOTH) {
		__sync_fetch_and_add(&st->calls, 1);
		stats_record(st, 0);
		return 0;
	}
	__u64 *start = bpf_map_lookup_elem(&open_calls, &key);
	if (!start) {
		__sync_fetch_and_add(&st->unpaired, 1);
		return 0;
	}
	__u64 ns = now - *start;
	bpf_map_delete_elem(&open_calls, &key);
	stats_record(st, ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
