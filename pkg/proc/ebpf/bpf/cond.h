// SPDX-License-Identifier: GPL-2.0
//
// cond.h holds what runs around a condition compiled into the kernel: its
// maps and the programs a condition tail-calls to pass or filter a call. It
// is included only by trace.bpf.c, after capture.h.
//
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
