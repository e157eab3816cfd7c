package protocol

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Role is what a certificate entitles its holder to. Roles live in the
// certificate as certificate policies under the project's OID arc (PKI.md;
// DESIGN.md allows policies or extended key usages, and Go cannot parse an
// extended key usage under a UUID arc). The Validator demands the role on
// every certificate of the chain below the root, so a sub-CA constrained to
// a role cannot vouch for another.
type Role string

// Roles of the SM-PKI.
const (
	RoleMeterChannel  Role = "meter-channel"   // meter: key agreement signatures on PLC
	RoleMeterSigning  Role = "meter-metrology" // meter: signs readings end to end
	RoleGateway       Role = "gateway"         // gateway: TLS client to the head-end, PLC key agreement
	RoleHeadEnd       Role = "head-end"        // head-end: TLS server, commands
	RoleSupplier      Role = "supplier"        // market participant: supplier
	RoleGridOperator  Role = "grid-operator"   // market participant: grid operator
	RoleManufacturer  Role = "manufacturer"    // signs firmware manifests
	RoleAuthority     Role = "metrology-authority"
	RoleTrustListSign Role = "trust-list-signer" // operator: signs meters' trust lists
	// RoleEncryption marks a key-agreement key to which data is encrypted
	// (COSE_Encrypt, EncryptFor): a participant holds it apart from its TLS
	// and signing keys, so compromising one use does not expose the others.
	RoleEncryption Role = "encryption"
	// RoleApprover marks a staff member's own key whose approvals of a
	// command (protocol.Approval) a meter counts: a meter's trust list
	// names these keys, so the trust-list signer, not the head-end's
	// command key, decides whose approval makes a disconnect run.
	RoleApprover Role = "command-approver"
)

// keyUsage separates key uses: an encryption certificate is for key
// agreement only and may carry no other role; every other role signs.
func keyUsage(roles []Role) x509.KeyUsage {
	if slices.Contains(roles, RoleEncryption) {
		return x509.KeyUsageKeyAgreement
	}
	return x509.KeyUsageDigitalSignature
}

// EncryptionKey returns the key-agreement key of an encryption certificate
// (already validated by the caller) for EncryptFor. A certificate without the
// encryption role, or one that mixes it with a signing role, is refused:
// one key, one use.
func EncryptionKey(c *x509.Certificate) (*ecdh.PublicKey, error) {
	if !HasRole(c, RoleEncryption) || len(c.Policies) != 1 || c.KeyUsage != x509.KeyUsageKeyAgreement {
		return nil, fmt.Errorf("%w: %s is not an encryption-only certificate", ErrRole, c.Subject.CommonName)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an EC key", ErrCertificate)
	}
	k, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return k, nil
}

// CA is a certification authority of the hierarchy: the root or a sub-CA
// per role. Name is the CA's short name ("root", "manufacturer", …): the
// stem of its files on disk and of its CRL's URI (PKI.md, CRL distribution
// points).
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	Name string
	rand io.Reader
}

// Identity names a certificate holder (PKI.md, subject naming). The subject
// is C, O, CN: Country and Organization default to the issuer's. SystemTitle,
// when set, is bound into the certificate as the URI urn:verimeter:st:<hex>
// so a meter's or gateway's certificate names the system title it uses on
// the channel; DeviceIdentity builds the one name devices get everywhere.
type Identity struct {
	CommonName   string
	Organization string
	Country      string
	SystemTitle  *SystemTitle
	GridArea     string // grid operators and meters: urn:verimeter:area:<name>
	// Hosts are the DNS names or IP addresses a TLS server answers to; they
	// make a head-end certificate a TLS server certificate (subjectAltName
	// and id-kp-serverAuth). A head-end certificate without hosts signs
	// commands and approvals only.
	Hosts []string
}

// DeviceIdentity is the subject of a meter's or gateway's certificates: the
// common name is the system title in hex, so the demo, provision and `pki
// issue` name a device the same way and a verifier can match the name
// against the system title on the wire.
func DeviceIdentity(st SystemTitle, gridArea string) Identity {
	return Identity{CommonName: hex.EncodeToString(st[:]), SystemTitle: &st, GridArea: gridArea}
}

func serialFor(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, err
	}
	b[0] &= 0x7F
	b[0] |= 0x01 // never zero, never a leading zero byte
	return new(big.Int).SetBytes(b), nil
}

func rolePolicies(roles []Role) ([]x509.OID, error) {
	var out []x509.OID
	for _, r := range roles {
		o, ok := roleOIDs[r]
		if !ok {
			return nil, fmt.Errorf("%w: unknown role %q", ErrRole, r)
		}
		out = append(out, o)
	}
	return out, nil
}

// caSubject is the subject of a CA certificate (PKI.md, subject naming).
func caSubject(cn string) pkix.Name {
	return pkix.Name{Country: []string{ProfileCountry}, Organization: []string{ProfileOrganization}, CommonName: cn}
}

// NewRootCA creates the self-signed root valid from notBefore for validity.
// Its Name is "root".
func NewRootCA(name string, key *ecdsa.PrivateKey, notBefore time.Time, validity time.Duration, rand io.Reader) (*CA, error) {
	serial, err := serialFor(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               caSubject(name),
		NotBefore:             notBefore.UTC(),
		NotAfter:              notBefore.Add(validity).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, Name: "root", rand: rand}, nil
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	h := sha256.Sum256(der)
	return h[:20]
}

// nested refuses a validity that does not lie within the issuer's (the
// shell model, PKI.md validity): a chain must never expire from the middle.
func (ca *CA) nested(notBefore, notAfter time.Time) error {
	if notBefore.Before(ca.Cert.NotBefore) || notAfter.After(ca.Cert.NotAfter) {
		return fmt.Errorf("%w: %s .. %s is not within %s's %s .. %s", ErrValidityNotNested,
			notBefore.UTC().Format(time.RFC3339), notAfter.UTC().Format(time.RFC3339), ca.Cert.Subject.CommonName,
			ca.Cert.NotBefore.UTC().Format(time.RFC3339), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// crlDP is the CRL distribution point the CA puts into what it issues.
func (ca *CA) crlDP() []string {
	if ca.Name == "" {
		return nil
	}
	return []string{CRLURL(ca.Name)}
}

// NewSubCA issues a sub-CA restricted to the given roles (certificate
// policies) and to the standard extended key usages its leaves use. The
// sub-CA's Name is name without a trailing " CA", spaces as dashes
// ("gateway-operator CA" → "gateway-operator"). Its validity must lie within
// the issuer's (ErrValidityNotNested).
func (ca *CA) NewSubCA(name string, roles []Role, key *ecdsa.PrivateKey, notBefore time.Time, validity time.Duration) (*CA, error) {
	pol, err := rolePolicies(roles)
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := notBefore.UTC(), notBefore.Add(validity).UTC()
	if err := ca.nested(notBefore, notAfter); err != nil {
		return nil, err
	}
	serial, err := serialFor(ca.rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               caSubject(name),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           subCAEKUs(roles),
		Policies:              pol,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(&key.PublicKey),
		CRLDistributionPoints: ca.crlDP(),
	}
	der, err := x509.CreateCertificate(ca.rand, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	cert, _ := x509.ParseCertificate(der)
	short := strings.ReplaceAll(strings.TrimSuffix(name, " CA"), " ", "-")
	return &CA{Cert: cert, Key: key, Name: short, rand: ca.rand}, nil
}

// Issue certifies pub for an end entity with the given roles. Keys are
// separate per purpose: a meter gets one certificate for its channel key and
// another for its metrological signing key. The validity must lie within
// the CA's (ErrValidityNotNested): issuance refuses rather than clamps, so
// nobody holds a certificate that ends earlier than they asked for without
// knowing it.
func (ca *CA) Issue(id Identity, roles []Role, pub *ecdsa.PublicKey, notBefore time.Time, validity time.Duration) (*x509.Certificate, error) {
	pol, err := rolePolicies(roles)
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("%w: an end-entity certificate needs a role", ErrRole)
	}
	if slices.Contains(roles, RoleEncryption) && len(roles) != 1 {
		return nil, fmt.Errorf("%w: an encryption key serves no other role", ErrRole)
	}
	// A sub-CA certifies only the roles it carries itself (verifiers check
	// the same; refusing here keeps the CA from minting useless certificates).
	if len(ca.Cert.Policies) > 0 {
		for i, o := range pol {
			if !slices.ContainsFunc(ca.Cert.Policies, o.Equal) {
				return nil, fmt.Errorf("%w: %s may not certify %s", ErrRole, ca.Cert.Subject.CommonName, roles[i])
			}
		}
	}
	if len(id.Hosts) > 0 && !slices.Contains(roles, RoleHeadEnd) {
		return nil, fmt.Errorf("%w: only a head-end certificate names TLS server hosts", ErrRole)
	}
	notBefore, notAfter := notBefore.UTC(), notBefore.Add(validity).UTC()
	if err := ca.nested(notBefore, notAfter); err != nil {
		return nil, err
	}
	serial, err := serialFor(ca.rand)
	if err != nil {
		return nil, err
	}
	subj := pkix.Name{CommonName: id.CommonName, Country: ca.Cert.Subject.Country, Organization: ca.Cert.Subject.Organization}
	if id.Organization != "" {
		subj.Organization = []string{id.Organization}
	}
	if id.Country != "" {
		subj.Country = []string{id.Country}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subj,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              keyUsage(roles),
		ExtKeyUsage:           leafEKUs(roles, len(id.Hosts) > 0),
		Policies:              pol,
		BasicConstraintsValid: true,
		SubjectKeyId:          keyID(pub),
		CRLDistributionPoints: ca.crlDP(),
	}
	for _, h := range id.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if id.SystemTitle != nil {
		tmpl.URIs = append(tmpl.URIs, &url.URL{Scheme: "urn", Opaque: "verimeter:st:" + hex.EncodeToString(id.SystemTitle[:])})
	}
	if id.GridArea != "" {
		tmpl.URIs = append(tmpl.URIs, &url.URL{Scheme: "urn", Opaque: "verimeter:area:" + id.GridArea})
	}
	der, err := x509.CreateCertificate(ca.rand, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return x509.ParseCertificate(der)
}

// CertSystemTitle returns the system title bound into a certificate.
func CertSystemTitle(c *x509.Certificate) (SystemTitle, bool) {
	for _, u := range c.URIs {
		if u.Scheme == "urn" && len(u.Opaque) == len("verimeter:st:")+2*SystemTitleLen && u.Opaque[:13] == "verimeter:st:" {
			var st SystemTitle
			if _, err := hex.Decode(st[:], []byte(u.Opaque[13:])); err == nil {
				return st, true
			}
		}
	}
	return SystemTitle{}, false
}

// CertGridArea returns the grid area bound into a certificate, if any.
func CertGridArea(c *x509.Certificate) string {
	for _, u := range c.URIs {
		if u.Scheme == "urn" && len(u.Opaque) > 15 && u.Opaque[:15] == "verimeter:area:" {
			return u.Opaque[15:]
		}
	}
	return ""
}

// oidInvalidityDate is the CRL entry extension of RFC 5280 5.3.2: the time
// the key is known or suspected to have been compromised. Data signed before
// it stays valid evidence (DESIGN.md S8).
var oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}

// Revocation is one entry of a CRL.
type Revocation struct {
	Serial     *big.Int
	RevokedAt  time.Time
	InvalidAt  time.Time // zero: the same as RevokedAt
	ReasonCode int       // RFC 5280 5.3.1 (1 keyCompromise, 4 superseded, 5 cessationOfOperation)
}

// NewCRL issues a CRL with the given entries and number.
func (ca *CA) NewCRL(entries []Revocation, number int64, thisUpdate, nextUpdate time.Time) (*x509.RevocationList, error) {
	var rl []x509.RevocationListEntry
	for _, e := range entries {
		ent := x509.RevocationListEntry{SerialNumber: e.Serial, RevocationTime: e.RevokedAt.UTC(), ReasonCode: e.ReasonCode}
		if !e.InvalidAt.IsZero() {
			v, err := asn1.MarshalWithParams(e.InvalidAt.UTC(), "generalized")
			if err != nil {
				return nil, err
			}
			ent.ExtraExtensions = append(ent.ExtraExtensions, pkix.Extension{Id: oidInvalidityDate, Value: v})
		}
		rl = append(rl, ent)
	}
	der, err := x509.CreateRevocationList(ca.rand, &x509.RevocationList{
		Number: big.NewInt(number), ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedCertificateEntries: rl,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return x509.ParseRevocationList(der)
}

// Validator judges certificates against the PKI's roots, the sub-CAs and
// their CRLs, at a given time: the signing time of the data (bounded by the
// head-end's ingest timestamp), not the time of verification (S8).
type Validator struct {
	roots, inter *x509.CertPool
	cas          []*x509.Certificate // the sub-CAs and roots, which sign CRLs
	mu           sync.RWMutex        // guards invalidFrom (AddCRL)
	// invalidFrom maps issuer key id + serial to the time from which the
	// certificate no longer vouches for anything.
	invalidFrom map[string]time.Time
}

// NewValidator trusts roots, knows the sub-CAs and takes the CRLs, each of
// which must be signed by one of the sub-CAs or roots.
func NewValidator(roots, subCAs []*x509.Certificate, crls []*x509.RevocationList) (*Validator, error) {
	v := &Validator{roots: x509.NewCertPool(), inter: x509.NewCertPool(), invalidFrom: map[string]time.Time{}}
	for _, r := range roots {
		v.roots.AddCert(r)
	}
	for _, s := range subCAs {
		v.inter.AddCert(s)
	}
	v.cas = append(append([]*x509.Certificate{}, subCAs...), roots...)
	for _, crl := range crls {
		if err := v.AddCRL(crl); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// AddCRL takes a CRL the validator did not have at construction (a newer
// one of a CA, published while the head-end runs): it must be signed by one
// of the sub-CAs or roots. An entry never moves an invalidity date later:
// the earliest date any CRL gives for a certificate holds.
func (v *Validator) AddCRL(crl *x509.RevocationList) error {
	var issuer *x509.Certificate
	for _, c := range v.cas {
		if crl.CheckSignatureFrom(c) == nil {
			issuer = c
			break
		}
	}
	if issuer == nil {
		return fmt.Errorf("%w: CRL not signed by a known CA", ErrCertificate)
	}
	dates := make(map[string]time.Time, len(crl.RevokedCertificateEntries))
	for _, e := range crl.RevokedCertificateEntries {
		at := e.RevocationTime
		for _, ext := range e.Extensions {
			if ext.Id.Equal(oidInvalidityDate) {
				var t time.Time
				if _, err := asn1.UnmarshalWithParams(ext.Value, &t, "generalized"); err != nil {
					return fmt.Errorf("%w: invalidity date: %w", ErrCertificate, err)
				}
				at = t
			}
		}
		k := string(issuer.SubjectKeyId) + "/" + e.SerialNumber.String()
		if prev, ok := dates[k]; !ok || at.Before(prev) {
			dates[k] = at
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, at := range dates {
		if prev, ok := v.invalidFrom[k]; !ok || at.Before(prev) {
			v.invalidFrom[k] = at
		}
	}
	return nil
}

// invalid returns the invalidity date recorded for key k (issuer key id and
// serial).
func (v *Validator) invalid(k string) (time.Time, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t, ok := v.invalidFrom[k]
	return t, ok
}

// Check verifies cert's chain at time at, that it carries role, and that it
// was not revoked (by invalidity date) at that time.
func (v *Validator) Check(cert *x509.Certificate, role Role, at time.Time) error {
	_, err := v.check(cert, role, at)
	return err
}

// check is Check that also returns until when the answer stays "valid": the
// earliest expiry or invalidity date along the chain.
func (v *Validator) check(cert *x509.Certificate, role Role, at time.Time) (time.Time, error) {
	var until time.Time
	if _, ok := roleOIDs[role]; !ok {
		return until, fmt.Errorf("%w: unknown role %q", ErrRole, role)
	}
	if !HasRole(cert, role) {
		return until, fmt.Errorf("%w: %s is not %s", ErrRole, cert.Subject.CommonName, role)
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: v.inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		var inv x509.CertificateInvalidError
		if asInvalid(err, &inv) && inv.Reason == x509.Expired {
			return until, fmt.Errorf("%w: %s at %s", ErrExpired, cert.Subject.CommonName, at.UTC().Format(time.RFC3339))
		}
		return until, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	chain := chains[0]
	// Every certificate of the chain below the root must carry the role (a
	// sub-CA for meters cannot vouch for a supplier).
	for _, c := range chain[:len(chain)-1] {
		if !HasRole(c, role) {
			return until, fmt.Errorf("%w: %s in the chain lacks %s", ErrRole, c.Subject.CommonName, role)
		}
	}
	until = chain[0].NotAfter
	for i, c := range chain {
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
		if i+1 == len(chain) {
			break
		}
		k := string(chain[i+1].SubjectKeyId) + "/" + c.SerialNumber.String()
		if from, ok := v.invalid(k); ok {
			if !at.Before(from) {
				return until, fmt.Errorf("%w: %s since %s", ErrRevoked, c.Subject.CommonName, from.UTC().Format(time.RFC3339))
			}
			if from.Before(until) {
				until = from
			}
		}
	}
	return until, nil
}

// InvalidFrom returns the earliest invalidity date (or revocation time)
// the CRLs give for cert or any certificate of its chain, and whether there
// is one. Evidence rules need it apart from Check: data signed before that
// date verifies, but counts as evidence only if a witness other than the
// key holder saw it before the date (DESIGN.md S8, translog).
func (v *Validator) InvalidFrom(cert *x509.Certificate) (time.Time, bool, error) {
	chains, err := cert.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: v.inter, CurrentTime: cert.NotBefore, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	var first time.Time
	found := false
	chain := chains[0]
	for i := 0; i+1 < len(chain); i++ {
		k := string(chain[i+1].SubjectKeyId) + "/" + chain[i].SerialNumber.String()
		if from, ok := v.invalid(k); ok && (!found || from.Before(first)) {
			first, found = from, true
		}
	}
	return first, found, nil
}

func asInvalid(err error, out *x509.CertificateInvalidError) bool {
	e, ok := err.(x509.CertificateInvalidError)
	if ok {
		*out = e
	}
	return ok
}

// MeterDirectory resolves meters' metrological keys from their certificates
// through a Validator; it implements KeyResolver and KeyValidity, so the
// signature Verifier judges the certificate's status at each message's time
// without X.509 work per message.
type MeterDirectory struct {
	mu    sync.Mutex
	v     *Validator
	certs map[SystemTitle]*x509.Certificate
	ok    map[SystemTitle][2]int64 // validity window already judged: [from, until)
	// revoked remembers InvalidFrom per meter.
	revoked map[SystemTitle]invalidity
}

// NewMeterDirectory indexes the meters' signing certificates by system title.
func NewMeterDirectory(v *Validator, certs []*x509.Certificate) (*MeterDirectory, error) {
	d := &MeterDirectory{v: v, certs: map[SystemTitle]*x509.Certificate{}, ok: map[SystemTitle][2]int64{}, revoked: map[SystemTitle]invalidity{}}
	for _, c := range certs {
		st, found := CertSystemTitle(c)
		if !found {
			return nil, fmt.Errorf("%w: %s names no system title", ErrCertificate, c.Subject.CommonName)
		}
		d.certs[st] = c
	}
	return d, nil
}

// MeterKey returns the meter's key if its certificate was valid for the
// metrology role at time at (Unix seconds).
func (d *MeterDirectory) MeterKey(meter SystemTitle, at int64) (*ecdsa.PublicKey, error) {
	c, ok := d.certs[meter]
	if !ok {
		return nil, fmt.Errorf("%w: no certificate for meter %x", ErrCertificate, meter)
	}
	until, err := d.v.check(c, RoleMeterSigning, time.Unix(at, 0))
	if err != nil {
		return nil, err
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an ECDSA key", ErrCertificate)
	}
	d.mu.Lock()
	d.ok[meter] = [2]int64{c.NotBefore.Unix(), until.Unix()}
	d.mu.Unlock()
	return pub, nil
}

// ValidAt reports whether the window judged by the last MeterKey covers at.
func (d *MeterDirectory) ValidAt(meter SystemTitle, at int64) bool {
	d.mu.Lock()
	w, ok := d.ok[meter]
	d.mu.Unlock()
	return ok && at >= w[0] && at < w[1]
}

// InvalidFrom is Validator.InvalidFrom for the meter's signing
// certificate, remembered per meter until the next AddCRL,
// so the head-end can apply the evidence rule to every ingested item without
// X.509 work per item.
func (d *MeterDirectory) InvalidFrom(meter SystemTitle) (time.Time, bool, error) {
	d.mu.Lock()
	r, ok := d.revoked[meter]
	d.mu.Unlock()
	if ok {
		return r.at, r.found, nil
	}
	c, ok := d.certs[meter]
	if !ok {
		return time.Time{}, false, fmt.Errorf("%w: no certificate for meter %x", ErrCertificate, meter)
	}
	at, found, err := d.v.InvalidFrom(c)
	if err != nil {
		return time.Time{}, false, err
	}
	d.mu.Lock()
	d.revoked[meter] = invalidity{at, found}
	d.mu.Unlock()
	return at, found, nil
}

// AddCRL gives the directory's validator a new CRL (Validator.AddCRL) and
// forgets what it remembered of the meters' certificates, which the CRL may
// change. It returns the meters whose invalidity date the CRL changed (a
// first one, or an earlier one; a meter the directory had not judged yet
// counts as changed when it has one), in no particular order: the head-end
// steps its Market machine's PublishCRL for each it has not yet.
func (d *MeterDirectory) AddCRL(crl *x509.RevocationList) ([]SystemTitle, error) {
	if err := d.v.AddCRL(crl); err != nil {
		return nil, err
	}
	d.mu.Lock()
	before := d.revoked
	d.revoked = map[SystemTitle]invalidity{}
	d.ok = map[SystemTitle][2]int64{}
	d.mu.Unlock()
	var changed []SystemTitle
	for st := range d.certs {
		at, found, err := d.InvalidFrom(st)
		if err != nil {
			return nil, err
		}
		prev := before[st] // not remembered: counted as changed
		if found && (!prev.found || at.Before(prev.at)) {
			changed = append(changed, st)
		}
	}
	return changed, nil
}

// invalidity is a remembered answer of InvalidFrom.
type invalidity struct {
	at    time.Time
	found bool
}

// SubjectKeyID is the key identifier verimeter puts in certificates (the
// first 20 bytes of the SHA-256 of the SubjectPublicKeyInfo) and uses as the
// COSE kid of commands and manifests, so a meter finds the key in its trust
// list without certificates.
func SubjectKeyID(pub *ecdsa.PublicKey) []byte { return keyID(pub) }
