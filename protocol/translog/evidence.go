package translog

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// evidenceVersion is the first byte of encoded Evidence.
const evidenceVersion = 1

// Evidence is what a participant keeps beside a signed item so that anyone
// can later show, offline, when the log first held it: the item's leaf
// index, the inclusion proof and the signed tree head it leads to. The leaf
// itself is the item's COSE_Sign1 bytes, which travel in their own file.
type Evidence struct {
	Index    uint64
	Proof    []Hash
	TreeHead *SignedTreeHead
}

// Marshal encodes the evidence: version, index, proof (count, hashes), the
// signed tree head.
func (e *Evidence) Marshal() ([]byte, error) {
	if e.TreeHead == nil || len(e.Proof) > MaxProofHashes {
		return nil, fmt.Errorf("%w: evidence without tree head or with %d proof hashes", ErrMalformed, len(e.Proof))
	}
	var b cryptobyte.Builder
	b.AddUint8(evidenceVersion)
	b.AddUint64(e.Index)
	b.AddUint8(uint8(len(e.Proof)))
	for _, h := range e.Proof {
		b.AddBytes(h[:])
	}
	e.TreeHead.build(&b)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return out, nil
}

// UnmarshalEvidence decodes evidence strictly (caps, no trailing bytes). It
// verifies neither the proof nor the signature: VerifyLeaf does.
func UnmarshalEvidence(b []byte) (*Evidence, error) {
	in := cryptobyte.String(b)
	var ver, n uint8
	var e Evidence
	if !in.ReadUint8(&ver) {
		return nil, fmt.Errorf("%w: evidence version", ErrTruncated)
	}
	if ver != evidenceVersion {
		return nil, fmt.Errorf("%w: evidence version %d", ErrMalformed, ver)
	}
	if !in.ReadUint64(&e.Index) || !in.ReadUint8(&n) {
		return nil, fmt.Errorf("%w: evidence", ErrTruncated)
	}
	if n > MaxProofHashes {
		return nil, fmt.Errorf("%w: %d proof hashes", ErrMalformed, n)
	}
	e.Proof = make([]Hash, n)
	for i := range e.Proof {
		var h []byte
		if !in.ReadBytes(&h, 32) {
			return nil, fmt.Errorf("%w: proof hash %d", ErrTruncated, i)
		}
		copy(e.Proof[i][:], h)
	}
	sth, err := parseSTH(&in)
	if err != nil {
		return nil, err
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the evidence", ErrTrailing, len(in))
	}
	if e.Index >= sth.Size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d", ErrMalformed, e.Index, sth.Size)
	}
	e.TreeHead = sth
	return &e, nil
}

// VerifyLeaf checks that leaf is in the tree the evidence's tree head
// signs. The caller checks the tree head's signature (SignedTreeHead.Verify)
// under a log key it trusts and judges its time.
func (e *Evidence) VerifyLeaf(leaf []byte) error {
	return VerifyInclusion(e.Index, e.TreeHead.Size, LeafHash(leaf), e.Proof, e.TreeHead.Root)
}
