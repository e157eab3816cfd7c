package value

import (
	"sync"
	"unsafe"
)

// PermSet is a symmetry group prepared for Hashes, which hashes a value's
// images under all its permutations in one walk of the value instead of
// one walk per permutation, each with a map look-up at every model value
// (MCCheckpointCoordination, 3 nodes: 6 images and the identity for each
// state spent 62 % of its run in PermHash).
type PermSet struct {
	n     int     // images: the identity first, then the permutations
	atoms []*atom // the model values some permutation moves
	imgs  []uint64
	// imgs[i*n+k] is the hash of atoms[i]'s image under image k
	pool sync.Pool // *permScratch
}

// NewPermSet prepares the images of ps, the identity first (image 0),
// then ps in order.
func NewPermSet(ps []Perm) *PermSet {
	s := &PermSet{n: len(ps) + 1}
	seen := map[*atom]bool{}
	for _, p := range ps {
		for m := range p {
			if !seen[m.a] {
				seen[m.a] = true
				s.atoms = append(s.atoms, m.a)
			}
		}
	}
	s.imgs = make([]uint64, len(s.atoms)*s.n)
	for i, a := range s.atoms {
		m := Model{a}
		s.imgs[i*s.n] = m.Hash()
		for k, p := range ps {
			y, ok := p[m]
			if !ok {
				y = m
			}
			s.imgs[i*s.n+k+1] = y.Hash()
		}
	}
	return s
}

// Images is the number of hashes Hashes computes: the permutations and
// the identity.
func (s *PermSet) Images() int { return s.n }

// permScratch holds the sums of each depth of a walk (three rows of n
// hashes per depth) and the image hashes of the functions and sets met
// before, by address: a state shares most of its values with the states
// before it (its parent's unchanged variables, the decoder's values), so
// most of a walk is a look-up. An entry keeps its value alive, so an
// address names one value while remembered; functions made in an arena,
// which reuses its memory, are not remembered. A scratch is used by one
// goroutine at a time (PermSet's pool).
type permScratch struct {
	levels [][]uint64
	memo   []permEntry
	hashes []uint64 // hashes[i*n:(i+1)*n] are memo[i]'s
}

type permEntry struct {
	p       unsafe.Pointer
	uniform bool
}

// permMemoBits sets the size of a scratch's memo: 1<<permMemoBits values,
// direct-mapped by address, for groups of at most permMemoImages images
// (a memo of 5 MiB at most; larger groups walk every value).
const (
	permMemoBits   = 12
	permMemoImages = 128
)

// recall returns the slot of the value at p and whether it holds p's
// hashes (in out, or out[0] when uniform).
func (st *permScratch) recall(p unsafe.Pointer, n int, out []uint64) (int, bool, bool) {
	if n > permMemoImages {
		return -1, false, false
	}
	if st.memo == nil {
		st.memo = make([]permEntry, 1<<permMemoBits)
		st.hashes = make([]uint64, n<<permMemoBits)
	}
	i := int(addrSlot(addr(p), permMemoBits))
	e := &st.memo[i]
	if e.p != p {
		return i, false, false
	}
	if e.uniform {
		out[0] = st.hashes[i*n]
	} else {
		copy(out, st.hashes[i*n:(i+1)*n])
	}
	return i, e.uniform, true
}

// keep remembers in slot i the hashes of the value at p.
func (st *permScratch) keep(i int, p unsafe.Pointer, n int, uniform bool, out []uint64) {
	if i < 0 {
		return
	}
	st.memo[i] = permEntry{p, uniform}
	if uniform {
		st.hashes[i*n] = out[0]
	} else {
		copy(st.hashes[i*n:(i+1)*n], out)
	}
}

func (st *permScratch) level(d, n int) []uint64 {
	for len(st.levels) <= d {
		st.levels = append(st.levels, make([]uint64, 3*n))
	}
	return st.levels[d]
}

// Hashes sets out[0] to PermHash(v, nil) and out[k] to PermHash(v, ps[k-1])
// (len(out) = Images()), with PermHash's errors.
func (s *PermSet) Hashes(v Value, out []uint64) error {
	st, _ := s.pool.Get().(*permScratch)
	if st == nil {
		st = &permScratch{}
	}
	defer s.pool.Put(st)
	uniform, err := s.hashes(v, out, st, 0)
	if err != nil {
		return err
	}
	if uniform {
		for k := 1; k < len(out); k++ {
			out[k] = out[0]
		}
	}
	return nil
}

// hashes computes v's image hashes into out, or only out[0] when it
// reports that they are all equal (v holds no model value a permutation
// moves), as PermHash computes each.
func (s *PermSet) hashes(v Value, out []uint64, st *permScratch, depth int) (bool, error) {
	if depth > maxDecodeDepth {
		return false, ErrNoPermHash
	}
	n := s.n
	switch x := v.(type) {
	case Model:
		for i, a := range s.atoms {
			if a == x.a {
				copy(out, s.imgs[i*n:(i+1)*n])
				return false, nil
			}
		}
		out[0] = x.Hash()
		return true, nil
	case Bool, Int, Str:
		out[0] = v.Hash()
		return true, nil
	case *Set:
		return s.memoized(unsafe.Pointer(x), v, out, st, depth)
	case *Func:
		if x.arena {
			return s.funcHashes(x, out, st, depth)
		}
		return s.memoized(unsafe.Pointer(x), v, out, st, depth)
	case SetValue:
		if _, inf := v.(infinite); inf {
			return false, ErrNoPermHash
		}
		e, err := x.Enumerate()
		if err != nil {
			return false, err
		}
		return s.hashes(e, out, st, depth)
	}
	return false, ErrNoPermHash
}

// memoized is hashes for the set or function v (at p) from st's memo,
// or computed and remembered there.
func (s *PermSet) memoized(p unsafe.Pointer, v Value, out []uint64, st *permScratch, depth int) (bool, error) {
	slot, u, ok := st.recall(p, s.n, out)
	if ok {
		return u, nil
	}
	var err error
	if x, isSet := v.(*Set); isSet {
		u, err = s.setHashes(x, out, st, depth)
	} else {
		u, err = s.funcHashes(v.(*Func), out, st, depth)
	}
	if err == nil {
		st.keep(slot, p, s.n, u, out)
	}
	return u, err
}

// setHashes is hashes for a finite set.
func (s *PermSet) setHashes(x *Set, out []uint64, st *permScratch, depth int) (bool, error) {
	n := s.n
	row := st.level(depth, n)
	sums, h := row[:n], row[n:2*n]
	clear(sums)
	var same uint64
	uniform := true
	for _, e := range x.elems {
		u, err := s.hashes(e, h, st, depth+1)
		if err != nil {
			return false, err
		}
		if u {
			same += elemPart(h[0])
			continue
		}
		uniform = false
		for k := range sums {
			sums[k] += elemPart(h[k])
		}
	}
	if uniform {
		out[0] = setHash(len(x.elems), same)
		return true, nil
	}
	for k := range out {
		out[k] = setHash(len(x.elems), same+sums[k])
	}
	return false, nil
}

// funcHashes is hashes for a function.
func (s *PermSet) funcHashes(x *Func, out []uint64, st *permScratch, depth int) (bool, error) {
	n := s.n
	row := st.level(depth, n)
	sums, dh, rh := row[:n], row[n:2*n], row[2*n:]
	clear(sums)
	var same uint64
	uniform := true
	for i, r := range x.rng {
		du := true
		switch {
		case x.dom == nil && i < len(tupleDomHash):
			dh[0] = tupleDomHash[i]
		case x.dom == nil:
			dh[0] = hashInt(int32(i + 1))
		default:
			var err error
			if du, err = s.hashes(x.dom[i], dh, st, depth+1); err != nil {
				return false, err
			}
		}
		ru, err := s.hashes(r, rh, st, depth+1)
		if err != nil {
			return false, err
		}
		if du && ru {
			same += mix64(entryHash(dh[0], rh[0]) ^ seedPermFunc)
			continue
		}
		uniform = false
		for k := range sums {
			d, r := dh[0], rh[0]
			if !du {
				d = dh[k]
			}
			if !ru {
				r = rh[k]
			}
			sums[k] += mix64(entryHash(d, r) ^ seedPermFunc)
		}
	}
	base := uint64(seedPermFunc) + uint64(len(x.rng))*0x9e3779b97f4a7c15
	if uniform {
		out[0] = mix64(base + same)
		return true, nil
	}
	for k := range out {
		out[k] = mix64(base + same + sums[k])
	}
	return false, nil
}
