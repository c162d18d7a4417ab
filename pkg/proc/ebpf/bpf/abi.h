// SPDX-License-Identifier: GPL-2.0
//
// abi.h holds what every part of trace.bpf.c shares: the fixed-width types,
// the BPF helpers and map macros (no libbpf headers are needed), the
// constants, structs and maps user space also sees, and the drop counter.
// It is included only by trace.bpf.c, before the other headers.
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
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;

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
