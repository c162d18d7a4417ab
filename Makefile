# tinydbg build and test entry points. `make build` needs only Go; `make test`
# expects root (ptrace, BPF) and runs every test strictly.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-short bench vet fmt differential

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/tinydbg ./cmd/tinydbg

# compat is its own module (it depends on Delve's client, the main module
# never does), so it is tested in its own step.
# The race detector runs over the packages that need no tracee; the ptrace
# and BPF packages run under it in development, where their timing allows.
RACE_PKGS := ./pkg/dwarf/... ./pkg/proc/value ./pkg/proc/probe ./pkg/proc/arch ./pkg/terminal ./service/api ./internal/...

test: build vet
	TINYDBG_STRICT=1 $(GO) test -count=1 -timeout 30m ./...
	TINYDBG_STRICT=1 $(GO) test -race -count=1 -timeout 15m $(RACE_PKGS)
	cd compat && TINYDBG_STRICT=1 $(GO) test -count=1 -timeout 15m ./...

test-short:
	$(GO) test -count=1 -short ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^_fixtures/'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '^_fixtures/'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	cd compat && $(GO) vet ./...

# Rewrites every Go file gofmt would change; vet only reports them.
fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^_fixtures/')

bench: build
	./bench/run.sh

# The differential test in full: gofmt, go and gofumpt, -N -l and optimized,
# the fixtures' three toolchains, 20 functions each, stopped at under tinydbg
# and dlv; writes compat/testdata/differential-results.txt. `make test` runs
# its small fixed slice.
differential:
	cd compat && TINYDBG_STRICT=1 TINYDBG_DIFFERENTIAL=full $(GO) test -count=1 -timeout 150m -run TestDifferential .

# Regenerates the embedded BPF objects (trace.bpf.o, and trace_bounded.bpf.o for
# kernels before 5.17) and their trace.bpf.o.sum from the C
# source with the pinned clang-14 (installed if missing).
.PHONY: bpf
bpf:
	./pkg/proc/ebpf/bpf/build.sh
