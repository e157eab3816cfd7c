package protocol

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/veraison/go-cose"
)

// Manifest describes a firmware image after the SUIT information model
// (RFC 9124 section 4): which device model it is for, a monotonic version
// (manifest sequence number), the security version below which the device
// must never go back, and the digest and size of each part. The legally
// relevant (LR) part is the one under legal control (WELMEC 7.2 extension D,
// OIML D 31); its presence requires the metrology authority's signature.
type Manifest struct {
	Model           string     `cbor:"1,keyasint"`
	Version         uint32     `cbor:"2,keyasint"`
	SecurityVersion uint32     `cbor:"3,keyasint"`
	LR              *Component `cbor:"4,keyasint,omitempty"`
	Other           *Component `cbor:"5,keyasint,omitempty"`
	Issued          int64      `cbor:"6,keyasint"` // Unix seconds
}

// Component is one part of the image: its SHA-256 digest and size.
type Component struct {
	Digest Hash   `cbor:"1,keyasint"`
	Size   uint32 `cbor:"2,keyasint"`
}

// Why a manifest or image was refused; each wraps ErrManifest.
var (
	ErrManifestManufacturer = fmt.Errorf("%w: no valid manufacturer signature", ErrManifest)
	ErrManifestAuthority    = fmt.Errorf("%w: legally relevant part without a valid metrology authority signature", ErrManifest)
	ErrManifestModel        = fmt.Errorf("%w: for another device model", ErrManifest)
	ErrManifestDowngrade    = fmt.Errorf("%w: security version below the device's floor", ErrManifest)
	ErrManifestVersion      = fmt.Errorf("%w: version not newer than the installed one", ErrManifest)
	ErrManifestEmpty        = fmt.Errorf("%w: no component", ErrManifest)
	ErrImageDigest          = fmt.Errorf("%w: image does not match the manifest digest", ErrManifest)
	ErrImageSize            = fmt.Errorf("%w: image size differs from the manifest", ErrManifest)
)

const contentManifest = "application/vnd.verimeter.manifest+cbor"

// maxModel caps the model name; maxImage caps a component (16 MiB).
const (
	maxModel = 64
	maxImage = 16 << 20
)

// ManifestSigner is a key that signs manifests under a role.
type ManifestSigner struct {
	KeyID []byte // identifies the signer's certificate (e.g. its subject key id)
	Key   *ecdsa.PrivateKey
}

// SignManifest returns the COSE_Sign (RFC 9052 4.1) of m with one signature
// per signer (the manufacturer first, then the authority when the LR part is
// present).
func SignManifest(m Manifest, rand io.Reader, signers ...ManifestSigner) ([]byte, error) {
	if err := m.wellFormed(); err != nil {
		return nil, err
	}
	payload, err := marshal(m)
	if err != nil {
		return nil, err
	}
	msg := cose.NewSignMessage()
	msg.Headers.Protected = cose.ProtectedHeader{cose.HeaderLabelContentType: contentManifest}
	msg.Payload = payload
	var cs []cose.Signer
	for _, s := range signers {
		signer, err := cose.NewSigner(cose.AlgorithmES256, s.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWrongSigner, err)
		}
		sig := cose.NewSignature()
		sig.Headers.Protected.SetAlgorithm(cose.AlgorithmES256)
		sig.Headers.Unprotected[cose.HeaderLabelKeyID] = s.KeyID
		msg.Signatures = append(msg.Signatures, sig)
		cs = append(cs, signer)
	}
	if err := msg.Sign(rand, nil, cs...); err != nil {
		return nil, err
	}
	return msg.MarshalCBOR()
}

func (m *Manifest) wellFormed() error {
	if m.Model == "" || len(m.Model) > maxModel {
		return fmt.Errorf("%w: model name", ErrManifest)
	}
	if m.LR == nil && m.Other == nil {
		return ErrManifestEmpty
	}
	for _, c := range []*Component{m.LR, m.Other} {
		if c != nil && (c.Size == 0 || c.Size > maxImage) {
			return fmt.Errorf("%w: component size %d", ErrManifest, c.Size)
		}
	}
	return nil
}

// ManifestPolicy is what a device (its fixed legally relevant core) checks a
// manifest against: its model, the installed version, its security-version
// floor, and the keys it trusts for each role, by key id.
type ManifestPolicy struct {
	Model            string
	InstalledVersion uint32
	SecurityFloor    uint32
	Manufacturers    map[string]*ecdsa.PublicKey
	Authorities      map[string]*ecdsa.PublicKey
}

// VerifyManifest checks a signed manifest and returns it. The error names
// the first check that failed, in the order: structure, manufacturer
// signature, authority signature (when the LR part is present), model,
// version, security version.
func VerifyManifest(data []byte, p ManifestPolicy) (Manifest, error) {
	var m Manifest
	var msg cose.SignMessage
	if err := msg.UnmarshalCBOR(data); err != nil {
		return m, fmt.Errorf("%w: COSE_Sign: %w", ErrMalformed, err)
	}
	if ct, ok := msg.Headers.Protected[cose.HeaderLabelContentType]; !ok || ct != contentManifest {
		return m, fmt.Errorf("%w: content type", ErrMalformed)
	}
	if len(msg.Signatures) == 0 || len(msg.Signatures) > 4 {
		return m, ErrManifestManufacturer
	}
	if err := unmarshalStrict(msg.Payload, &m); err != nil {
		return m, err
	}
	if err := m.wellFormed(); err != nil {
		return m, err
	}
	byManufacturer, byAuthority := false, false
	for _, sig := range msg.Signatures {
		alg, err := sig.Headers.Protected.Algorithm()
		if err != nil || alg != cose.AlgorithmES256 {
			continue
		}
		kid, _ := sig.Headers.Unprotected[cose.HeaderLabelKeyID].([]byte)
		for role, keys := range map[*bool]map[string]*ecdsa.PublicKey{&byManufacturer: p.Manufacturers, &byAuthority: p.Authorities} {
			pub, ok := keys[string(kid)]
			if !ok {
				continue
			}
			v, err := cose.NewVerifier(cose.AlgorithmES256, pub)
			if err != nil {
				continue
			}
			if sig.Verify(v, msg.Headers.RawProtected, msg.Payload, nil) == nil {
				*role = true
			}
		}
	}
	switch {
	case !byManufacturer:
		return m, ErrManifestManufacturer
	case m.LR != nil && !byAuthority:
		return m, ErrManifestAuthority
	case m.Model != p.Model:
		return m, ErrManifestModel
	case m.Version <= p.InstalledVersion:
		return m, ErrManifestVersion
	case m.SecurityVersion < p.SecurityFloor:
		return m, ErrManifestDowngrade
	}
	return m, nil
}

// VerifyImage checks a downloaded part against its component: size first,
// then the SHA-256 digest compared in constant time. It runs before
// activation (UC5: verify before activation).
func VerifyImage(c *Component, image []byte) error {
	if c == nil {
		return ErrManifestEmpty
	}
	if uint32(len(image)) != c.Size {
		return fmt.Errorf("%w: %d bytes, manifest says %d", ErrImageSize, len(image), c.Size)
	}
	d := sha256.Sum256(image)
	if subtle.ConstantTimeCompare(d[:], c.Digest[:]) != 1 {
		return ErrImageDigest
	}
	return nil
}

// NewComponent describes an image part.
func NewComponent(image []byte) *Component {
	return &Component{Digest: sha256.Sum256(image), Size: uint32(len(image))}
}
