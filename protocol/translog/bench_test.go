package translog

import (
	"encoding/binary"
	"testing"
)

// BenchmarkAppend is the log's cost per signed item at the head-end: one
// leaf hash and amortised one node hash.
func BenchmarkAppend(b *testing.B) {
	tr := &Tree{}
	leaf := make([]byte, 200) // about a block header's COSE_Sign1
	b.ReportAllocs()
	b.SetBytes(int64(len(leaf)))
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint64(leaf, uint64(i))
		tr.Append(leaf)
	}
}

// BenchmarkVerifyInclusion verifies a proof into a tree of 2^20 leaves (a
// city's blocks for several days), leaf hash included.
func BenchmarkVerifyInclusion(b *testing.B) {
	const n = 1 << 20
	tr := &Tree{}
	var leaf [8]byte
	for i := range uint64(n) {
		binary.BigEndian.PutUint64(leaf[:], i)
		tr.Append(leaf[:])
	}
	root, _ := tr.Root(n)
	const m = 123457
	p, err := tr.InclusionProof(m, n)
	if err != nil {
		b.Fatal(err)
	}
	binary.BigEndian.PutUint64(leaf[:], m)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyInclusion(m, n, LeafHash(leaf[:]), p, root); err != nil {
			b.Fatal(err)
		}
	}
}
