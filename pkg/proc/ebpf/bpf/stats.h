// SPDX-License-Identifier: GPL-2.0
//
// stats.h holds the --stats program and its maps. It is included only by
// trace.bpf.c, after its programs (it needs abi.h alone).
//
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
