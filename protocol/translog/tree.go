package translog

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
)

// Hash is a SHA-256 value of the tree: a leaf hash, a node hash or a root.
type Hash = [32]byte

// LeafHash is RFC 9162 §2.1.1's hash of a leaf: SHA-256(0x00 || leaf). The
// prefix keeps a leaf from passing for an inner node (second preimages).
func LeafHash(leaf []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is RFC 9162 §2.1.1's hash of an inner node:
// SHA-256(0x01 || left || right).
func NodeHash(l, r Hash) Hash {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// emptyRoot is MTH({}) = SHA-256() (RFC 9162 §2.1.1).
var emptyRoot = sha256.Sum256(nil)

// Tree is the log's Merkle tree in memory: every complete, aligned subtree's
// hash (level k holds the subtrees of 2^k leaves), so appending costs O(1)
// amortised and a root or proof O(log² n). The head-end persists the leaf
// hashes and rebuilds a Tree from them on start. Not safe for concurrent
// use.
type Tree struct {
	levels [][]Hash
}

// NewTree returns a tree holding the given leaf hashes, in order.
func NewTree(leafHashes []Hash) *Tree {
	t := &Tree{}
	for _, h := range leafHashes {
		t.AppendHash(h)
	}
	return t
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds a leaf and returns its index.
func (t *Tree) Append(leaf []byte) uint64 { return t.AppendHash(LeafHash(leaf)) }

// AppendHash adds a leaf given its leaf hash and returns its index.
func (t *Tree) AppendHash(h Hash) uint64 {
	idx := t.Size()
	for k := 0; ; k++ {
		if k == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[k] = append(t.levels[k], h)
		n := len(t.levels[k])
		if n%2 == 1 {
			return idx
		}
		h = NodeHash(t.levels[k][n-2], t.levels[k][n-1])
	}
}

// LeafHashAt returns the hash of leaf i.
func (t *Tree) LeafHashAt(i uint64) (Hash, error) {
	if i >= t.Size() {
		return Hash{}, fmt.Errorf("%w: leaf %d of a tree of %d", ErrMalformed, i, t.Size())
	}
	return t.levels[0][i], nil
}

// subtree is MTH(D[lo:hi]) for lo < hi <= Size. A range that is a complete
// aligned subtree is read from the levels; any other is split at the largest
// power of two below its size, as RFC 9162 §2.1.1 defines MTH.
func (t *Tree) subtree(lo, hi uint64) Hash {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		k := bits.TrailingZeros64(n)
		return t.levels[k][lo>>k]
	}
	k := split(n)
	return NodeHash(t.subtree(lo, lo+k), t.subtree(lo+k, hi))
}

// split is the k of RFC 9162 §2.1.1: the largest power of two smaller
// than n (n > 1).
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// Root returns MTH of the first n leaves (n <= Size).
func (t *Tree) Root(n uint64) (Hash, error) {
	if n > t.Size() {
		return Hash{}, fmt.Errorf("%w: root of %d leaves in a tree of %d", ErrMalformed, n, t.Size())
	}
	if n == 0 {
		return emptyRoot, nil
	}
	return t.subtree(0, n), nil
}

// InclusionProof returns PATH(m, D[0:n]) of RFC 9162 §2.1.3.1: the hashes
// that lead from leaf m to the root of the first n leaves, leaf end first.
func (t *Tree) InclusionProof(m, n uint64) ([]Hash, error) {
	if n > t.Size() || m >= n {
		return nil, fmt.Errorf("%w: inclusion of leaf %d in %d leaves of a tree of %d", ErrMalformed, m, n, t.Size())
	}
	return t.path(m, 0, n), nil
}

// path is PATH(m, D[lo:hi]) with m relative to lo.
func (t *Tree) path(m, lo, hi uint64) []Hash {
	n := hi - lo
	if n == 1 {
		return nil
	}
	k := split(n)
	if m < k {
		return append(t.path(m, lo, lo+k), t.subtree(lo+k, hi))
	}
	return append(t.path(m-k, lo+k, hi), t.subtree(lo, lo+k))
}

// ConsistencyProof returns PROOF(m, D[0:n]) of RFC 9162 §2.1.4.1: the
// hashes that show the tree of m leaves is a prefix of the tree of n
// leaves (0 < m <= n <= Size; empty when m == n).
func (t *Tree) ConsistencyProof(m, n uint64) ([]Hash, error) {
	if n > t.Size() || m == 0 || m > n {
		return nil, fmt.Errorf("%w: consistency of %d and %d leaves in a tree of %d", ErrMalformed, m, n, t.Size())
	}
	if m == n {
		return nil, nil
	}
	return t.subproof(m, 0, n, true), nil
}

// subproof is SUBPROOF(m, D[lo:hi], b) with m relative to lo.
func (t *Tree) subproof(m, lo, hi uint64, b bool) []Hash {
	n := hi - lo
	if m == n {
		if b {
			return nil
		}
		return []Hash{t.subtree(lo, hi)}
	}
	k := split(n)
	if m <= k {
		return append(t.subproof(m, lo, lo+k, b), t.subtree(lo+k, hi))
	}
	return append(t.subproof(m-k, lo+k, hi, false), t.subtree(lo, lo+k))
}
