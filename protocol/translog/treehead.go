package translog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// treeHeadContext is signed before the fields, so a tree head signature can
// never be taken for any other signature made with the same key.
const treeHeadContext = "verimeter transparency log tree head v1\x00"

// treeHeadVersion is the first byte of an encoded signed tree head.
const treeHeadVersion = 1

// Caps of the signed tree head encoding.
const (
	// KeyIDLen is the length of the log key's identifier (protocol.SubjectKeyID).
	KeyIDLen = 20
	// MaxSignatureLen caps the ASN.1 ECDSA P-256 signature (72 bytes at most).
	MaxSignatureLen = 80
)

// TreeHead is what a signed tree head states: the log had Size leaves with
// Root at Time by the log's own clock (RFC 9162 §4.10, the fields verimeter
// needs).
type TreeHead struct {
	Size uint64
	Time time.Time // truncated to milliseconds on the wire
	Root Hash
}

// SignedTreeHead is a TreeHead with the log key's identifier and its ECDSA
// signature over the fixed encoding of the head.
type SignedTreeHead struct {
	TreeHead
	KeyID     []byte
	Signature []byte
}

// signedBytes is the fixed encoding the signature covers: the context
// string, the key identifier, size, time in Unix milliseconds, root.
func (h TreeHead) signedBytes(keyID []byte) []byte {
	b := make([]byte, 0, len(treeHeadContext)+KeyIDLen+8+8+32)
	b = append(b, treeHeadContext...)
	b = append(b, keyID...)
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixMilli()))
	return append(b, h.Root[:]...)
}

// SignTreeHead signs h with the log key; keyID names the key
// (protocol.SubjectKeyID of its public key, KeyIDLen bytes).
func SignTreeHead(h TreeHead, key *ecdsa.PrivateKey, keyID []byte, rand io.Reader) (*SignedTreeHead, error) {
	if len(keyID) != KeyIDLen {
		return nil, fmt.Errorf("%w: key id of %d bytes", ErrMalformed, len(keyID))
	}
	h.Time = time.UnixMilli(h.Time.UnixMilli())
	d := sha256.Sum256(h.signedBytes(keyID))
	sig, err := key.Sign(rand, d[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("translog: signing tree head: %w", err)
	}
	return &SignedTreeHead{TreeHead: h, KeyID: append([]byte(nil), keyID...), Signature: sig}, nil
}

// Verify checks the signature under the log's public key (which the caller
// takes from a certificate the PKI issued for the log).
func (s *SignedTreeHead) Verify(pub *ecdsa.PublicKey) error {
	d := sha256.Sum256(s.signedBytes(s.KeyID))
	if !ecdsa.VerifyASN1(pub, d[:], s.Signature) {
		return fmt.Errorf("%w: tree of %d at %s", ErrSignature, s.Size, s.Time.UTC().Format(time.RFC3339))
	}
	return nil
}

// Marshal encodes the signed tree head: version, key id, size, time in Unix
// milliseconds, root, signature with a 16-bit length.
func (s *SignedTreeHead) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	s.build(&b)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return out, nil
}

func (s *SignedTreeHead) build(b *cryptobyte.Builder) {
	b.AddUint8(treeHeadVersion)
	if len(s.KeyID) != KeyIDLen || len(s.Signature) > MaxSignatureLen {
		b.SetError(fmt.Errorf("key id of %d bytes or signature of %d", len(s.KeyID), len(s.Signature)))
		return
	}
	b.AddBytes(s.KeyID)
	b.AddUint64(s.Size)
	b.AddUint64(uint64(s.Time.UnixMilli()))
	b.AddBytes(s.Root[:])
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.Signature) })
}

// ParseSignedTreeHead decodes a signed tree head strictly: known version,
// fields in their caps, nothing after it. It does not verify the signature.
func ParseSignedTreeHead(b []byte) (*SignedTreeHead, error) {
	in := cryptobyte.String(b)
	s, err := parseSTH(&in)
	if err != nil {
		return nil, err
	}
	if !in.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the tree head", ErrTrailing, len(in))
	}
	return s, nil
}

func parseSTH(in *cryptobyte.String) (*SignedTreeHead, error) {
	var (
		ver      uint8
		keyID    []byte
		size, ms uint64
		root     []byte
		sig      cryptobyte.String
	)
	if !in.ReadUint8(&ver) {
		return nil, fmt.Errorf("%w: tree head version", ErrTruncated)
	}
	if ver != treeHeadVersion {
		return nil, fmt.Errorf("%w: tree head version %d", ErrMalformed, ver)
	}
	if !in.ReadBytes(&keyID, KeyIDLen) || !in.ReadUint64(&size) || !in.ReadUint64(&ms) || !in.ReadBytes(&root, 32) || !in.ReadUint16LengthPrefixed(&sig) {
		return nil, fmt.Errorf("%w: tree head", ErrTruncated)
	}
	if len(sig) == 0 || len(sig) > MaxSignatureLen {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(sig))
	}
	if ms > 1<<62 {
		return nil, fmt.Errorf("%w: tree head time %d", ErrMalformed, ms)
	}
	s := &SignedTreeHead{TreeHead: TreeHead{Size: size, Time: time.UnixMilli(int64(ms))}, KeyID: append([]byte(nil), keyID...), Signature: append([]byte(nil), sig...)}
	copy(s.Root[:], root)
	return s, nil
}
