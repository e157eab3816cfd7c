package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

type testPKI struct {
	root, manufacturers, participants *CA
	t0                                time.Time
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader); return k }
	root, err := NewRootCA("verimeter root", key(), t0, 20*365*24*time.Hour, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	man, err := root.NewSubCA("manufacturer CA", []Role{RoleMeterChannel, RoleMeterSigning, RoleManufacturer}, key(), t0, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := root.NewSubCA("market participant CA", []Role{RoleSupplier, RoleGridOperator}, key(), t0, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{root: root, manufacturers: man, participants: mp, t0: t0}
}

func TestPKIRolesAndStatusAtSigningTime(t *testing.T) {
	p := newTestPKI(t)
	meter, _ := titles()
	mk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	cert, err := p.manufacturers.Issue(Identity{CommonName: "meter 1", SystemTitle: &meter}, []Role{RoleMeterSigning}, &mk.PublicKey, p.t0, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := CertSystemTitle(cert); !ok || st != meter {
		t.Fatal("system title not bound in the certificate")
	}
	invalid := p.t0.Add(100 * 24 * time.Hour)
	crl, err := p.manufacturers.NewCRL([]Revocation{{Serial: cert.SerialNumber, RevokedAt: invalid.Add(10 * 24 * time.Hour), InvalidAt: invalid, ReasonCode: 1}}, 1, invalid.Add(10*24*time.Hour), invalid.Add(40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator([]*x509.Certificate{p.root.Cert}, []*x509.Certificate{p.manufacturers.Cert, p.participants.Cert}, []*x509.RevocationList{crl})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		role Role
		at   time.Time
		want error
	}{
		{"signed while valid, judged after revocation", RoleMeterSigning, invalid.Add(-time.Hour), nil},
		{"signed after the invalidity date", RoleMeterSigning, invalid.Add(time.Hour), ErrRevoked},
		{"after expiry", RoleMeterSigning, p.t0.Add(400 * 24 * time.Hour), ErrExpired},
		{"wrong role", RoleSupplier, p.t0.Add(time.Hour), ErrRole},
	}
	for _, c := range cases {
		if err := v.Check(cert, c.role, c.at); c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A sub-CA for market participants cannot vouch for a meter.
	if _, err := p.participants.Issue(Identity{CommonName: "fake meter", SystemTitle: &meter}, []Role{RoleMeterSigning}, &mk.PublicKey, p.t0, time.Hour); !errors.Is(err, ErrRole) {
		t.Fatalf("participant CA issued a meter certificate: %v", err)
	}
	rogue, err := p.participants.Issue(Identity{CommonName: "fake meter", SystemTitle: &meter}, []Role{RoleSupplier}, &mk.PublicKey, p.t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(rogue, RoleMeterSigning, p.t0); !errors.Is(err, ErrRole) {
		t.Fatalf("supplier cert as meter: %v", err)
	}
	if _, err := p.participants.Issue(Identity{CommonName: "x"}, []Role{"janitor"}, &mk.PublicKey, p.t0, time.Hour); !errors.Is(err, ErrRole) {
		t.Fatalf("unknown role: %v", err)
	}

	// The signature verifier judges status at each reading's time.
	dir, err := NewMeterDirectory(v, []*x509.Certificate{cert})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := NewMeterSigner(meter, mk, rand.Reader)
	ver := NewVerifier(dir)
	before, _ := signer.SignReading(Reading{Meter: meter, Counter: 1, Time: invalid.Add(-time.Hour).Unix(), OBIS: ActiveEnergyImport, Value: 1})
	after, _ := signer.SignReading(Reading{Meter: meter, Counter: 2, Time: invalid.Add(time.Hour).Unix(), OBIS: ActiveEnergyImport, Value: 2})
	if _, err := ver.VerifyReading(before); err != nil {
		t.Fatalf("reading signed while valid: %v", err)
	}
	if _, err := ver.VerifyReading(after); !errors.Is(err, ErrRevoked) {
		t.Fatalf("reading signed after the invalidity date: %v", err)
	}
}

func TestTrustList(t *testing.T) {
	meter, _ := titles()
	op, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	he, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&he.PublicKey)
	tl := TrustList{Version: 3, Issued: 1, Meter: meter, Entries: []TrustEntry{{Role: RoleHeadEnd, SPKI: spki}}}
	data, err := SignTrustList(tl, op, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyTrustList(data, &op.PublicKey, meter, 2)
	if err != nil || !got.Trusts(RoleHeadEnd, &he.PublicKey) || got.Trusts(RoleSupplier, &he.PublicKey) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := VerifyTrustList(data, &op.PublicKey, meter, 3); !errors.Is(err, ErrTrustList) {
		t.Fatalf("replayed list: %v", err)
	}
	other, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	if _, err := VerifyTrustList(data, &other.PublicKey, meter, 0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong operator: %v", err)
	}
}

// TestOpenSSLVerifiesChainAndCRL checks certificates, chain and CRL with the
// openssl command line.
func TestOpenSSLVerifiesChainAndCRL(t *testing.T) {
	openssl := requireOpenSSL(t)
	p := newTestPKI(t)
	meter, _ := titles()
	mk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	now := time.Now()
	good, _ := p.manufacturers.Issue(Identity{CommonName: "meter good", SystemTitle: &meter}, []Role{RoleMeterChannel}, &mk.PublicKey, now.Add(-time.Hour), 24*time.Hour)
	bad, _ := p.manufacturers.Issue(Identity{CommonName: "meter revoked", SystemTitle: &meter}, []Role{RoleMeterChannel}, &mk.PublicKey, now.Add(-time.Hour), 24*time.Hour)
	crl, err := p.manufacturers.NewCRL([]Revocation{{Serial: bad.SerialNumber, RevokedAt: now.Add(-time.Minute), InvalidAt: now.Add(-30 * time.Minute), ReasonCode: 1}}, 7, now.Add(-time.Minute), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	root := w("root.pem", "CERTIFICATE", p.root.Cert.Raw)
	sub := w("sub.pem", "CERTIFICATE", p.manufacturers.Cert.Raw)
	goodP := w("good.pem", "CERTIFICATE", good.Raw)
	badP := w("bad.pem", "CERTIFICATE", bad.Raw)
	crlP := w("crl.pem", "X509 CRL", crl.Raw)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("verify", "-CAfile", root, "-untrusted", sub, goodP); err != nil {
		t.Fatalf("openssl rejects the chain: %v %s", err, out)
	}
	if out, err := run("crl", "-in", crlP, "-CAfile", sub, "-noout"); err != nil || !bytes.Contains([]byte(out), []byte("verify OK")) {
		t.Fatalf("openssl rejects the CRL: %v %s", err, out)
	}
	if out, err := run("verify", "-crl_check", "-CAfile", root, "-untrusted", sub, "-CRLfile", crlP, goodP); err != nil {
		t.Fatalf("good certificate with CRL: %v %s", err, out)
	}
	out, err := run("verify", "-crl_check", "-CAfile", root, "-untrusted", sub, "-CRLfile", crlP, badP)
	if err == nil || !bytes.Contains([]byte(out), []byte("revoked")) {
		t.Fatalf("openssl did not see the revocation: %v %s", err, out)
	}
	if out, _ := run("crl", "-in", crlP, "-noout", "-text"); !bytes.Contains([]byte(out), []byte("Invalidity Date")) {
		t.Fatalf("CRL entry lacks the invalidity date:\n%s", out)
	}
}

func TestEncryptionCertificateIsKeyAgreementOnly(t *testing.T) {
	p := newTestPKI(t)
	mp, err := p.root.NewSubCA("participant CA", []Role{RoleSupplier, RoleEncryption}, p.participants.Key, p.t0, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	if _, err := mp.Issue(Identity{CommonName: "supplier 7"}, []Role{RoleSupplier, RoleEncryption}, &k.PublicKey, p.t0, time.Hour); !errors.Is(err, ErrRole) {
		t.Fatalf("encryption mixed with signing: %v", err)
	}
	enc, err := mp.Issue(Identity{CommonName: "supplier 7 encryption"}, []Role{RoleEncryption}, &k.PublicKey, p.t0, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyUsage != x509.KeyUsageKeyAgreement {
		t.Fatalf("key usage %v", enc.KeyUsage)
	}
	v, err := NewValidator([]*x509.Certificate{p.root.Cert}, []*x509.Certificate{mp.Cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(enc, RoleEncryption, p.t0.Add(time.Hour)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	pub, err := EncryptionKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := EncryptFor(Suite1, pub, enc.SubjectKeyId, []byte("reading"), nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := k.ECDH()
	if pt, kid, err := DecryptFrom(priv, msg, nil); err != nil || string(pt) != "reading" || !bytes.Equal(kid, enc.SubjectKeyId) {
		t.Fatalf("decrypt: %v", err)
	}
	sig, err := mp.Issue(Identity{CommonName: "supplier 7 signing"}, []Role{RoleSupplier}, &k.PublicKey, p.t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncryptionKey(sig); !errors.Is(err, ErrRole) {
		t.Fatalf("signing certificate used for encryption: %v", err)
	}
}

// TestInvalidFromNamesTheInvalidityDate: the evidence rule of the
// transparency log needs the invalidity date itself (not the revocation
// time), for the certificate and for a revoked CA above it, and no date for
// a certificate nobody revoked.
func TestInvalidFromNamesTheInvalidityDate(t *testing.T) {
	p := newTestPKI(t)
	meter, other := titles()
	issue := func(st *SystemTitle) *x509.Certificate {
		k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
		c, err := p.manufacturers.Issue(Identity{CommonName: "meter", SystemTitle: st}, []Role{RoleMeterSigning}, &k.PublicKey, p.t0, 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	revoked, kept := issue(&meter), issue(&other)
	invalid := p.t0.Add(50 * 24 * time.Hour)
	crl, err := p.manufacturers.NewCRL([]Revocation{{Serial: revoked.SerialNumber, RevokedAt: invalid.Add(3 * 24 * time.Hour), InvalidAt: invalid, ReasonCode: 1}}, 1, invalid.Add(3*24*time.Hour), invalid.Add(40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator([]*x509.Certificate{p.root.Cert}, []*x509.Certificate{p.manufacturers.Cert}, []*x509.RevocationList{crl})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewMeterDirectory(v, []*x509.Certificate{revoked, kept})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second answer comes from the directory's memory
		if at, found, err := dir.InvalidFrom(meter); err != nil || !found || !at.Equal(invalid) {
			t.Fatalf("revoked meter: %v %v %v, want %v", at, found, err, invalid)
		}
		if _, found, err := dir.InvalidFrom(other); err != nil || found {
			t.Fatalf("meter nobody revoked: %v %v", found, err)
		}
	}
	// The manufacturer sub-CA revoked by the root: every meter below it.
	caInvalid := p.t0.Add(20 * 24 * time.Hour)
	rootCRL, err := p.root.NewCRL([]Revocation{{Serial: p.manufacturers.Cert.SerialNumber, RevokedAt: caInvalid, InvalidAt: caInvalid, ReasonCode: 2}}, 1, caInvalid, caInvalid.Add(40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := NewValidator([]*x509.Certificate{p.root.Cert}, []*x509.Certificate{p.manufacturers.Cert}, []*x509.RevocationList{crl, rootCRL})
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[*x509.Certificate]time.Time{revoked: caInvalid, kept: caInvalid} {
		if at, found, err := v2.InvalidFrom(c); err != nil || !found || !at.Equal(want) {
			t.Fatalf("below a revoked CA: %v %v %v, want %v", at, found, err, want)
		}
	}
	if _, _, err := (&MeterDirectory{certs: map[SystemTitle]*x509.Certificate{}, revoked: map[SystemTitle]invalidity{}}).InvalidFrom(SystemTitle{9}); !errors.Is(err, ErrCertificate) {
		t.Fatalf("unknown meter: %v", err)
	}
}

// TestDirectoryTakesANewCRL: a CRL published after the directory was made
// (AddCRL) changes what the directory remembered: the meter it names gets
// its invalidity date and is returned as changed, its key is refused from
// that date on, the other meter is untouched; taking the same CRL again
// changes nothing, and a CRL no known CA signed is refused.
func TestDirectoryTakesANewCRL(t *testing.T) {
	p := newTestPKI(t)
	meter, other := titles()
	issue := func(st *SystemTitle) *x509.Certificate {
		k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
		c, err := p.manufacturers.Issue(Identity{CommonName: "meter", SystemTitle: st}, []Role{RoleMeterSigning}, &k.PublicKey, p.t0, 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	revoked, kept := issue(&meter), issue(&other)
	v, err := NewValidator([]*x509.Certificate{p.root.Cert}, []*x509.Certificate{p.manufacturers.Cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewMeterDirectory(v, []*x509.Certificate{revoked, kept})
	if err != nil {
		t.Fatal(err)
	}
	invalid := p.t0.Add(50 * 24 * time.Hour)
	after := invalid.Add(time.Hour).Unix()
	if _, err := dir.MeterKey(meter, after); err != nil {
		t.Fatalf("before the CRL: %v", err)
	}
	if _, found, err := dir.InvalidFrom(meter); err != nil || found {
		t.Fatalf("before the CRL: %v %v", found, err)
	}
	crl, err := p.manufacturers.NewCRL([]Revocation{{Serial: revoked.SerialNumber, RevokedAt: invalid.Add(24 * time.Hour), InvalidAt: invalid, ReasonCode: 1}}, 2, invalid.Add(24*time.Hour), invalid.Add(40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := dir.AddCRL(crl)
	if err != nil || len(changed) != 1 || changed[0] != meter {
		t.Fatalf("AddCRL: %x, %v; want the revoked meter", changed, err)
	}
	if at, found, err := dir.InvalidFrom(meter); err != nil || !found || !at.Equal(invalid) {
		t.Fatalf("after the CRL: %v %v %v", at, found, err)
	}
	if _, err := dir.MeterKey(meter, after); !errors.Is(err, ErrRevoked) {
		t.Fatalf("key after its invalidity date: %v", err)
	}
	if _, err := dir.MeterKey(other, after); err != nil {
		t.Fatalf("the other meter: %v", err)
	}
	if changed, err := dir.AddCRL(crl); err != nil || len(changed) != 0 {
		t.Fatalf("the same CRL again: %x, %v", changed, err)
	}
	sk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	stranger, err := NewRootCA("stranger", sk, p.t0, 365*24*time.Hour, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := stranger.NewCRL([]Revocation{{Serial: kept.SerialNumber, RevokedAt: invalid, InvalidAt: p.t0, ReasonCode: 1}}, 3, invalid, invalid.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AddCRL(forged); !errors.Is(err, ErrCertificate) {
		t.Fatalf("CRL of an unknown CA: %v", err)
	}
}
