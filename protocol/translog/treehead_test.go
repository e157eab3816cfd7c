package translog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func testKey(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k, make([]byte, KeyIDLen)
}

func testEvidence(t testing.TB) (*Evidence, [][]byte, *ecdsa.PrivateKey) {
	k, id := testKey(t)
	d := leaves(13)
	tr := &Tree{}
	for _, l := range d {
		tr.Append(l)
	}
	root, _ := tr.Root(tr.Size())
	sth, err := SignTreeHead(TreeHead{Size: tr.Size(), Time: time.Unix(1700000000, 123456789), Root: root}, k, id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.InclusionProof(5, tr.Size())
	if err != nil {
		t.Fatal(err)
	}
	return &Evidence{Index: 5, Proof: p, TreeHead: sth}, d, k
}

func TestEvidenceRoundTripAndTruncation(t *testing.T) {
	e, d, k := testEvidence(t)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.TreeHead.Verify(&k.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := got.VerifyLeaf(d[5]); err != nil {
		t.Fatal(err)
	}
	if err := got.VerifyLeaf(d[6]); !errors.Is(err, ErrInclusion) {
		t.Fatalf("other leaf: %v", err)
	}
	if !got.TreeHead.Time.Equal(time.UnixMilli(1700000000123)) {
		t.Fatalf("time %v", got.TreeHead.Time)
	}
	for i := range len(b) {
		if _, err := UnmarshalEvidence(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d: %v", i, err)
		}
	}
	if _, err := UnmarshalEvidence(append(b, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
	sb, err := e.TreeHead.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignedTreeHead(append(sb, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
	for i := range len(sb) {
		if _, err := ParseSignedTreeHead(sb[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d: %v", i, err)
		}
	}
}

func TestTreeHeadSignatureCoversEveryField(t *testing.T) {
	e, _, k := testEvidence(t)
	other, _ := testKey(t)
	if err := e.TreeHead.Verify(&other.PublicKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	for name, change := range map[string]func(s *SignedTreeHead){
		"size": func(s *SignedTreeHead) { s.Size++ },
		"time": func(s *SignedTreeHead) { s.Time = s.Time.Add(-time.Millisecond) },
		"root": func(s *SignedTreeHead) { s.Root[0] ^= 1 },
		"kid":  func(s *SignedTreeHead) { s.KeyID = append([]byte{1}, s.KeyID[1:]...) },
	} {
		s := *e.TreeHead
		change(&s)
		if err := s.Verify(&k.PublicKey); !errors.Is(err, ErrSignature) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

func TestUnmarshalEvidenceRefusesIndexOutsideTree(t *testing.T) {
	e, _, _ := testEvidence(t)
	e.Index = e.TreeHead.Size
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalEvidence(b); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}

func TestConsistencyRoundTrip(t *testing.T) {
	k, id := testKey(t)
	tr := NewTree(nil)
	for _, l := range leaves(5) {
		tr.Append(l)
	}
	r5, _ := tr.Root(5)
	old, _ := SignTreeHead(TreeHead{Size: 5, Time: time.UnixMilli(1), Root: r5}, k, id, rand.Reader)
	for _, l := range leaves(9)[5:] {
		tr.Append(l)
	}
	r9, _ := tr.Root(9)
	nw, _ := SignTreeHead(TreeHead{Size: 9, Time: time.UnixMilli(2), Root: r9}, k, id, rand.Reader)
	p, err := tr.ConsistencyProof(5, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&Consistency{Old: old, New: nw, Proof: p}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := UnmarshalConsistency(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	c.Old.Root[0] ^= 1
	if err := c.Verify(); !errors.Is(err, ErrConsistency) {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := UnmarshalConsistency(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d: %v", i, err)
		}
	}
	if _, err := UnmarshalConsistency(append(b, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatal(err)
	}
}
