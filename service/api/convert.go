package api

import (
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// ConvertVar describes a loaded value on the wire. It is the one way a
// value.Variable becomes text: every output (terminal, JSON-RPC, DAP, both
// trace backends) converts here and renders with this package's printer.
// An address in the value overlay (a value held in registers or computed)
// is kept and flagged VariableFakeAddress, as Delve does, so that the
// printer tells it from a nil one.
func ConvertVar(v *value.Variable) Variable {
	var out Variable
	c := converter{arena: make([]Variable, countChildren(v))}
	c.into(&out, v)
	return out
}

// converter turns one value tree into its wire form. All of the tree's
// children are carved out of one slice, counted beforehand: one
// allocation per composite (an *http.Request has some hundred) cost a
// fifth of what converting took.
type converter struct {
	arena []Variable
}

// countChildren is the number of nodes below v.
func countChildren(v *value.Variable) int {
	n := len(v.Children)
	for i := range v.Children {
		n += countChildren(&v.Children[i])
	}
	return n
}

// into is ConvertVar in place: a Variable is large and values nest,
// so returning every child by value would copy it once per level.
func (c *converter) into(out *Variable, v *value.Variable) {
	*out = Variable{
		Name: v.Name, Addr: v.Addr, OnlyAddr: v.OnlyAddr, Type: v.Type, Kind: v.Kind,
		Value: v.Value, Len: v.Len, Cap: v.Cap, Base: v.Base,
	}
	out.RealType = out.Type
	if v.DwarfType != nil {
		if rt := godwarf.ResolveTypedef(v.DwarfType); rt != nil {
			if name := rt.String(); name != "" {
				out.RealType = name
			}
		}
	}
	if v.Unreadable != nil {
		out.Unreadable = v.Unreadable.Error()
	}
	if value.IsSynthetic(v.Addr) {
		out.Flags |= VariableFakeAddress
	}
	if n := len(v.Children); n > 0 {
		// Capped at n so that appending to one node's children cannot
		// overwrite the next node's.
		out.Children = c.arena[:n:n]
		c.arena = c.arena[n:]
		for i := range v.Children {
			c.into(&out.Children[i], &v.Children[i])
		}
	}
}

// FormatVar renders a loaded value on one line, as locals, arguments and
// trace events show it.
func FormatVar(v *value.Variable) string {
	b := bufPool.Get().(*outBuf)
	writeTo(b, node{l: v}, prettyOpts{top: true, withType: true}, "")
	s := string(b.b)
	if cap(b.b) <= maxPooledBuf {
		b.b = b.b[:0] // the pool's buffers are empty
		bufPool.Put(b)
	}
	return s
}

// AppendVar appends FormatVar's text of v to dst, for a caller that keeps
// the text of many values in one buffer (a trace, per batch of events).
// It prints the loaded tree itself, which reads as ConvertVar's would: a
// trace prints a tree per event, and building the wire tree first was the
// largest part of what printing an *http.Request cost.
func AppendVar(dst []byte, v *value.Variable) []byte {
	// The printer's buffer escapes through the node interface: a pooled
	// one carries dst rather than one allocated per call.
	b := bufPool.Get().(*outBuf)
	own := b.b
	b.b = dst
	writeTo(b, node{l: v}, prettyOpts{top: true, withType: true}, "")
	dst, b.b = b.b, own[:0]
	bufPool.Put(b)
	return dst
}

// FormatVarMultiline renders a loaded value as the print command does.
func FormatVarMultiline(v *value.Variable) string {
	out := ConvertVar(v)
	return out.MultilineString("", "")
}

// DefaultLoadConfig is value.DefaultLoadConfig on the wire: what Delve
// loads when a client gives no configuration.
var DefaultLoadConfig = loadConfigFromValue(value.DefaultLoadConfig)

// ShortLoadConfig is value.ShortLoadConfig on the wire: what one-line
// listings (locals, args) load.
var ShortLoadConfig = loadConfigFromValue(value.ShortLoadConfig)

func loadConfigFromValue(c value.LoadConfig) LoadConfig {
	return LoadConfig{
		FollowPointers: c.FollowPointers, MaxVariableRecurse: c.MaxVariableRecurse,
		MaxStringLen: c.MaxStringLen, MaxArrayValues: c.MaxArrayValues, MaxStructFields: c.MaxStructFields,
	}
}

// LoadConfigToValue converts a wire load configuration for the loader.
func LoadConfigToValue(c LoadConfig) value.LoadConfig {
	return value.LoadConfig{
		FollowPointers: c.FollowPointers, MaxVariableRecurse: c.MaxVariableRecurse,
		MaxStringLen: c.MaxStringLen, MaxArrayValues: c.MaxArrayValues, MaxStructFields: c.MaxStructFields,
	}
}
