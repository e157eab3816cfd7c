package protocol

import (
	"crypto/sha256"
	"fmt"
)

// The Merkle tree of a load-profile block follows RFC 6962 section 2.1: leaf
// hash H(0x00 || leaf), node hash H(0x01 || left || right), split at the
// largest power of two below n. The domain separation byte means a node can
// never be passed off as a leaf. The block signature covers the root, so a
// single interval verifies with its audit path alone (DESIGN.md UC2).

// Hash is a SHA-256 digest.
type Hash = [32]byte

func leafHash(leaf []byte) Hash {
	var h Hash
	d := sha256.New()
	d.Write([]byte{0})
	d.Write(leaf)
	d.Sum(h[:0])
	return h
}

// intervalsRoot is MerkleRoot(IntervalLeaves(iv)) without a CBOR encoder
// or a heap allocation for a block of up to 128 intervals (a day of
// quarter hours is 96): the head-end recomputes it for every block it
// ingests, the meter for every block it signs.
func intervalsRoot(iv []Interval) Hash {
	var buf [128]Hash
	leaves := buf[:0]
	if len(iv) > len(buf) {
		leaves = make([]Hash, 0, len(iv))
	}
	for _, v := range iv {
		leaves = append(leaves, intervalLeaf(v))
	}
	return MerkleRoot(leaves)
}

func nodeHash(l, r *Hash) Hash {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// MerkleRoot computes the root over leaf hashes.
func MerkleRoot(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := splitPoint(len(leaves))
	l, r := MerkleRoot(leaves[:k]), MerkleRoot(leaves[k:])
	return nodeHash(&l, &r)
}

func splitPoint(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// MerklePath returns the audit path of leaf i (RFC 6962 2.1.1), leaf first.
func MerklePath(leaves []Hash, i int) []Hash {
	if len(leaves) <= 1 {
		return nil
	}
	k := splitPoint(len(leaves))
	if i < k {
		return append(MerklePath(leaves[:k], i), MerkleRoot(leaves[k:]))
	}
	return append(MerklePath(leaves[k:], i-k), MerkleRoot(leaves[:k]))
}

// maxMerklePath bounds a path: 4096 leaves need 12 levels.
const maxMerklePath = 16

// VerifyMerklePath checks that leaf hash h at index i of a tree of n leaves
// has the given root, without allocating.
func VerifyMerklePath(root Hash, h Hash, i, n int, path []Hash) error {
	if i < 0 || i >= n || len(path) > maxMerklePath {
		return fmt.Errorf("%w: index %d of %d", ErrMerkleProof, i, n)
	}
	got, rest, ok := walk(h, i, n, path)
	if !ok || len(rest) != 0 || got != root {
		return ErrMerkleProof
	}
	return nil
}

// walk recomputes the root of a subtree of n leaves containing leaf i; path
// is consumed from its end (the sibling nearest the root comes last).
func walk(h Hash, i, n int, path []Hash) (Hash, []Hash, bool) {
	if n == 1 {
		return h, path, true
	}
	if len(path) == 0 {
		return h, nil, false
	}
	sib := path[len(path)-1]
	path = path[:len(path)-1]
	k := splitPoint(n)
	if i < k {
		l, rest, ok := walk(h, i, k, path)
		return nodeHash(&l, &sib), rest, ok
	}
	r, rest, ok := walk(h, i-k, n-k, path)
	return nodeHash(&sib, &r), rest, ok
}
