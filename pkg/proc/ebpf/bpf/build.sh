#!/usr/bin/env bash
# build.sh regenerates trace.bpf.o, the committed BPF object embedded by
# pkg/proc/ebpf, and trace.bpf.o.sum, which records what it was built from:
# trace.bpf.c, every header beside it (the parts trace.bpf.c includes) and
# this script. Building tinydbg itself never needs clang; run this (via
# `make bpf`) only after editing one of them, then commit the sources, the
# object and the sum. object_test.go fails when a source changed and the
# object did not, and when a header is not in the sum.
#
# The compiler is pinned to one Debian package so the object is the same
# byte for byte wherever it is built; paths are mapped to "." so no build
# directory ends up in it. `build.sh --check` rebuilds into a temporary file
# and fails unless it equals the committed object.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C # the headers' glob, and so the sum, in one order everywhere

CLANG=clang-14
STRIP=llvm-strip-14
COMPILER="Debian clang version 14.0.6"

if ! command -v "$CLANG" >/dev/null 2>&1 || ! command -v "$STRIP" >/dev/null 2>&1; then
	echo "build.sh: installing clang-14 and llvm-14 from Debian" >&2
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang-14 llvm-14 >/dev/null
fi
got="$("$CLANG" --version | head -n1)"
if [ "$got" != "$COMPILER" ]; then
	echo "build.sh: $CLANG is \"$got\", want \"$COMPILER\"" >&2
	exit 1
fi

# Two objects from the same sources: trace.bpf.o, and trace_bounded.bpf.o
# for kernels without bpf_loop (see capture.h).
build() { # build OUT [CFLAGS...]
	local out=$1
	shift
	# -g emits the BTF the loader and the layout test rely on; the DWARF
	# part is stripped afterwards so the committed object stays small.
	"$CLANG" -O2 -g -target bpf -Wall -Werror -ffile-prefix-map="$PWD"=. "$@" -c trace.bpf.c -o "$out.tmp"
	"$STRIP" -g "$out.tmp"
	mv "$out.tmp" "$out"
}

if [ "${1:-}" = "--check" ]; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	build "$tmp/trace.bpf.o"
	build "$tmp/trace_bounded.bpf.o" -DTINYDBG_BOUNDED_LOOP
	for obj in trace.bpf.o trace_bounded.bpf.o; do
		if ! cmp -s "$tmp/$obj" "$obj"; then
			echo "build.sh: $obj differs from what trace.bpf.c and its headers build to; run make bpf" >&2
			exit 1
		fi
	done
	echo "build.sh: trace.bpf.o and trace_bounded.bpf.o are what trace.bpf.c and its headers build to"
	exit 0
fi
build trace.bpf.o
build trace_bounded.bpf.o -DTINYDBG_BOUNDED_LOOP
{
	echo "compiler: $COMPILER"
	sha256sum trace.bpf.c *.h build.sh trace.bpf.o trace_bounded.bpf.o
} >trace.bpf.o.sum
echo "build.sh: wrote $(pwd)/trace.bpf.o, trace_bounded.bpf.o and trace.bpf.o.sum"
