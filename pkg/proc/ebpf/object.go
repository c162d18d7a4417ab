package ebpf

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
)

// traceObject is bpf/trace.bpf.o, compiled from bpf/trace.bpf.c and the
// headers beside it by bpf/build.sh (`make bpf`) and committed so building
// tinydbg needs no clang.
//
//go:embed bpf/trace.bpf.o
var traceObject []byte

// boundedObject is the same program built with a bounded loop in place
// of bpf_loop, for kernels before 5.17; verifying it costs five times as
// much.
//
//go:embed bpf/trace_bounded.bpf.o
var boundedObject []byte

// useBoundedLoop makes loadSpec take boundedObject whatever the kernel
// has; the tests set it to run that object here too.
var useBoundedLoop bool

// haveLoop reports whether uprobe programs may call bpf_loop, as
// traceObject does.
var haveLoop = sync.OnceValue(func() bool {
	return features.HaveProgramHelper(cebpf.Kprobe, asm.FnLoop) == nil
})

// object is the BPF object this kernel loads.
func object() []byte {
	if useBoundedLoop || !haveLoop() {
		return boundedObject
	}
	return traceObject
}

// programName is the uprobe program's function name in trace.bpf.c.
const programName = "tinydbg_trace"

// loadSpec parses the embedded object. Each call returns a fresh spec the
// caller may modify.
func loadSpec() (*cebpf.CollectionSpec, error) {
	spec, err := cebpf.LoadCollectionSpecFromReader(bytes.NewReader(object()))
	if err != nil {
		return nil, fmt.Errorf("parsing embedded BPF object: %w", err)
	}
	if spec.Programs[programName] == nil {
		return nil, fmt.Errorf("embedded BPF object lacks program %s", programName)
	}
	return spec, nil
}
