package protocol

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/veraison/go-cose"
)

// TrustList is what a meter trusts instead of fetching CRLs (DESIGN.md S8):
// an operator-signed, versioned list of the keys allowed to command it or to
// sign its firmware, by role. A meter installs only a list with a higher
// version than the one it holds, so an old list (still naming a revoked key)
// can never be replayed.
type TrustList struct {
	Version uint64       `cbor:"1,keyasint"`
	Issued  int64        `cbor:"2,keyasint"`
	Meter   SystemTitle  `cbor:"3,keyasint"`
	Entries []TrustEntry `cbor:"4,keyasint"`
}

// TrustEntry is one trusted key: its role and its SubjectPublicKeyInfo (DER).
type TrustEntry struct {
	Role Role   `cbor:"1,keyasint"`
	SPKI []byte `cbor:"2,keyasint"`
}

const contentTrustList = "application/vnd.verimeter.trustlist+cbor"

// SignTrustList signs a trust list with the operator's trust-list key.
func SignTrustList(tl TrustList, key *ecdsa.PrivateKey, rand io.Reader) ([]byte, error) {
	p, err := marshal(tl)
	if err != nil {
		return nil, err
	}
	s, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	m := cose.Sign1Message{Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: contentTrustList}}, Payload: p}
	if err := m.Sign(rand, nil, s); err != nil {
		return nil, err
	}
	return m.MarshalCBOR()
}

// VerifyTrustList checks the operator's signature, that the list is for this
// meter and that its version is newer than installed.
func VerifyTrustList(data []byte, operator *ecdsa.PublicKey, meter SystemTitle, installed uint64) (TrustList, error) {
	m, tl, err := parseTrustList(data)
	if err != nil {
		return tl, err
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, operator)
	if err != nil {
		return tl, fmt.Errorf("%w: %w", ErrTrustList, err)
	}
	if err := m.Verify(nil, v); err != nil {
		return tl, fmt.Errorf("%w: %w", ErrTrustList, ErrBadSignature)
	}
	if tl.Meter != meter {
		return tl, fmt.Errorf("%w: list for meter %x", ErrTrustList, tl.Meter)
	}
	if tl.Version <= installed {
		return tl, fmt.Errorf("%w: version %d not newer than installed %d", ErrTrustList, tl.Version, installed)
	}
	return tl, nil
}

// PeekTrustList reads a signed trust list's content without checking its
// signature, with every other check of VerifyTrustList's parse (content
// type, strict CBOR, known roles, parsable keys). It exists for the
// head-end, which relays an operator change to a meter and shows it to
// the approving operator but cannot authorise it (the meter checks the
// trust-list signer's signature); nothing it returns may be trusted.
func PeekTrustList(data []byte) (TrustList, error) {
	_, tl, err := parseTrustList(data)
	return tl, err
}

// parseTrustList is the parse both VerifyTrustList and PeekTrustList do:
// the COSE_Sign1 envelope, the content type and the strict payload.
func parseTrustList(data []byte) (cose.Sign1Message, TrustList, error) {
	var tl TrustList
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(data); err != nil {
		return m, tl, fmt.Errorf("%w: %w", ErrTrustList, err)
	}
	if ct := m.Headers.Protected[cose.HeaderLabelContentType]; ct != contentTrustList {
		return m, tl, fmt.Errorf("%w: content type", ErrTrustList)
	}
	if err := unmarshalStrict(m.Payload, &tl); err != nil {
		return m, tl, fmt.Errorf("%w: %w", ErrTrustList, err)
	}
	for _, e := range tl.Entries {
		if _, ok := roleOIDs[e.Role]; !ok {
			return m, tl, fmt.Errorf("%w: unknown role %q", ErrTrustList, e.Role)
		}
		if _, err := x509.ParsePKIXPublicKey(e.SPKI); err != nil {
			return m, tl, fmt.Errorf("%w: key of role %s: %w", ErrTrustList, e.Role, err)
		}
	}
	return m, tl, nil
}

// Trusts reports whether the list names pub for role.
func (tl *TrustList) Trusts(role Role, pub *ecdsa.PublicKey) bool {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return false
	}
	for _, e := range tl.Entries {
		if e.Role == role && string(e.SPKI) == string(der) {
			return true
		}
	}
	return false
}
