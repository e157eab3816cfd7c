package protocol

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Suite is a DLMS/COSEM security suite (Green Book 9.2.3.7, table 24).
type Suite uint8

const (
	// Suite1 is ECDH/ECDSA P-256, AES-128-GCM, SHA-256.
	Suite1 Suite = 1
	// Suite2 is ECDH/ECDSA P-384, AES-256-GCM, SHA-384.
	Suite2 Suite = 2
)

func (s Suite) valid() error {
	if s != Suite1 && s != Suite2 {
		return fmt.Errorf("%w: %d", ErrUnknownSuite, s)
	}
	return nil
}

// KeyLen is the AES key length of the suite.
func (s Suite) KeyLen() int {
	if s == Suite2 {
		return 32
	}
	return 16
}

// Curve is the ECDH curve of the suite.
func (s Suite) Curve() ecdh.Curve {
	if s == Suite2 {
		return ecdh.P384()
	}
	return ecdh.P256()
}

// SigningCurve is the ECDSA curve of the suite.
func (s Suite) SigningCurve() elliptic.Curve {
	if s == Suite2 {
		return elliptic.P384()
	}
	return elliptic.P256()
}

func (s Suite) hash() func() hash.Hash {
	if s == Suite2 {
		return sha512.New384
	}
	return sha256.New
}

func (s Suite) cryptoHash() crypto.Hash {
	if s == Suite2 {
		return crypto.SHA384
	}
	return crypto.SHA256
}

// algorithmID is the AlgorithmID of the KDF's OtherInfo: the object
// identifier of the AES-GCM key it derives, DER-encoded without tag and
// length (Green Book 9.2.3.4.6.5, table 19: aes-gcm-128 is
// 2.16.840.1.101.3.4.1.6, aes-gcm-256 is 2.16.840.1.101.3.4.1.46).
func (s Suite) algorithmID() []byte {
	if s == Suite2 {
		return []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2E}
	}
	return []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x06}
}

func (s Suite) newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithTagSize(b, TagLen)
}

func (s Suite) checkSigningKey(pub *ecdsa.PublicKey) error {
	if pub == nil || pub.Curve != s.SigningCurve() {
		return fmt.Errorf("%w: signing key is not on the suite's curve", ErrWrongSigner)
	}
	return nil
}
