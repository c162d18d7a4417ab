// Builds mvdan.cc/gofumpt's own command, a program from the module proxy,
// for the differential test. No package here; `go build mvdan.cc/gofumpt`.
module tinydbg.test/differential/gofumpt

go 1.22

require (
	github.com/google/go-cmp v0.6.0 // indirect
	golang.org/x/mod v0.14.0 // indirect
	golang.org/x/sync v0.6.0 // indirect
	golang.org/x/tools v0.17.0 // indirect
	mvdan.cc/gofumpt v0.7.0 // indirect
)
