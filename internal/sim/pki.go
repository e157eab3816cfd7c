package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

// PKI is the simulation's certificate hierarchy: the root and the sub-CAs
// of `verimeter pki init` (protocol.SubCAs), built with protocol.NewHierarchy
// as provisioning does, and the key source every simulated party draws
// from. The demo and the adversary campaign issue their certificates here.
type PKI struct {
	*protocol.Hierarchy
	// Rand is the randomness of keys and signatures: crypto/rand in the
	// demo, a seeded reader in a reproducible campaign.
	Rand io.Reader
}

// NewPKI builds the hierarchy, valid from notBefore, with keys drawn
// from rand.
func NewPKI(notBefore time.Time, rand io.Reader) (*PKI, error) {
	p := &PKI{Rand: rand}
	h, err := protocol.NewHierarchy(notBefore, p.newKey, rand)
	if err != nil {
		return nil, fmt.Errorf("sim: PKI: %w", err)
	}
	p.Hierarchy = h
	return p, nil
}

func (p *PKI) newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), p.Rand)
}

// Key returns a new P-256 key; the simulation's randomness does not fail.
func (p *PKI) Key() *ecdsa.PrivateKey {
	k, err := p.newKey()
	if err != nil {
		panic(fmt.Sprintf("sim: key generation: %v", err))
	}
	return k
}

// Issue has sub-CA ca certify pub for id in role, valid from notBefore for
// validity.
func (p *PKI) Issue(ca string, id protocol.Identity, role protocol.Role, pub *ecdsa.PublicKey, notBefore time.Time, validity time.Duration) (*x509.Certificate, error) {
	sub := p.Subs[ca]
	if sub == nil {
		return nil, fmt.Errorf("sim: no sub-CA %q", ca)
	}
	return sub.Issue(id, []protocol.Role{role}, pub, notBefore, validity)
}

// MeterSigner makes a meter's metrological key, has the manufacturer
// sub-CA certify it, and returns the meter's signer with its certificate.
func (p *PKI) MeterSigner(title protocol.SystemTitle, notBefore time.Time, validity time.Duration) (*protocol.MeterSigner, *x509.Certificate, error) {
	k := p.Key()
	c, err := p.Issue("manufacturer", protocol.DeviceIdentity(title, ""), protocol.RoleMeterSigning, &k.PublicKey, notBefore, validity)
	if err != nil {
		return nil, nil, err
	}
	s, err := protocol.NewMeterSigner(title, k, p.Rand)
	return s, c, err
}

// SubCerts returns the sub-CAs' certificates in name order.
func (p *PKI) SubCerts() []*x509.Certificate {
	var cs []*x509.Certificate
	for _, n := range p.SubNames() {
		cs = append(cs, p.Subs[n].Cert)
	}
	return cs
}

// Validator checks participants' and meters' certificates against the
// root, with the sub-CAs as intermediates and the given revocation lists.
func (p *PKI) Validator(crls ...*x509.RevocationList) (*protocol.Validator, error) {
	return protocol.NewValidator([]*x509.Certificate{p.Root.Cert}, p.SubCerts(), crls)
}
