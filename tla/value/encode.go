package value

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A compact encoding of finite values into bytes, so that a model checker
// can keep the states it has yet to explore in pointer-free arenas: the
// garbage collector does not scan them, and a state takes a few hundred
// bytes instead of a graph of small objects. The encoding is private to the
// process (interned strings and model values are written as process-wide
// atom numbers, function domains as numbers of a process-wide table), so it
// is not a wire or storage format. Decoding rebuilds values equal to the
// encoded ones with the same representation: the same atoms, domains shared
// between functions on equal domains, tuples as tuples, a..b as an
// interval.

// ErrNotEncodable is returned by AppendEncoded for values without a compact
// encoding (lazy or infinite sets): the caller keeps such a value as it is.
var ErrNotEncodable = errors.New("value: no compact encoding")

// ErrBadEncoding is returned by Decode for bytes that AppendEncoded did not
// write.
var ErrBadEncoding = errors.New("value: malformed compact encoding")

// Tags of the compact encoding.
const (
	encFalse byte = iota
	encTrue
	encInt
	encStr
	encModel
	encSet
	encInterval
	encTuple
	encFunc // domain number, shape, range
)

// atoms numbers every interned atom of the process, in creation order, so
// that an encoded Str or Model names its atom whatever Interner made it.
var atoms struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*atom] // copy on write: readers load without locks
}

// registerAtom gives a a process-wide number; the Interner calls it under
// its own lock when it creates the atom.
func registerAtom(a *atom) {
	atoms.mu.Lock()
	defer atoms.mu.Unlock()
	var next []*atom
	if old := atoms.list.Load(); old != nil {
		next = make([]*atom, len(*old), len(*old)+1)
		copy(next, *old)
	}
	a.gid = uint32(len(next))
	next = append(next, a)
	atoms.list.Store(&next)
}

func atomByGID(gid uint64) (*atom, bool) {
	l := atoms.list.Load()
	if l == nil || gid >= uint64(len(*l)) {
		return nil, false
	}
	return (*l)[gid], true
}

// domains numbers the distinct domains of non-tuple functions encoded so
// far, keyed by content, and keeps one slice per domain: decoded functions
// on equal domains share it (which lets Compare skip comparing them). A
// model has few distinct domains; past maxDomains a function on a new
// domain has no compact encoding (the checker keeps its state as it is).
// Decoding reads the list through a snapshot published on each
// registration, without a lock.
var domains struct {
	mu     sync.RWMutex
	byHash map[uint64][]uint32
	list   [][]Value
	byID   atomic.Pointer[[][]Value]
}

const maxDomains = 1 << 16

// domainID returns the number of the domain dom, registering it if needed;
// ok is false when the table is full and dom is new.
func domainID(dom []Value) (uint32, bool) {
	h := uint64(seedSet) + uint64(len(dom))
	for _, d := range dom {
		h = Mix(h, d.Hash())
	}
	domains.mu.RLock()
	id, ok := findDomain(h, dom)
	domains.mu.RUnlock()
	if ok {
		return id, true
	}
	domains.mu.Lock()
	defer domains.mu.Unlock()
	if id, ok := findDomain(h, dom); ok {
		return id, true
	}
	if len(domains.list) >= maxDomains {
		return 0, false
	}
	if domains.byHash == nil {
		domains.byHash = map[uint64][]uint32{}
	}
	id = uint32(len(domains.list))
	domains.list = append(domains.list, dom)
	domains.byHash[h] = append(domains.byHash[h], id)
	snap := domains.list[:len(domains.list):len(domains.list)]
	domains.byID.Store(&snap)
	return id, true
}

func findDomain(h uint64, dom []Value) (uint32, bool) {
	for _, id := range domains.byHash[h] {
		d := domains.list[id]
		if len(d) != len(dom) {
			continue
		}
		same := true
		for i := range d {
			if eq, err := Equal(d[i], dom[i]); err != nil || !eq {
				same = false
				break
			}
		}
		if same {
			return id, true
		}
	}
	return 0, false
}

func domainByID(id uint64) ([]Value, bool) {
	l := domains.byID.Load()
	if l == nil || id >= uint64(len(*l)) {
		return nil, false
	}
	return (*l)[id], true
}

// Encoder writes the compact encoding. It remembers the domains it has
// numbered by the identity of their slices (functions built by one record
// constructor or one EXCEPT chain share theirs), so most functions are
// encoded without consulting the shared table. An Encoder is for one
// goroutine; its zero value is ready.
type Encoder struct {
	doms map[*Value]domRef
	// memo holds the encodings of sets and functions met before, by
	// their address: a successor shares its parent's unchanged values and
	// a set of messages shares its messages with the sets before it, so
	// most of a state is copied instead of walked. An entry keeps its value
	// alive, so an address cannot stand for another value while remembered;
	// values are immutable (arena functions, which are not, are never
	// remembered).
	memo  []encMemo
	bytes []byte // the remembered encodings, end to end
}

// encMemo is a remembered encoding: bytes[off:off+n] encodes the value at p.
type encMemo struct {
	p      unsafe.Pointer
	off, n uint32
}

// Bounds of an Encoder's memo: encMemoSlots slots, direct-mapped by
// address; encodings up to encMemoLen bytes; encMemoBytes bytes in all,
// after which the memo starts again empty.
const (
	encMemoBits  = 12
	encMemoSlots = 1 << encMemoBits
	encMemoLen   = 256
	encMemoBytes = 1 << 18
)

// recall returns the slot for the value at p and its remembered encoding,
// if any.
func (e *Encoder) recall(p unsafe.Pointer) (*encMemo, []byte) {
	if e.memo == nil {
		e.memo = make([]encMemo, encMemoSlots)
		TouchPages(e.memo)
	}
	m := &e.memo[addrSlot(addr(p), encMemoBits)]
	if m.p != p {
		return m, nil
	}
	return m, e.bytes[m.off : m.off+m.n]
}

// remember keeps enc, the encoding of the value at p, in slot m.
func (e *Encoder) remember(m *encMemo, p unsafe.Pointer, enc []byte) {
	if len(enc) > encMemoLen {
		return
	}
	if len(e.bytes)+len(enc) > encMemoBytes {
		clear(e.memo)
		e.bytes = e.bytes[:0]
	}
	*m = encMemo{p: p, off: uint32(len(e.bytes)), n: uint32(len(enc))}
	e.bytes = append(e.bytes, enc...)
}

type domRef struct {
	n  int
	id uint32
}

// maxEncoderDoms bounds an Encoder's memory of domain slices.
const maxEncoderDoms = 1 << 12

// AppendEncoded appends the compact encoding of v to buf. Values without
// one (lazy or infinite sets, anywhere inside v) give ErrNotEncodable, with
// buf returned as it was.
func (e *Encoder) AppendEncoded(buf []byte, v Value) ([]byte, error) {
	n := len(buf)
	out, err := e.appendEnc(buf, v)
	if err != nil {
		return buf[:n], err
	}
	return out, nil
}

func (e *Encoder) domain(dom []Value) (uint32, bool) {
	if r, ok := e.doms[&dom[0]]; ok && r.n == len(dom) {
		return r.id, true
	}
	id, ok := domainID(dom)
	if !ok {
		return 0, false
	}
	if e.doms == nil || len(e.doms) >= maxEncoderDoms {
		e.doms = map[*Value]domRef{}
	}
	e.doms[&dom[0]] = domRef{len(dom), id}
	return id, true
}

func (e *Encoder) appendEnc(b []byte, v Value) ([]byte, error) {
	switch x := v.(type) {
	case Bool:
		if x {
			return append(b, encTrue), nil
		}
		return append(b, encFalse), nil
	case Int:
		b = append(b, encInt)
		return binary.AppendVarint(b, int64(x)), nil
	case Str:
		b = append(b, encStr)
		return binary.AppendUvarint(b, uint64(x.a.gid)), nil
	case Model:
		b = append(b, encModel)
		return binary.AppendUvarint(b, uint64(x.a.gid)), nil
	case *Interval:
		b = append(b, encInterval)
		b = binary.AppendVarint(b, int64(x.Lo))
		return binary.AppendVarint(b, int64(x.Hi)), nil
	case *Set:
		return e.appendRemembered(b, unsafe.Pointer(x), v)
	case *Func:
		if x.arena {
			return e.appendFunc(b, x)
		}
		return e.appendRemembered(b, unsafe.Pointer(x), v)
	}
	return b, fmt.Errorf("%w: %s", ErrNotEncodable, v.Kind())
}

// appendRemembered appends the encoding of v, a set or a function at p
// that is not an arena function: the one remembered, or made and then
// remembered.
func (e *Encoder) appendRemembered(b []byte, p unsafe.Pointer, v Value) ([]byte, error) {
	m, enc := e.recall(p)
	if enc != nil {
		return append(b, enc...), nil
	}
	start := len(b)
	var err error
	if s, ok := v.(*Set); ok {
		b = append(b, encSet)
		b = binary.AppendUvarint(b, uint64(len(s.elems)))
		b, err = e.appendBody(b, s.elems)
	} else {
		b, err = e.appendFunc(b, v.(*Func))
	}
	if err == nil {
		e.remember(m, p, b[start:])
	}
	return b, err
}

// appendFunc appends the encoding of a function.
func (e *Encoder) appendFunc(b []byte, x *Func) ([]byte, error) {
	if len(x.dom) == 0 {
		b = append(b, encTuple)
		b = binary.AppendUvarint(b, uint64(len(x.rng)))
	} else {
		id, ok := e.domain(x.dom)
		if !ok {
			return b, fmt.Errorf("%w: more than %d function domains", ErrNotEncodable, maxDomains)
		}
		b = append(b, encFunc, byte(x.shape))
		b = binary.AppendUvarint(b, uint64(id))
	}
	return e.appendBody(b, x.rng)
}

// appendBody appends the byte length of the elements' encodings, then the
// encodings: a Decoder finds a composite value's whole encoding before
// decoding it, to look it up among the values it decoded before.
func (e *Encoder) appendBody(b []byte, elems []Value) ([]byte, error) {
	mark := len(b)
	var err error
	for _, el := range elems {
		if b, err = e.appendEnc(b, el); err != nil {
			return b, err
		}
	}
	n := len(b) - mark
	var hdr [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(hdr[:], uint64(n))
	b = append(b, hdr[:k]...)
	copy(b[mark+k:], b[mark:mark+n])
	copy(b[mark:], hdr[:k])
	return b, nil
}

// Decode reads one value encoded by AppendEncoded from the front of buf and
// returns it with the rest of buf.
func Decode(buf []byte) (Value, []byte, error) {
	return (*Decoder)(nil).Decode(buf)
}

// Decoder decodes the compact encoding and remembers the small composite
// values it decoded (records, messages, small functions), keyed by their
// encoding: states still to explore repeat most of their values, so a
// decoded state shares them with the states decoded before it, as the
// states did when they were generated (sharing also makes comparisons stop
// at equal pointers). A Decoder is for one goroutine; its zero value is
// ready, and a nil *Decoder decodes without remembering.
type Decoder struct {
	cache  []decoded // direct-mapped by a hash of the encoding; nil until used
	stored int       // values stored since cache was made
	// keys holds the encodings of the values in cache, end to end: no
	// allocation per value remembered. When full, it starts again with
	// the cache emptied.
	keys []byte
}

// decoded is a value a Decoder remembers, with its encoding
// keys[off:off+n].
type decoded struct {
	v      Value
	off, n uint32
}

// maxDecoderKeys bounds a Decoder's keys.
const maxDecoderKeys = 1 << 20

// Bounds of a Decoder's memory: encodings up to maxCachedLen bytes, in a
// table of minCacheSlots slots to begin with (a checker makes a Decoder per
// worker, and a small model decodes few values), made
// four times larger, empty, once twice its slots have been stored, up to
// cacheSlots; each slot holds the last value decoded whose encoding hashes
// to it (no rehashing, bounded memory).
const (
	maxCachedLen  = 128
	minCacheSlots = 1 << 9
	cacheSlots    = 1 << 15
)

// cacheSeed seeds the hash of encodings (per process: which values share
// a slot changes only what is remembered, never what is decoded).
var cacheSeed = maphash.MakeSeed()

// Decode reads one value from the front of buf and returns it with the rest.
func (d *Decoder) Decode(buf []byte) (Value, []byte, error) {
	return d.decode(buf, 0)
}

// maxDecodeDepth bounds the nesting Decode follows (values nest far less).
const maxDecodeDepth = 1 << 10

func (d *Decoder) decode(b []byte, depth int) (Value, []byte, error) {
	if len(b) == 0 || depth > maxDecodeDepth {
		return nil, nil, ErrBadEncoding
	}
	whole := b
	tag, b := b[0], b[1:]
	switch tag {
	case encFalse:
		return Bool(false), b, nil
	case encTrue:
		return Bool(true), b, nil
	case encInt:
		i, n := binary.Varint(b)
		if n <= 0 || i != int64(int32(i)) {
			return nil, nil, ErrBadEncoding
		}
		return Int(i), b[n:], nil
	case encStr, encModel:
		gid, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, nil, ErrBadEncoding
		}
		a, ok := atomByGID(gid)
		if !ok {
			return nil, nil, ErrBadEncoding
		}
		if tag == encStr {
			return Str{a}, b[n:], nil
		}
		return Model{a}, b[n:], nil
	case encInterval:
		lo, n := binary.Varint(b)
		if n <= 0 || lo != int64(int32(lo)) {
			return nil, nil, ErrBadEncoding
		}
		b = b[n:]
		hi, n := binary.Varint(b)
		if n <= 0 || hi != int64(int32(hi)) {
			return nil, nil, ErrBadEncoding
		}
		return NewInterval(int32(lo), int32(hi)), b[n:], nil
	case encSet, encTuple, encFunc:
		return d.composite(whole, tag, b, depth)
	}
	return nil, nil, ErrBadEncoding
}

// composite decodes a set, tuple or function whose tag (at whole[0]) has
// been read; b is what follows the tag.
func (d *Decoder) composite(whole []byte, tag byte, b []byte, depth int) (Value, []byte, error) {
	var n uint64 // elements (sets, tuples)
	var dom []Value
	var shape Shape
	if tag == encFunc {
		if len(b) == 0 || Shape(b[0]) > ShapeRecord {
			return nil, nil, ErrBadEncoding
		}
		shape = Shape(b[0])
		id, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return nil, nil, ErrBadEncoding
		}
		var ok bool
		if dom, ok = domainByID(id); !ok {
			return nil, nil, ErrBadEncoding
		}
		n = uint64(len(dom))
		b = b[1+k:]
	} else {
		var k int
		if n, k = binary.Uvarint(b); k <= 0 {
			return nil, nil, ErrBadEncoding
		}
		b = b[k:]
	}
	size, k := binary.Uvarint(b)
	if k <= 0 || size > uint64(len(b)-k) || n > size {
		return nil, nil, ErrBadEncoding // every element takes at least one byte
	}
	body, rest := b[k:k+int(size)], b[k+int(size):]
	key := whole[:len(whole)-len(rest)]
	remember := d != nil && len(key) <= maxCachedLen
	var h uint64
	if remember {
		h = maphash.Bytes(cacheSeed, key)
		if c := d.slot(h); c.v != nil && string(d.keys[c.off:c.off+c.n]) == string(key) {
			return c.v, rest, nil
		}
	}
	// One allocation per value: a function or tuple with its range, a set
	// with its elements (a decoded state is many small values).
	var elems []Value
	var f *Func
	var st *Set
	switch {
	case tag == encTuple && n == 0:
		return EmptyTuple, rest, nil
	case tag == encSet && n == 0:
		return Empty, rest, nil
	case tag == encSet:
		st = allocSet(int(n))
		elems = st.elems
	default:
		f = allocFunc(int(n))
		elems = f.rng
	}
	var err error
	for i := range elems {
		if elems[i], body, err = d.decode(body, depth+1); err != nil {
			return nil, nil, err
		}
	}
	if len(body) != 0 {
		return nil, nil, ErrBadEncoding
	}
	var v Value
	switch tag {
	case encSet:
		st.sum = setSum(len(elems), func(i int) uint64 { return elems[i].Hash() })
		st.hash = setHash(len(elems), st.sum)
		v = st
	case encTuple:
		f.shape = ShapeTuple
		f.hash = f.computeHash()
		v = f
	default:
		f.dom, f.shape = dom, shape
		f.hash = f.computeHash()
		v = f
	}
	if remember {
		d.remember(h, key, v)
	}
	return v, rest, nil
}

// slot is the cache slot of an encoding that hashes to h, the table made
// (or made larger, empty) first if due.
func (d *Decoder) slot(h uint64) *decoded {
	if d.cache == nil || d.stored > 2*len(d.cache) && len(d.cache) < cacheSlots {
		d.cache, d.stored = make([]decoded, max(minCacheSlots, 4*len(d.cache))), 0
		TouchPages(d.cache)
		d.keys = d.keys[:0]
	}
	return &d.cache[h&uint64(len(d.cache)-1)]
}

// remember keeps v, decoded from key (which hashes to h), in its slot.
func (d *Decoder) remember(h uint64, key []byte, v Value) {
	if len(d.keys)+len(key) > maxDecoderKeys {
		clear(d.cache)
		d.keys = d.keys[:0]
	}
	// the slot after that: decoding the elements may have made a new table
	c := d.slot(h)
	*c = decoded{v: v, off: uint32(len(d.keys)), n: uint32(len(key))}
	d.keys = append(d.keys, key...)
	d.stored++
}
