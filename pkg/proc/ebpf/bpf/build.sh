#!/usr/bin/env bash
# build.sh regenerates trace.bpf.o, the committed BPF object embedded by
# pkg/proc/ebpf. Building tinydbg itself never needs clang; run this (via
# `make bpf`) only after editing trace.bpf.c, then commit the new object.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v clang >/dev/null 2>&1 || ! command -v llvm-strip >/dev/null 2>&1; then
	echo "build.sh: installing clang and llvm from Debian" >&2
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang llvm >/dev/null
fi

# -g emits the BTF the loader and the layout test rely on; the DWARF part is
# stripped afterwards so the committed object stays small and deterministic.
clang -O2 -g -target bpf -Wall -Werror -c trace.bpf.c -o trace.bpf.o.tmp
llvm-strip -g trace.bpf.o.tmp
mv trace.bpf.o.tmp trace.bpf.o
echo "build.sh: wrote $(pwd)/trace.bpf.o"
