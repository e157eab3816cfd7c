package translog

import "fmt"

// MaxProofHashes caps a proof's length: a tree of 2^63 leaves needs at most
// 63 hashes for inclusion and 2·63 for consistency.
const MaxProofHashes = 128

// VerifyInclusion checks that leafHash is leaf index of the tree of size
// leaves whose root is root, by the algorithm of RFC 9162 §2.1.3.2.
func VerifyInclusion(index, size uint64, leafHash Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("%w: leaf %d not in a tree of %d", ErrInclusion, index, size)
	}
	if len(proof) > MaxProofHashes {
		return fmt.Errorf("%w: %d proof hashes", ErrMalformed, len(proof))
	}
	fn, sn := index, size-1
	r := leafHash
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: proof too long", ErrInclusion)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return fmt.Errorf("%w: leaf %d of %d", ErrInclusion, index, size)
	}
	return nil
}

// VerifyConsistency checks that the tree of size1 leaves with root1 is a
// prefix of the tree of size2 leaves with root2, by the algorithm of RFC
// 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots.
func VerifyConsistency(size1, size2 uint64, root1, root2 Hash, proof []Hash) error {
	switch {
	case size1 == 0 || size1 > size2:
		return fmt.Errorf("%w: consistency of %d and %d leaves", ErrConsistency, size1, size2)
	case len(proof) > MaxProofHashes:
		return fmt.Errorf("%w: %d proof hashes", ErrMalformed, len(proof))
	case size1 == size2:
		if len(proof) != 0 || root1 != root2 {
			return fmt.Errorf("%w: two different trees of %d leaves", ErrConsistency, size1)
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w: empty proof", ErrConsistency)
	}
	path := proof
	if size1&(size1-1) == 0 {
		path = append([]Hash{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: proof too long", ErrConsistency)
		}
		if fn&1 == 1 || fn == sn {
			fr = NodeHash(c, fr)
			sr = NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || fr != root1 || sr != root2 {
		return fmt.Errorf("%w: %d and %d leaves", ErrConsistency, size1, size2)
	}
	return nil
}
