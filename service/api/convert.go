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
	convertInto(&out, v)
	return out
}

// convertInto is ConvertVar in place: a Variable is large and values nest,
// so returning every child by value would copy it once per level — a
// third of what a trace spends per event on struct arguments.
func convertInto(out *Variable, v *value.Variable) {
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
	if len(v.Children) > 0 {
		out.Children = make([]Variable, len(v.Children))
		for i := range v.Children {
			convertInto(&out.Children[i], &v.Children[i])
		}
	}
}

// FormatVar renders a loaded value on one line, as locals, arguments and
// trace events show it.
func FormatVar(v *value.Variable) string {
	var out Variable
	convertInto(&out, v)
	return out.SinglelineString()
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
