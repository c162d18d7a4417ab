package godwarf

import "reflect"

// Basic returns the basic type under t's typedefs, or nil.
func Basic(t Type) *BasicType {
	b, _ := ResolveTypedef(t).(*BasicType)
	return b
}

// IsIntegerKind reports whether k is one of Go's integer kinds.
func IsIntegerKind(k reflect.Kind) bool {
	return IsSignedKind(k) || IsUnsignedKind(k)
}

// IsSignedKind reports whether k is a signed integer kind.
func IsSignedKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// IsUnsignedKind reports whether k is an unsigned integer kind.
func IsUnsignedKind(k reflect.Kind) bool {
	switch k {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}
