package value

import "sync/atomic"

// FieldCache reads one field of records, remembering the field's position
// in each record domain it has met: records on the same fields share one
// domain slice (RecordMaker, the Decoder), so a scan over a set of
// messages finds m.type by comparing an address instead of searching the
// domain. A compiled m.type keeps one; workers share it.
type FieldCache struct {
	name Str
	// at is 1 + the position of the field in the first record found with
	// it (0: none yet). Records of different fields mostly hold a field
	// at one position (a model's messages are [type |-> ..., ins |-> ...]
	// with more fields after these, and type is first in all), so the
	// field is looked for there first, by one comparison, before the
	// domains remembered in seen. Written once.
	at   atomic.Int32
	seen [8]atomic.Pointer[fieldPos]
}

type fieldPos struct {
	dom *Value // the domain slice's first element: its identity
	i   int
}

// NewFieldCache returns a cache for the field name.
func NewFieldCache(name Str) *FieldCache { return &FieldCache{name: name} }

// Field returns f.name and true when f is a record with that field; false
// otherwise (a function that is no record, a missing field), leaving the
// caller to apply f as usual, with its errors.
func (c *FieldCache) Field(f *Func) (Value, bool) {
	if f.shape != ShapeRecord || len(f.dom) == 0 {
		return nil, false
	}
	if i := int(c.at.Load()) - 1; i >= 0 && i < len(f.dom) && f.dom[i].(Str).a == c.name.a {
		return f.rng[i], true // a record's domain is of strings
	}
	d := &f.dom[0]
	k := 0
	for ; k < len(c.seen); k++ {
		p := c.seen[k].Load()
		if p == nil {
			break
		}
		if p.dom == d {
			return f.rng[p.i], true
		}
	}
	for i, x := range f.dom {
		if x.(Str).a == c.name.a {
			c.at.CompareAndSwap(0, int32(i)+1)
			// Remember the domain in the first free entry, if any; a full
			// cache still answers, by the search.
			for ; k < len(c.seen); k++ {
				if c.seen[k].CompareAndSwap(nil, &fieldPos{d, i}) {
					break
				}
			}
			return f.rng[i], true
		}
	}
	return nil, false
}
