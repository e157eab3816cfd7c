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

// consistencyVersion is the first byte of an encoded Consistency.
const consistencyVersion = 1

// Consistency is what anyone holding two signed tree heads of the log
// keeps or gossips to show the later one extends the earlier one (RFC 9162
// §2.1.4): the log did not rewrite or drop what it had signed.
type Consistency struct {
	Old, New *SignedTreeHead
	Proof    []Hash
}

// Marshal encodes the pair: version, old tree head, new tree head, proof
// (count, hashes).
func (c *Consistency) Marshal() ([]byte, error) {
	if c.Old == nil || c.New == nil || len(c.Proof) > MaxProofHashes {
		return nil, fmt.Errorf("%w: consistency without tree heads or with %d proof hashes", ErrMalformed, len(c.Proof))
	}
	var b cryptobyte.Builder
	b.AddUint8(consistencyVersion)
	c.Old.build(&b)
	c.New.build(&b)
	b.AddUint8(uint8(len(c.Proof)))
	for _, h := range c.Proof {
		b.AddBytes(h[:])
	}
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return out, nil
}

// UnmarshalConsistency decodes a Consistency strictly. It verifies neither
// the signatures nor the proof: Verify does the proof.
func UnmarshalConsistency(b []byte) (*Consistency, error) {
	in := cryptobyte.String(b)
	var ver, n uint8
	if !in.ReadUint8(&ver) {
		return nil, fmt.Errorf("%w: consistency version", ErrTruncated)
	}
	if ver != consistencyVersion {
		return nil, fmt.Errorf("%w: consistency version %d", ErrMalformed, ver)
	}
	var c Consistency
	var err error
	if c.Old, err = parseSTH(&in); err != nil {
		return nil, err
	}
	if c.New, err = parseSTH(&in); err != nil {
		return nil, err
	}
	if !in.ReadUint8(&n) {
		return nil, fmt.Errorf("%w: consistency proof", ErrTruncated)
	}
	if n > MaxProofHashes {
		return nil, fmt.Errorf("%w: %d proof hashes", ErrMalformed, n)
	}
	c.Proof = make([]Hash, n)
	for i := range c.Proof {
		var h []byte
		if !in.ReadBytes(&h, 32) {
			return nil, fmt.Errorf("%w: proof hash %d", ErrTruncated, i)
		}
		copy(c.Proof[i][:], h)
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the consistency proof", ErrTrailing, len(in))
	}
	return &c, nil
}

// Verify checks that the new tree head extends the old one. The caller
// checks both signatures under log keys it trusts.
func (c *Consistency) Verify() error {
	return VerifyConsistency(c.Old.Size, c.New.Size, c.Old.Root, c.New.Root, c.Proof)
}
