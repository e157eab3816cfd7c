package protocol

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"
)

// profileLeaf is one end-entity certificate type of PKI.md, issued by its
// sub-CA, with the extended key usage a standard verifier asks for.
type profileLeaf struct {
	name  string
	ca    string
	id    Identity
	role  Role
	usage x509.ExtKeyUsage
}

func profileLeaves() []profileLeaf {
	meter := SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}
	gw := SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 1}
	return []profileLeaf{
		{"meter signing", "manufacturer", DeviceIdentity(meter, "Nord"), RoleMeterSigning, x509.ExtKeyUsageAny},
		{"meter channel", "manufacturer", DeviceIdentity(meter, ""), RoleMeterChannel, x509.ExtKeyUsageAny},
		{"manufacturer firmware", "manufacturer", Identity{CommonName: "manufacturer firmware"}, RoleManufacturer, x509.ExtKeyUsageCodeSigning},
		{"gateway", "gateway-operator", DeviceIdentity(gw, ""), RoleGateway, x509.ExtKeyUsageClientAuth},
		{"trust-list signer", "gateway-operator", Identity{CommonName: "trust-list signer"}, RoleTrustListSign, x509.ExtKeyUsageAny},
		{"head-end TLS", "head-end-operator", Identity{CommonName: "head-end", Hosts: []string{"localhost", "127.0.0.1"}}, RoleHeadEnd, x509.ExtKeyUsageServerAuth},
		{"operator", "head-end-operator", Identity{CommonName: "operator alice"}, RoleHeadEnd, x509.ExtKeyUsageAny},
		{"supplier", "market-participant", Identity{CommonName: "supplier-a"}, RoleSupplier, x509.ExtKeyUsageClientAuth},
		{"grid operator", "market-participant", Identity{CommonName: "grid operator"}, RoleGridOperator, x509.ExtKeyUsageClientAuth},
		{"participant encryption", "market-participant", Identity{CommonName: "supplier-a encryption"}, RoleEncryption, x509.ExtKeyUsageAny},
		{"authority firmware", "metrology-authority", Identity{CommonName: "metrology authority"}, RoleAuthority, x509.ExtKeyUsageCodeSigning},
	}
}

func newTestHierarchy(t *testing.T, now time.Time) *Hierarchy {
	t.Helper()
	h, err := NewHierarchy(now.Add(-time.Hour), func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader) }, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestProfileChainsVerifyWithGoDefaults: every certificate type of the
// profile verifies with Go's own x509.Verify, the root as the only trust
// anchor, for the extended key usage a standard TLS or code-signing
// verifier asks for, and passes the lint.
func TestProfileChainsVerifyWithGoDefaults(t *testing.T) {
	now := time.Now()
	h := newTestHierarchy(t, now)
	roots := x509.NewCertPool()
	roots.AddCert(h.Root.Cert)
	for _, sub := range h.Subs {
		if f := LintChain([]*x509.Certificate{sub.Cert, h.Root.Cert}, nil); len(f) != 0 {
			t.Errorf("sub-CA %s: %v", sub.Name, f)
		}
	}
	if f := LintChain([]*x509.Certificate{h.Root.Cert}, nil); len(f) != 0 {
		t.Errorf("root: %v", f)
	}
	for _, l := range profileLeaves() {
		k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
		ca := h.Subs[l.ca]
		c, err := ca.Issue(l.id, []Role{l.role}, &k.PublicKey, now.Add(-time.Minute), ParticipantValidity)
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		inter := x509.NewCertPool()
		inter.AddCert(ca.Cert)
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{l.usage}}); err != nil {
			t.Errorf("%s: x509.Verify for usage %d: %v", l.name, l.usage, err)
		}
		if l.usage == x509.ExtKeyUsageServerAuth {
			// A browser-style check: default usages and the host name.
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "127.0.0.1"}); err != nil {
				t.Errorf("%s: default x509.Verify for 127.0.0.1: %v", l.name, err)
			}
		}
		if f := LintChain([]*x509.Certificate{c, ca.Cert}, []*x509.Certificate{h.Root.Cert}); len(f) != 0 {
			t.Errorf("%s: lint: %v", l.name, f)
		}
		if !slices.Equal(c.CRLDistributionPoints, []string{CRLURL(l.ca)}) {
			t.Errorf("%s: CRL distribution points %v", l.name, c.CRLDistributionPoints)
		}
		if got := c.Subject.Country; len(got) != 1 || got[0] != ProfileCountry {
			t.Errorf("%s: subject %s", l.name, c.Subject)
		}
	}
}

// TestIssueRefusesValidityOutsideTheCA: a certificate that would outlive
// its issuer, or start before it, is a typed error, for leaves and sub-CAs.
func TestIssueRefusesValidityOutsideTheCA(t *testing.T) {
	now := time.Now()
	h := newTestHierarchy(t, now)
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	man := h.Subs["manufacturer"]
	st := SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 9}
	if _, err := man.Issue(DeviceIdentity(st, ""), []Role{RoleMeterSigning}, &k.PublicKey, now, 20*year); !errors.Is(err, ErrValidityNotNested) {
		t.Fatalf("meter certificate outliving its CA: %v", err)
	}
	if _, err := man.Issue(DeviceIdentity(st, ""), []Role{RoleMeterSigning}, &k.PublicKey, now.Add(-48*time.Hour), time.Hour*72); !errors.Is(err, ErrValidityNotNested) {
		t.Fatalf("meter certificate starting before its CA: %v", err)
	}
	if _, err := h.Root.NewSubCA("late CA", []Role{RoleSupplier}, k, now, 30*year); !errors.Is(err, ErrValidityNotNested) {
		t.Fatalf("sub-CA outliving the root: %v", err)
	}
	if _, err := man.Issue(DeviceIdentity(st, ""), []Role{RoleMeterSigning}, &k.PublicKey, now, DeviceValidity); err != nil {
		t.Fatalf("nested validity refused: %v", err)
	}
}

// TestLintFindsEachRule: certificates made outside CA.Issue (as another CA
// product might make them) with one departure each get the finding of that
// rule.
func TestLintFindsEachRule(t *testing.T) {
	now := time.Now()
	h := newTestHierarchy(t, now)
	mp := h.Subs["market-participant"]
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	supplierPol, _ := RoleOID(RoleSupplier)
	good := func() *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(7), Subject: pkix.Name{Country: []string{"DE"}, Organization: []string{"o"}, CommonName: "supplier-x"},
			NotBefore: now, NotAfter: now.Add(year), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Policies: []x509.OID{supplierPol},
			BasicConstraintsValid: true, SubjectKeyId: keyID(&k.PublicKey), CRLDistributionPoints: []string{CRLURL("market-participant")},
		}
	}
	make := func(issuer *CA, tmpl *x509.Certificate) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.Cert, &k.PublicKey, issuer.Key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if f := LintChain([]*x509.Certificate{make(mp, good()), mp.Cert}, []*x509.Certificate{h.Root.Cert}); len(f) != 0 {
		t.Fatalf("the well-formed control certificate has findings: %v", f)
	}
	outliving := good()
	outliving.NotAfter = mp.Cert.NotAfter.Add(24 * time.Hour)
	noEKU := good()
	noEKU.ExtKeyUsage = nil
	noCRL := good()
	noCRL.CRLDistributionPoints = nil
	cnOnly := good()
	cnOnly.Subject = pkix.Name{CommonName: "supplier-x"}
	wrongRole := good()
	meterPol, _ := RoleOID(RoleMeterSigning)
	wrongRole.Policies = []x509.OID{meterPol}
	wrongRole.ExtKeyUsage = nil
	cases := []struct {
		name  string
		chain []*x509.Certificate
		want  error
	}{
		{"outlives its CA", []*x509.Certificate{make(mp, outliving), mp.Cert}, ErrLintValidity},
		{"TLS client without id-kp-clientAuth", []*x509.Certificate{make(mp, noEKU), mp.Cert}, ErrLintEKU},
		{"no CRL distribution point", []*x509.Certificate{make(mp, noCRL), mp.Cert}, ErrLintCRLDP},
		{"CN-only subject", []*x509.Certificate{make(mp, cnOnly), mp.Cert}, ErrLintSubject},
		{"role the sub-CA may not certify", []*x509.Certificate{make(mp, wrongRole), mp.Cert}, ErrLintRole},
		{"chain out of order", []*x509.Certificate{mp.Cert, make(mp, good())}, ErrLintChainOrder},
	}
	// A sub-CA listing usages without the one its leaves need (the fault
	// that made curl say "unsuitable certificate purpose").
	subTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(8), Subject: pkix.Name{Country: []string{"DE"}, Organization: []string{"o"}, CommonName: "market-participant CA"},
		NotBefore: now, NotAfter: now.Add(year), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, Policies: []x509.OID{supplierPol},
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true, SubjectKeyId: keyID(&k.PublicKey), CRLDistributionPoints: []string{CRLURL("root")},
	}
	cases = append(cases, struct {
		name  string
		chain []*x509.Certificate
		want  error
	}{"sub-CA without id-kp-clientAuth", []*x509.Certificate{make(h.Root, subTmpl), h.Root.Cert}, ErrLintEKU})
	for _, c := range cases {
		found := LintChain(c.chain, []*x509.Certificate{h.Root.Cert})
		if !slices.ContainsFunc(found, func(f Finding) bool { return errors.Is(f.Err, c.want) }) {
			t.Errorf("%s: findings %v, want %v", c.name, found, c.want)
		}
		for _, f := range found {
			if !errors.Is(f.Err, ErrProfile) {
				t.Errorf("%s: finding %v does not wrap ErrProfile", c.name, f)
			}
		}
	}
}

// BenchmarkIssueDevice: one meter certificate under the profile (the demo
// and provision issue two per meter).
func BenchmarkIssueDevice(b *testing.B) {
	h, err := NewHierarchy(time.Now().Add(-time.Hour), func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader) }, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	st := SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Subs["manufacturer"].Issue(DeviceIdentity(st, "Nord"), []Role{RoleMeterSigning}, &k.PublicKey, time.Now(), DeviceValidity); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLintChain: the lint of one meter certificate with its sub-CA
// (two signature checks dominate).
func BenchmarkLintChain(b *testing.B) {
	h, err := NewHierarchy(time.Now().Add(-time.Hour), func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader) }, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	c, err := h.Subs["manufacturer"].Issue(DeviceIdentity(SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}, ""), []Role{RoleMeterSigning}, &k.PublicKey, time.Now(), DeviceValidity)
	if err != nil {
		b.Fatal(err)
	}
	chain, roots := []*x509.Certificate{c, h.Subs["manufacturer"].Cert}, []*x509.Certificate{h.Root.Cert}
	b.ReportAllocs()
	for b.Loop() {
		if f := LintChain(chain, roots); len(f) != 0 {
			b.Fatal(f)
		}
	}
}
