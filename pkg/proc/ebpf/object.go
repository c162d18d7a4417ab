package ebpf

import (
	"bytes"
	_ "embed"
	"fmt"

	cebpf "github.com/cilium/ebpf"
)

// traceObject is bpf/trace.bpf.o, compiled from bpf/trace.bpf.c and the
// headers beside it by bpf/build.sh (`make bpf`) and committed so building
// tinydbg needs no clang.
//
//go:embed bpf/trace.bpf.o
var traceObject []byte

// programName is the uprobe program's function name in trace.bpf.c.
const programName = "tinydbg_trace"

// loadSpec parses the embedded object. Each call returns a fresh spec the
// caller may modify.
func loadSpec() (*cebpf.CollectionSpec, error) {
	spec, err := cebpf.LoadCollectionSpecFromReader(bytes.NewReader(traceObject))
	if err != nil {
		return nil, fmt.Errorf("parsing embedded BPF object: %w", err)
	}
	if spec.Programs[programName] == nil {
		return nil, fmt.Errorf("embedded BPF object lacks program %s", programName)
	}
	return spec, nil
}
