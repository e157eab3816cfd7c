package translog

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// The reference: MTH, PATH and PROOF written out as RFC 9162 §2.1.1,
// §2.1.3.1 and §2.1.4.1 define them, over a plain list of leaves.
func refMTH(d [][]byte) Hash {
	switch len(d) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return LeafHash(d[0])
	}
	k := split(uint64(len(d)))
	return NodeHash(refMTH(d[:k]), refMTH(d[k:]))
}

func refPath(m int, d [][]byte) []Hash {
	if len(d) <= 1 {
		return nil
	}
	k := int(split(uint64(len(d))))
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

func refSubproof(m int, d [][]byte, b bool) []Hash {
	n := len(d)
	if m == n {
		if b {
			return nil
		}
		return []Hash{refMTH(d)}
	}
	k := int(split(uint64(n)))
	if m <= k {
		return append(refSubproof(m, d[:k], b), refMTH(d[k:]))
	}
	return append(refSubproof(m-k, d[k:], false), refMTH(d[:k]))
}

func leaves(n int) [][]byte {
	d := make([][]byte, n)
	for i := range d {
		d[i] = []byte(fmt.Sprintf("leaf %d", i))
	}
	return d
}

// tlogReader serves a tlog.HashReader from the leaves, so x/mod's
// independent implementation of the same RFC 6962/9162 hashing computes
// roots and proofs to compare with.
type tlogReader struct{ stored []tlog.Hash }

func newTlogReader(d [][]byte) *tlogReader {
	r := &tlogReader{}
	for i, l := range d {
		hs, err := tlog.StoredHashes(int64(i), l, r)
		if err != nil {
			panic(err)
		}
		r.stored = append(r.stored, hs...)
	}
	return r
}

func (r *tlogReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = r.stored[x]
	}
	return out, nil
}

func TestTreeAgainstRFCAndTlog(t *testing.T) {
	const max = 70
	d := leaves(max)
	tr := &Tree{}
	r := newTlogReader(d)
	for n := 0; n <= max; n++ {
		if n > 0 {
			tr.Append(d[n-1])
		}
		root, err := tr.Root(uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		if root != refMTH(d[:n]) {
			t.Fatalf("root of %d differs from RFC 9162 MTH", n)
		}
		if n == 0 {
			continue
		}
		th, err := tlog.TreeHash(int64(n), r)
		if err != nil {
			t.Fatal(err)
		}
		if Hash(th) != root {
			t.Fatalf("root of %d differs from x/mod/sumdb/tlog", n)
		}
		for m := 0; m < n; m++ {
			p, err := tr.InclusionProof(uint64(m), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			want := refPath(m, d[:n])
			if fmt.Sprint(p) != fmt.Sprint(want) {
				t.Fatalf("PATH(%d, D[%d]) differs from RFC 9162", m, n)
			}
			tp, err := tlog.ProveRecord(int64(n), int64(m), r)
			if err != nil {
				t.Fatal(err)
			}
			if len(tp) != len(p) {
				t.Fatalf("PATH(%d, D[%d]): %d hashes, tlog %d", m, n, len(p), len(tp))
			}
			for i := range tp {
				if Hash(tp[i]) != p[i] {
					t.Fatalf("PATH(%d, D[%d]) hash %d differs from tlog", m, n, i)
				}
			}
			if err := VerifyInclusion(uint64(m), uint64(n), LeafHash(d[m]), p, root); err != nil {
				t.Fatalf("inclusion %d of %d: %v", m, n, err)
			}
			if err := tlog.CheckRecord(tp, int64(n), th, int64(m), tlog.RecordHash(d[m])); err != nil {
				t.Fatalf("tlog refuses inclusion %d of %d: %v", m, n, err)
			}
			// A wrong leaf, index or proof is refused.
			if err := VerifyInclusion(uint64(m), uint64(n), LeafHash([]byte("other")), p, root); !errors.Is(err, ErrInclusion) {
				t.Fatalf("wrong leaf %d of %d: %v", m, n, err)
			}
			if n > 1 {
				if err := VerifyInclusion(uint64((m+1)%n), uint64(n), LeafHash(d[m]), p, root); !errors.Is(err, ErrInclusion) {
					t.Fatalf("wrong index %d of %d: %v", m, n, err)
				}
				if err := VerifyInclusion(uint64(m), uint64(n), LeafHash(d[m]), p[:len(p)-1], root); !errors.Is(err, ErrInclusion) {
					t.Fatalf("short proof %d of %d: %v", m, n, err)
				}
			}
		}
		for m := 1; m <= n; m++ {
			p, err := tr.ConsistencyProof(uint64(m), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			var want []Hash
			if m < n {
				want = refSubproof(m, d[:n], true)
			}
			if fmt.Sprint(p) != fmt.Sprint(want) {
				t.Fatalf("PROOF(%d, D[%d]) differs from RFC 9162", m, n)
			}
			old := refMTH(d[:m])
			if err := VerifyConsistency(uint64(m), uint64(n), old, root, p); err != nil {
				t.Fatalf("consistency %d..%d: %v", m, n, err)
			}
			tp, err := tlog.ProveTree(int64(n), int64(m), r)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(tp, int64(n), th, int64(m), tlog.Hash(old)); err != nil {
				t.Fatalf("tlog refuses consistency %d..%d: %v", m, n, err)
			}
			if len(tp) != len(p) {
				t.Fatalf("PROOF(%d, D[%d]): %d hashes, tlog %d", m, n, len(p), len(tp))
			}
			for i := range tp {
				if Hash(tp[i]) != p[i] {
					t.Fatalf("PROOF(%d, D[%d]) hash %d differs from tlog", m, n, i)
				}
			}
			if m < n {
				// A log that rewrote leaf 0 after the first head is caught.
				forged := append([][]byte{[]byte("rewritten")}, d[1:n]...)
				if err := VerifyConsistency(uint64(m), uint64(n), old, refMTH(forged), p); !errors.Is(err, ErrConsistency) {
					t.Fatalf("rewritten history %d..%d: %v", m, n, err)
				}
			}
		}
	}
}

func TestVerifyRefusesBadSizes(t *testing.T) {
	var h Hash
	if err := VerifyInclusion(3, 3, h, nil, h); !errors.Is(err, ErrInclusion) {
		t.Fatal(err)
	}
	if err := VerifyConsistency(0, 3, h, h, nil); !errors.Is(err, ErrConsistency) {
		t.Fatal(err)
	}
	if err := VerifyConsistency(4, 3, h, h, nil); !errors.Is(err, ErrConsistency) {
		t.Fatal(err)
	}
	if err := VerifyConsistency(3, 3, h, Hash{1}, nil); !errors.Is(err, ErrConsistency) {
		t.Fatal(err)
	}
	if err := VerifyConsistency(3, 5, h, h, nil); !errors.Is(err, ErrConsistency) {
		t.Fatal(err)
	}
	if _, err := (&Tree{}).InclusionProof(0, 0); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if _, err := NewTree([]Hash{{}}).ConsistencyProof(1, 2); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}
