package value

import "fmt"

// seedPermFunc seeds PermHash's order-free hash of a function.
const seedPermFunc = 0x8ebc6af09c88c6e3

// ErrNoPermHash is returned by PermHash for a value it cannot hash without
// building it (an infinite set); the caller permutes the value instead.
var ErrNoPermHash = fmt.Errorf("%w: no symmetric hash of this value", ErrType)

// PermHash is a hash of Permute(v, p) computed without building it: a
// set's hash as Hash computes it (a sum over the elements, whose order a
// permutation changes), a function's as a sum over its entries, so that
// no permuted domain needs sorting. It is a function of the value alone
// (equal values, whatever their representation, hash alike; PermHash(v, p)
// = PermHash(Permute(v, p), identity)), but not Hash: it exists so that a
// SYMMETRY fingerprint can be the least hash over a state's images, which
// is the same for every state of an orbit, at the cost of hashing each
// image instead of permuting, sorting and comparing it.
func PermHash(v Value, p Perm) (uint64, error) {
	switch x := v.(type) {
	case Model:
		if y, ok := p[x]; ok {
			return y.Hash(), nil
		}
		return x.Hash(), nil
	case Bool, Int, Str:
		return v.Hash(), nil
	case *Set:
		var sum uint64
		for _, e := range x.elems {
			h, err := PermHash(e, p)
			if err != nil {
				return 0, err
			}
			sum += elemPart(h)
		}
		return setHash(len(x.elems), sum), nil
	case *Func:
		var sum uint64
		for i, r := range x.rng {
			var dh uint64
			switch {
			case x.dom == nil && i < len(tupleDomHash):
				dh = tupleDomHash[i]
			case x.dom == nil:
				dh = hashInt(int32(i + 1))
			default:
				var err error
				if dh, err = PermHash(x.dom[i], p); err != nil {
					return 0, err
				}
			}
			rh, err := PermHash(r, p)
			if err != nil {
				return 0, err
			}
			sum += mix64(entryHash(dh, rh) ^ seedPermFunc)
		}
		return mix64(uint64(seedPermFunc) + uint64(len(x.rng))*0x9e3779b97f4a7c15 + sum), nil
	case SetValue:
		if _, inf := v.(infinite); inf {
			return 0, ErrNoPermHash
		}
		e, err := x.Enumerate()
		if err != nil {
			return 0, err
		}
		return PermHash(e, p)
	}
	return 0, ErrNoPermHash
}
