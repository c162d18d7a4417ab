package eval

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// loader returns the shared value loader over the scope's memory.
func (s *Scope) loader() *value.Loader {
	return s.prog.Loader(s.mem)
}

// mapIndex finds a key by walking the map's slots and comparing each key
// with Go's == semantics. Keys whose bytes decide equality (integers,
// pointers, strings) are compared as bytes; others with the general
// comparison. While it walks, target pages are cached: a map's buckets
// are contiguous, so a walk of 100,000 entries costs a few hundred reads.
func (s *Scope) mapIndex(x *evalValue, mt *godwarf.MapType, keyExpr ast.Expr) (*evalValue, error) {
	if x.mapSkip > 0 {
		return nil, errors.New("can not index a sliced map")
	}
	k, err := s.eval(keyExpr)
	if err != nil {
		return nil, err
	}
	if k.unreadable != nil {
		return nil, k.unreadable
	}
	_, ifaceKey := godwarf.ResolveTypedef(mt.Key).(*godwarf.InterfaceType)
	if k.typ == nil {
		keyType := mt.Key
		if ifaceKey {
			keyType = nil // the constant's default type, compared with each dynamic type
		}
		if k, err = s.materialize(k, keyType); err != nil {
			return nil, err
		}
	} else if !value.SameType(k.typ, mt.Key) && !ifaceKey {
		return nil, fmt.Errorf("mismatched types %q and %q", value.TypeName(k.typ), value.TypeName(mt.Key))
	}

	saved := s.mem.Parent
	if saved != nil {
		s.mem.Parent = newPageCache(saved)
		defer func() { s.mem.Parent = saved }()
	}
	match, err := s.keyMatcher(k, mt.Key, ifaceKey)
	if err != nil {
		return nil, err
	}
	var found *evalValue
	err = s.loader().MapEntries(x.addr, x.typ, func(keyAddr, valAddr uint64) bool {
		if match(keyAddr) {
			found = &evalValue{name: x.name + "[" + exprText(keyExpr) + "]", typ: mt.Elem, addr: valAddr, reg: -1}
			return false
		}
		return true
	})
	if found != nil {
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, errors.New("key not found")
}

// keyMatcher returns a test of whether the key stored at an address equals k.
func (s *Scope) keyMatcher(k *evalValue, keyType godwarf.Type, ifaceKey bool) (func(addr uint64) bool, error) {
	if !ifaceKey {
		switch t := godwarf.ResolveTypedef(keyType).(type) {
		case *godwarf.BasicType:
			if t.Kind == reflect.Bool || godwarf.IsIntegerKind(t.Kind) {
				return s.bytesMatcher(k, t.Size())
			}
		case *godwarf.PtrType, *godwarf.ChanType:
			return s.bytesMatcher(k, 8)
		case *godwarf.StringType:
			return s.stringMatcher(k)
		}
	}
	return func(addr uint64) bool {
		cand := &evalValue{typ: keyType, addr: addr, reg: -1}
		if ifaceKey && !value.SameType(k.typ, keyType) {
			d, err := s.ifaceData(cand)
			if err != nil || d == nil || !value.SameType(d.typ, k.typ) {
				return false
			}
			cand = d
		}
		eq, err := s.equal(cand, k, 0)
		return err == nil && eq
	}, nil
}

// bytesMatcher compares keys whose equality is equality of their bytes.
func (s *Scope) bytesMatcher(k *evalValue, size int64) (func(addr uint64) bool, error) {
	want, err := s.readBytes(k.addr, size)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	return func(addr uint64) bool {
		n, err := s.mem.ReadMemory(buf, addr)
		return err == nil && n == len(buf) && bytes.Equal(buf, want)
	}, nil
}

// stringMatcher compares string keys: lengths first, bytes only when
// the lengths agree.
func (s *Scope) stringMatcher(k *evalValue) (func(addr uint64) bool, error) {
	c, err := s.scalar(k)
	if err != nil {
		return nil, err
	}
	if c.Kind() != constant.String {
		return nil, fmt.Errorf("key %s is not a string", k.name)
	}
	want := []byte(constant.StringVal(c))
	buf := make([]byte, len(want))
	return func(addr uint64) bool {
		base, n, err := s.stringHeader(&evalValue{addr: addr})
		if err != nil || n != int64(len(want)) {
			return false
		}
		if n == 0 {
			return true
		}
		got, err := s.mem.ReadMemory(buf, base)
		return err == nil && got == len(buf) && bytes.Equal(buf, want)
	}, nil
}

// sliceMap implements Delve's m[lo:]: the same map, listed from its
// lo-th entry on in the loader's fixed order, so that m[64:] is the page
// after the first 64 entries print shows.
func (s *Scope) sliceMap(x *evalValue, e *ast.SliceExpr) (*evalValue, error) {
	if e.High != nil || e.Max != nil {
		return nil, errors.New("second slice argument must be empty for maps")
	}
	lo := int64(0)
	if e.Low != nil {
		var err error
		if lo, err = s.intIndex(e.Low); err != nil {
			return nil, err
		}
	}
	n, err := s.loader().MapLen(x.addr, x.typ)
	if err != nil {
		return nil, err
	}
	out := *x
	out.mapSkip += lo
	if out.mapSkip >= n {
		return nil, errors.New("map index out of bounds")
	}
	return &out, nil
}

// pageSize is the unit the page cache reads the target in.
const pageSize = 4096

// maxCachedPages bounds the page cache (32 MiB); when it is full it
// starts over rather than tracking use.
const maxCachedPages = 8192

// pageCache serves reads of the target from whole pages, each read once.
// It lives for one map lookup only, while the target is stopped, so it
// can never show stale memory.
type pageCache struct {
	parent Memory
	pages  map[uint64][]byte // nil value: the page could not be read
}

func newPageCache(parent Memory) *pageCache {
	return &pageCache{parent: parent, pages: make(map[uint64][]byte)}
}

// ReadMemory implements Memory. A read touching an unreadable page goes
// to the target as it is, so that the error is the target's own.
func (c *pageCache) ReadMemory(buf []byte, addr uint64) (int, error) {
	if len(buf) > 4*pageSize || addr+uint64(len(buf)) < addr {
		return c.parent.ReadMemory(buf, addr)
	}
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		p := c.page(a &^ (pageSize - 1))
		if p == nil {
			return c.parent.ReadMemory(buf, addr)
		}
		n += copy(buf[n:], p[a&(pageSize-1):])
	}
	return n, nil
}

func (c *pageCache) page(base uint64) []byte {
	if p, ok := c.pages[base]; ok {
		return p
	}
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	p := make([]byte, pageSize)
	if n, err := c.parent.ReadMemory(p, base); err != nil || n != pageSize {
		p = nil
	}
	c.pages[base] = p
	return p
}
