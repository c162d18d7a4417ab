// Package compat holds tests that drive a tinydbg API server with Delve's
// own JSON-RPC client (github.com/go-delve/delve/service/rpc2), proving
// that the wire format is Delve's. It is a separate module so that the
// main module never depends on Delve.
package compat
