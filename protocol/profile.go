package protocol

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"time"
)

// The SM-PKI profile (PKI.md) as data: the OID arc of the project, the roles
// as certificate policies under it, the standard extended key usages that
// TLS and code signing need, subject defaults, CRL distribution points and
// the CRL period. Issuance (CA.Issue, CA.NewSubCA) and the lint (LintChain)
// both read these, so what is issued and what is checked cannot drift.

// OIDArc is verimeter's object identifier arc: 2.25 (ITU-T X.667, OIDs from
// a UUID, no registration needed) followed by the UUID
// afcc0eaa-53c9-41fe-bc9a-db82074d1ad7 as one decimal integer. Roles are
// OIDArc.1.n.
const OIDArc = "2.25.233674425269954022700508761558707149527"

// Subject defaults of the profile: every CA certificate names C and O, and
// end-entity certificates inherit them from their issuer unless the
// Identity says otherwise.
const (
	ProfileCountry      = "DE"
	ProfileOrganization = "verimeter SM-PKI"
)

// CRLBaseURL is where the CAs of the profile publish their CRLs over plain
// HTTP (RFC 5280 4.2.1.13; a CRL is signed, and fetching it must not depend
// on the TLS it helps to judge). A deployment serves NAME.crl under it.
const CRLBaseURL = "http://crl.verimeter.example/"

// CRLURL is the CRL distribution point of the CA with the short name name
// (its file stem: "root", "manufacturer", …).
func CRLURL(name string) string { return CRLBaseURL + name + ".crl" }

// CRLPeriod is the distance from a CRL's thisUpdate to its nextUpdate: a
// CA reissues its CRL (`verimeter pki crl`) at least that often.
const CRLPeriod = 7 * 24 * time.Hour

// roleOrder lists every role with its number under OIDArc.1; the numbers
// never change once issued.
var roleOrder = []Role{RoleMeterChannel, RoleMeterSigning, RoleGateway, RoleHeadEnd, RoleSupplier, RoleGridOperator, RoleManufacturer, RoleAuthority, RoleTrustListSign, RoleEncryption, RoleApprover}

// roleOIDs map roles to certificate policy OIDs. Roles are policies, not
// extended key usages: Go's crypto/x509 parses extended key usages into
// encoding/asn1 identifiers whose arcs must fit an int, so a certificate
// with a UUID-arc extended key usage does not even parse ("x509: invalid
// extended key usages"); policies are x509.OID, whose arcs may be of any
// size.
var roleOIDs = map[Role]x509.OID{}

func init() {
	for i, r := range roleOrder {
		oid, err := x509.ParseOID(fmt.Sprintf("%s.1.%d", OIDArc, i+1))
		if err != nil {
			panic(err)
		}
		roleOIDs[r] = oid
	}
}

// Roles returns every role of the profile in the order of their OIDs.
func Roles() []Role { return slices.Clone(roleOrder) }

// RoleOID returns the certificate policy OID of a role.
func RoleOID(r Role) (x509.OID, bool) { o, ok := roleOIDs[r]; return o, ok }

// HasRole reports whether c carries role r as a certificate policy.
func HasRole(c *x509.Certificate, r Role) bool {
	o, ok := roleOIDs[r]
	return ok && slices.ContainsFunc(c.Policies, o.Equal)
}

// CertRoles returns the roles of the profile that c carries.
func CertRoles(c *x509.Certificate) []Role {
	var out []Role
	for _, r := range roleOrder {
		if HasRole(c, r) {
			out = append(out, r)
		}
	}
	return out
}

// leafEKUs are the standard extended key usages of an end-entity
// certificate with these roles: TLS clients (gateways, market
// participants) id-kp-clientAuth, a head-end that serves TLS
// id-kp-serverAuth, firmware signers id-kp-codeSigning. Meters, trust-list
// signers, operators and encryption keys use none of these protocols and get
// no extended key usage.
func leafEKUs(roles []Role, tlsServer bool) []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	add := func(u x509.ExtKeyUsage) {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	for _, r := range roles {
		switch r {
		case RoleGateway, RoleSupplier, RoleGridOperator:
			add(x509.ExtKeyUsageClientAuth)
		case RoleHeadEnd:
			if tlsServer {
				add(x509.ExtKeyUsageServerAuth)
			}
		case RoleManufacturer, RoleAuthority:
			add(x509.ExtKeyUsageCodeSigning)
		}
	}
	return out
}

// subCAEKUs are the extended key usages of a sub-CA for these roles: every
// standard usage its leaves may have. Go's x509.Verify and OpenSSL both
// require a usage asked of a leaf to be allowed by every certificate above
// it that lists usages at all, so a sub-CA lists exactly these.
func subCAEKUs(roles []Role) []x509.ExtKeyUsage { return leafEKUs(roles, true) }

// InitialCRL is the CRL a CA publishes before it revoked anything (number
// 1, no entries), so a relying party that requires a CRL for every CA
// (`openssl verify -crl_check_all`) can verify from the first day.
func (ca *CA) InitialCRL(now time.Time) (*x509.RevocationList, error) {
	return ca.NewCRL(nil, 1, now, now.Add(CRLPeriod))
}

// Validity periods of the profile (PKI.md): each fits inside its issuer's
// with room to issue for years before the issuer ends.
const (
	year                = 365 * 24 * time.Hour
	RootValidity        = 20 * year
	SubCAValidity       = 10 * year
	DeviceValidity      = 8 * year // meters' and gateways' certificates
	ParticipantValidity = 2 * year // TLS, operator, signing and encryption certificates of organisations
)

// Hierarchy is a root and the sub-CAs of SubCAs, built the same way by `pki
// init`, `provision` and the demo.
type Hierarchy struct {
	Root *CA
	Subs map[string]*CA // by short name, the keys of SubCAs
}

// NewHierarchy creates a root valid from notBefore for RootValidity and
// every sub-CA of SubCAs for SubCAValidity, each with a fresh key from
// newKey.
func NewHierarchy(notBefore time.Time, newKey func() (*ecdsa.PrivateKey, error), rand io.Reader) (*Hierarchy, error) {
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	root, err := NewRootCA("verimeter root CA", k, notBefore, RootValidity, rand)
	if err != nil {
		return nil, err
	}
	h := &Hierarchy{Root: root, Subs: map[string]*CA{}}
	for _, n := range h.SubNames() {
		k, err := newKey()
		if err != nil {
			return nil, err
		}
		if h.Subs[n], err = root.NewSubCA(n+" CA", SubCAs[n], k, notBefore, SubCAValidity); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// SubNames returns the short names of the sub-CAs in sorted order.
func (h *Hierarchy) SubNames() []string { return SubCANames() }

// SubCANames returns the short names of the sub-CAs of SubCAs, sorted.
func SubCANames() []string {
	names := make([]string, 0, len(SubCAs))
	for n := range SubCAs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SubCerts returns the sub-CA certificates in the order of SubNames.
func (h *Hierarchy) SubCerts() []*x509.Certificate {
	var out []*x509.Certificate
	for _, n := range h.SubNames() {
		out = append(out, h.Subs[n].Cert)
	}
	return out
}
