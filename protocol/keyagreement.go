package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// SystemTitle identifies a party of the secure channel and is the first half
// of every nonce it uses (Green Book 4.3.4).
type SystemTitle [SystemTitleLen]byte

// KeyAgreementMessage is one half of the key agreement: the sender's
// ephemeral ECDH public key, signed with its ECDSA channel key (the
// "Ephemeral Unified Model C(2e, 0s)" scheme with signed ephemeral keys of
// Green Book 9.2.3.4.6.3). The responder's signature also covers the
// initiator's ephemeral key, binding the two halves.
type KeyAgreementMessage struct {
	Suite     Suite
	From, To  SystemTitle
	Ephemeral []byte // uncompressed point
	Signature []byte // raw r || s
}

// maxPoint caps the ephemeral key (P-384 uncompressed: 97 bytes).
const maxPoint = 97

// Marshal encodes the message: suite, from, to, and two 1-byte length-prefixed
// fields.
func (m *KeyAgreementMessage) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint8(uint8(m.Suite))
	b.AddBytes(m.From[:])
	b.AddBytes(m.To[:])
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Ephemeral) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Signature) })
	return b.Bytes()
}

// UnmarshalKeyAgreement parses a key agreement message strictly.
func UnmarshalKeyAgreement(p []byte) (KeyAgreementMessage, error) {
	var m KeyAgreementMessage
	s := cryptobyte.String(p)
	var suite uint8
	var from, to, eph, sig []byte
	if !s.ReadUint8(&suite) || !s.ReadBytes(&from, SystemTitleLen) || !s.ReadBytes(&to, SystemTitleLen) ||
		!readU8Prefixed(&s, &eph) || !readU8Prefixed(&s, &sig) {
		return m, ErrTruncated
	}
	if !s.Empty() {
		return m, ErrTrailing
	}
	m.Suite = Suite(suite)
	if err := m.Suite.valid(); err != nil {
		return m, err
	}
	if len(eph) > maxPoint || len(sig) != 2*sigHalf(m.Suite) {
		return m, fmt.Errorf("%w: key agreement field sizes", ErrMalformed)
	}
	copy(m.From[:], from)
	copy(m.To[:], to)
	m.Ephemeral, m.Signature = eph, sig
	return m, nil
}

// AppendTraceTrailer appends to a key agreement frame the 8-byte trace
// value v (big-endian) when v is not 0, and nothing otherwise. Trace
// validation (statemachine/tracecheck) needs to know what each side's
// Channel machine did: the gateway sends the Lamport time of its Rekey, the
// meter answers with the number of the agreement it answered. The value is
// outside the signed message: it orders and numbers trace logs only, and a
// role reads it only while it keeps a trace (a validation run).
func AppendTraceTrailer(frame []byte, v uint64) []byte {
	if v == 0 {
		return frame
	}
	return binary.BigEndian.AppendUint64(frame, v)
}

// UnmarshalKeyAgreementTraced parses a key agreement message strictly,
// followed by nothing or by the 8-byte trace value of AppendTraceTrailer
// (0 when absent).
func UnmarshalKeyAgreementTraced(p []byte) (KeyAgreementMessage, uint64, error) {
	m, err := UnmarshalKeyAgreement(p)
	if !errors.Is(err, ErrTrailing) || len(p) <= 8 {
		return m, 0, err
	}
	n := len(p) - 8
	if m, err = UnmarshalKeyAgreement(p[:n]); err != nil {
		return m, 0, err
	}
	v := binary.BigEndian.Uint64(p[n:])
	if v == 0 {
		return m, 0, fmt.Errorf("%w: a trace value of 0", ErrTrailing)
	}
	return m, v, nil
}

func readU8Prefixed(s *cryptobyte.String, out *[]byte) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) {
		return false
	}
	*out = v
	return true
}

func sigHalf(s Suite) int {
	if s == Suite2 {
		return 48
	}
	return 32
}

// signedContent is what each side signs: a label, the suite, both system
// titles, its ephemeral key and (responder only) the initiator's.
func (m *KeyAgreementMessage) signedContent(peerEphemeral []byte) []byte {
	var b bytes.Buffer
	b.WriteString("verimeter key agreement v1")
	b.WriteByte(byte(m.Suite))
	b.Write(m.From[:])
	b.Write(m.To[:])
	b.WriteByte(byte(len(m.Ephemeral)))
	b.Write(m.Ephemeral)
	b.WriteByte(byte(len(peerEphemeral)))
	b.Write(peerEphemeral)
	return b.Bytes()
}

// KeyAgreement is one party's state during the key agreement.
type KeyAgreement struct {
	suite     Suite
	own, peer SystemTitle
	eph       *ecdh.PrivateKey
	msg       KeyAgreementMessage
	initiator bool
}

// SessionKeys are the result of a key agreement: one key per direction and
// an identifier that is unique per agreement, under which the counter store
// keeps the counters (a fresh agreement means fresh counters, never reused).
type SessionKeys struct {
	Suite            Suite
	KeyID            [8]byte
	Own, Peer        SystemTitle
	SendKey, RecvKey []byte
}

// StartKeyAgreement begins an agreement as initiator (peerEphemeral nil) or
// as responder to the initiator's message.
func StartKeyAgreement(suite Suite, own, peer SystemTitle, signer *ecdsa.PrivateKey, peerEphemeral []byte, rand io.Reader) (*KeyAgreement, KeyAgreementMessage, error) {
	if err := suite.valid(); err != nil {
		return nil, KeyAgreementMessage{}, err
	}
	if err := suite.checkSigningKey(&signer.PublicKey); err != nil {
		return nil, KeyAgreementMessage{}, err
	}
	eph, err := suite.Curve().GenerateKey(rand)
	if err != nil {
		return nil, KeyAgreementMessage{}, err
	}
	m := KeyAgreementMessage{Suite: suite, From: own, To: peer, Ephemeral: eph.PublicKey().Bytes()}
	sig, err := signRaw(signer, suite, m.signedContent(peerEphemeral), rand)
	if err != nil {
		return nil, KeyAgreementMessage{}, err
	}
	m.Signature = sig
	return &KeyAgreement{suite: suite, own: own, peer: peer, eph: eph, msg: m, initiator: peerEphemeral == nil}, m, nil
}

// Finish verifies the peer's message with the peer's channel key (taken from
// its certificate, checked by the caller) and derives the session keys.
func (k *KeyAgreement) Finish(peerMsg KeyAgreementMessage, peerKey *ecdsa.PublicKey) (SessionKeys, error) {
	var sk SessionKeys
	if peerMsg.Suite != k.suite || peerMsg.From != k.peer || peerMsg.To != k.own {
		return sk, fmt.Errorf("%w: key agreement for another suite or party", ErrMalformed)
	}
	if err := k.suite.checkSigningKey(peerKey); err != nil {
		return sk, err
	}
	var covered []byte
	if k.initiator {
		covered = k.msg.Ephemeral // the responder signed our ephemeral key too
	}
	if !verifyRaw(peerKey, k.suite, peerMsg.signedContent(covered), peerMsg.Signature) {
		return sk, fmt.Errorf("%w: key agreement message of %x", ErrBadSignature, peerMsg.From)
	}
	pub, err := k.suite.Curve().NewPublicKey(peerMsg.Ephemeral)
	if err != nil {
		return sk, fmt.Errorf("%w: ephemeral key: %w", ErrMalformed, err)
	}
	z, err := k.eph.ECDH(pub)
	if err != nil {
		return sk, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	u, v := k.own, k.peer
	ue, ve := k.msg.Ephemeral, peerMsg.Ephemeral
	if !k.initiator {
		u, v = v, u
		ue, ve = ve, ue
	}
	other := append(append(append([]byte{}, k.suite.algorithmID()...), u[:]...), v[:]...)
	keys := ConcatKDF(k.suite.hash(), z, other, 2*k.suite.KeyLen())
	uv, vu := keys[:k.suite.KeyLen()], keys[k.suite.KeyLen():]
	id := sha256.New()
	id.Write(ue)
	id.Write(ve)
	id.Write(u[:])
	id.Write(v[:])
	copy(sk.KeyID[:], id.Sum(nil))
	sk.Suite, sk.Own, sk.Peer = k.suite, k.own, k.peer
	if k.initiator {
		sk.SendKey, sk.RecvKey = uv, vu
	} else {
		sk.SendKey, sk.RecvKey = vu, uv
	}
	return sk, nil
}
