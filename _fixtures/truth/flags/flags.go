// Package flags declares a bit-set type whose combined constants are
// declared by another package (main), as os does with io/fs.FileMode.
package flags

// Perm is a set of permission bits.
type Perm uint8

const (
	Read Perm = 1 << iota
	Write
	Exec
)

// Has reports whether all of q's bits are set in p; it gives the package
// code, and so a compile unit that holds its constants.
//
//go:noinline
func (p Perm) Has(q Perm) bool { return p&q == q }
