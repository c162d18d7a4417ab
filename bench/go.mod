module github.com/tinydbg/tinydbg/bench

go 1.26.0

require (
	github.com/go-delve/delve v1.27.2
	golang.org/x/sys v0.50.0
)

require (
	github.com/mattn/go-isatty v0.0.20 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/arch v0.33.0 // indirect
	golang.org/x/telemetry v0.0.0-20241106142447-58a1122356f5 // indirect
)

require (
	github.com/cilium/ebpf v0.22.0
	github.com/tinydbg/tinydbg v0.0.0-00010101000000-000000000000
)

// The floor of the trace step probes the sites tinydbg's own probe package
// finds, so that it measures the same mechanism on the same instructions.
replace github.com/tinydbg/tinydbg => ../
