package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"

	"github.com/fxamacker/cbor/v2"
)

// Confidentiality towards one market participant (RFC 9052 5.1 COSE_Encrypt
// with one recipient, RFC 9053 6.3.1 direct key agreement ECDH-ES + HKDF).
//
// A signed reading is verifiable by anyone, which is the point of end-to-end
// signatures; but a load profile reveals a household's habits, so a meter or
// the head-end may wrap the signed object so that only the entitled
// participant reads it. The signature stays inside: after decryption the
// participant verifies the meter's COSE_Sign1 exactly as before. A fresh
// ephemeral key per message gives a fresh content key, so the random IV can
// never repeat under one key.
//
// Suite 1: ECDH-ES + HKDF-256 (alg -25) on P-256 with A128GCM (alg 1);
// suite 2: ECDH-ES + HKDF-512 (alg -26) on P-384 with A256GCM (alg 3).

// COSE algorithm and key parameter labels (RFC 9053 Tables 5, 18, 19, 20).
const (
	coseAlgA128GCM       = 1
	coseAlgA256GCM       = 3
	coseAlgECDHESHKDF256 = -25
	coseAlgECDHESHKDF512 = -26
	coseKtyEC2           = 2
	coseCrvP256          = 1
	coseCrvP384          = 2
	coseTagEncrypt       = 96
	coseIVLen            = 12
	maxEncryptedPayload  = 1 << 20
)

// encSuite maps a suite to its COSE parameters.
type encSuite struct {
	suite   Suite
	content int64
	kdf     int64
	crv     int64
	h       func() hash.Hash
}

var encSuites = []encSuite{
	{Suite1, coseAlgA128GCM, coseAlgECDHESHKDF256, coseCrvP256, sha256.New},
	{Suite2, coseAlgA256GCM, coseAlgECDHESHKDF512, coseCrvP384, sha512.New},
}

func encSuiteFor(s Suite) (encSuite, error) {
	for _, e := range encSuites {
		if e.suite == s {
			return e, nil
		}
	}
	return encSuite{}, fmt.Errorf("%w: %d", ErrUnknownSuite, s)
}

// coseEncrypt is COSE_Encrypt = [protected, unprotected, ciphertext, recipients].
type coseEncrypt struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected encUnprotected
	Ciphertext  []byte
	Recipients  []coseRecipient
}

type encUnprotected struct {
	IV []byte `cbor:"5,keyasint"`
}

type coseRecipient struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected recipientUnprotected
	Ciphertext  []byte // empty for direct key agreement
}

type recipientUnprotected struct {
	Ephemeral coseKey `cbor:"-1,keyasint"`
	KeyID     []byte  `cbor:"4,keyasint"`
}

type coseKey struct {
	Kty int64  `cbor:"1,keyasint"`
	Crv int64  `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint"`
}

type algHeader struct {
	Alg int64 `cbor:"1,keyasint"`
}

// kdfContext is COSE_KDF_Context (RFC 9053 5.2) with empty party info.
type kdfContext struct {
	_           struct{} `cbor:",toarray"`
	AlgorithmID int64
	PartyU      [3]any
	PartyV      [3]any
	SuppPub     suppPubInfo
}

type suppPubInfo struct {
	_         struct{} `cbor:",toarray"`
	KeyBits   uint
	Protected []byte
}

// encStructure is Enc_structure (RFC 9052 5.3), the AEAD's additional data.
type encStructure struct {
	_           struct{} `cbor:",toarray"`
	Context     string
	Protected   []byte
	ExternalAAD []byte
}

func (e encSuite) contentKey(shared, recipientProtected []byte) ([]byte, error) {
	keyLen := e.suite.KeyLen()
	info, err := marshal(kdfContext{AlgorithmID: e.content, SuppPub: suppPubInfo{KeyBits: uint(keyLen * 8), Protected: recipientProtected}})
	if err != nil {
		return nil, err
	}
	return hkdf.Key(e.h, shared, nil, string(info), keyLen)
}

// EncryptFor wraps plaintext (typically a meter's COSE_Sign1) as a tagged
// COSE_Encrypt readable only by the holder of the private key of recipient.
// kid names the recipient's encryption certificate; externalAAD binds context
// the recipient must present again (for example the meter's system title).
func EncryptFor(suite Suite, recipient *ecdh.PublicKey, kid, plaintext, externalAAD []byte, rand io.Reader) ([]byte, error) {
	es, err := encSuiteFor(suite)
	if err != nil {
		return nil, err
	}
	if recipient == nil || recipient.Curve() != suite.Curve() {
		return nil, fmt.Errorf("%w: recipient key is not on the suite's curve", ErrUnknownSuite)
	}
	if len(plaintext) > maxEncryptedPayload {
		return nil, fmt.Errorf("%w: payload %d bytes", ErrTooLong, len(plaintext))
	}
	eph, err := suite.Curve().GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, coseIVLen)
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	return encryptWith(es, eph, iv, recipient, kid, plaintext, externalAAD)
}

// encryptWith is EncryptFor with the ephemeral key and IV given, so the
// published COSE example can be reproduced exactly.
func encryptWith(es encSuite, eph *ecdh.PrivateKey, iv []byte, recipient *ecdh.PublicKey, kid, plaintext, externalAAD []byte) ([]byte, error) {
	shared, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthentication, err)
	}
	rprot, err := marshal(algHeader{Alg: es.kdf})
	if err != nil {
		return nil, err
	}
	key, err := es.contentKey(shared, rprot)
	if err != nil {
		return nil, err
	}
	prot, err := marshal(algHeader{Alg: es.content})
	if err != nil {
		return nil, err
	}
	aad, err := marshal(encStructure{Context: "Encrypt", Protected: prot, ExternalAAD: nonNil(externalAAD)})
	if err != nil {
		return nil, err
	}
	aead, err := coseGCM(key)
	if err != nil {
		return nil, err
	}
	pub := eph.PublicKey().Bytes() // 0x04 || X || Y
	n := (len(pub) - 1) / 2
	msg := coseEncrypt{
		Protected:   prot,
		Unprotected: encUnprotected{IV: iv},
		Ciphertext:  aead.Seal(nil, iv, plaintext, aad),
		Recipients: []coseRecipient{{
			Protected:   rprot,
			Unprotected: recipientUnprotected{Ephemeral: coseKey{Kty: coseKtyEC2, Crv: es.crv, X: pub[1 : 1+n], Y: pub[1+n:]}, KeyID: nonNil(kid)},
			Ciphertext:  []byte{},
		}},
	}
	return marshal(cbor.Tag{Number: coseTagEncrypt, Content: msg})
}

// DecryptFrom opens a COSE_Encrypt made by EncryptFor with the recipient's
// private key and returns the plaintext and the kid it was addressed to. The
// structure is parsed strictly (one recipient, known algorithms matching the
// key's curve, a 12-byte IV, no unknown fields, no trailing bytes); any
// tampering fails as ErrAuthentication. The kid is, as in COSE, an
// unprotected hint for choosing the key: altering it changes which key the
// recipient tries, never what a message says.
func DecryptFrom(priv *ecdh.PrivateKey, msg, externalAAD []byte) (plaintext, kid []byte, err error) {
	if len(msg) > maxEncryptedPayload+1024 {
		return nil, nil, fmt.Errorf("%w: message %d bytes", ErrTooLong, len(msg))
	}
	var tag cbor.RawTag
	if err := unmarshalStrict(msg, &tag); err != nil {
		return nil, nil, err
	}
	if tag.Number != coseTagEncrypt {
		return nil, nil, fmt.Errorf("%w: not a tagged COSE_Encrypt", ErrMalformed)
	}
	var m coseEncrypt
	if err := unmarshalStrict(tag.Content, &m); err != nil {
		return nil, nil, err
	}
	if len(m.Recipients) != 1 {
		return nil, nil, fmt.Errorf("%w: %d recipients, want 1", ErrMalformed, len(m.Recipients))
	}
	r := m.Recipients[0]
	var es encSuite
	found := false
	for _, e := range encSuites {
		if e.suite.Curve() == priv.Curve() {
			es, found = e, true
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: key curve", ErrUnknownSuite)
	}
	var ch, rh algHeader
	if err := unmarshalStrict(m.Protected, &ch); err != nil {
		return nil, nil, err
	}
	if err := unmarshalStrict(r.Protected, &rh); err != nil {
		return nil, nil, err
	}
	if ch.Alg != es.content || rh.Alg != es.kdf {
		return nil, nil, fmt.Errorf("%w: algorithms %d/%d do not match the recipient key", ErrUnknownSuite, ch.Alg, rh.Alg)
	}
	if len(m.Unprotected.IV) != coseIVLen {
		return nil, nil, fmt.Errorf("%w: IV of %d bytes", ErrMalformed, len(m.Unprotected.IV))
	}
	if len(r.Ciphertext) != 0 {
		return nil, nil, fmt.Errorf("%w: direct key agreement carries no wrapped key", ErrMalformed)
	}
	ek := r.Unprotected.Ephemeral
	coord := (len(priv.PublicKey().Bytes()) - 1) / 2
	if ek.Kty != coseKtyEC2 || ek.Crv != es.crv || len(ek.X) != coord || len(ek.Y) != coord {
		return nil, nil, fmt.Errorf("%w: ephemeral key is not an uncompressed point on the suite's curve", ErrMalformed)
	}
	point := make([]byte, 0, 1+2*coord)
	point = append(append(append(point, 0x04), ek.X...), ek.Y...)
	eph, err := priv.Curve().NewPublicKey(point)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ephemeral key: %w", ErrMalformed, err)
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrAuthentication, err)
	}
	key, err := es.contentKey(shared, r.Protected)
	if err != nil {
		return nil, nil, err
	}
	aad, err := marshal(encStructure{Context: "Encrypt", Protected: m.Protected, ExternalAAD: nonNil(externalAAD)})
	if err != nil {
		return nil, nil, err
	}
	aead, err := coseGCM(key)
	if err != nil {
		return nil, nil, err
	}
	pt, err := aead.Open(nil, m.Unprotected.IV, m.Ciphertext, aad)
	if err != nil {
		return nil, nil, ErrAuthentication
	}
	return pt, r.Unprotected.KeyID, nil
}

// coseGCM is AES-GCM as COSE defines it (RFC 9053 4.1): 12-byte nonce and a
// full 16-byte tag, unlike the 12-byte tag of the DLMS channel.
func coseGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
