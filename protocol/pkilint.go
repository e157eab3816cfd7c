package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rules of the SM-PKI profile that LintChain checks, one failure class each
// (every one wraps ErrProfile), so a test or an operator's script can tell
// why a certificate was flagged.
var (
	ErrLintChainOrder       = fmt.Errorf("%w: chain out of order (each certificate must be issued by the next)", ErrProfile)
	ErrLintValidity         = fmt.Errorf("%w: %w", ErrProfile, ErrValidityNotNested)
	ErrLintKey              = fmt.Errorf("%w: key is not ECDSA P-256", ErrProfile)
	ErrLintBasicConstraints = fmt.Errorf("%w: basic constraints", ErrProfile)
	ErrLintKeyUsage         = fmt.Errorf("%w: key usage", ErrProfile)
	ErrLintEKU              = fmt.Errorf("%w: extended key usage", ErrProfile)
	ErrLintRole             = fmt.Errorf("%w: role (certificate policy)", ErrProfile)
	ErrLintSubject          = fmt.Errorf("%w: subject naming", ErrProfile)
	ErrLintCRLDP            = fmt.Errorf("%w: CRL distribution point", ErrProfile)
	ErrLintSAN              = fmt.Errorf("%w: subject alternative name", ErrProfile)
	ErrLintKeyID            = fmt.Errorf("%w: key identifiers", ErrProfile)
)

// Finding is one departure of one certificate from the profile.
type Finding struct {
	Index int               // position in the chain given to LintChain (0: the leaf)
	Cert  *x509.Certificate // the certificate concerned
	Err   error             // wraps one of the ErrLint* rules
}

func (f Finding) Error() string {
	return fmt.Sprintf("certificate %d (%s): %v", f.Index, f.Cert.Subject, f.Err)
}

// CertType names the certificate types of the profile (PKI.md).
func CertType(c *x509.Certificate) string {
	switch {
	case c.IsCA && bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil:
		return "root CA"
	case c.IsCA:
		return "sub-CA"
	}
	roles := CertRoles(c)
	switch {
	case len(roles) != 1:
		return "end entity"
	case roles[0] == RoleHeadEnd && isTLSServer(c):
		return "head-end TLS server"
	case roles[0] == RoleHeadEnd:
		return "operator (commands, approvals)"
	case roles[0] == RoleGateway:
		return "gateway (TLS client, PLC)"
	case roles[0] == RoleSupplier, roles[0] == RoleGridOperator:
		return "market participant (TLS client)"
	case roles[0] == RoleManufacturer, roles[0] == RoleAuthority:
		return "firmware signing"
	case roles[0] == RoleMeterSigning:
		return "meter signing"
	case roles[0] == RoleMeterChannel:
		return "meter channel"
	}
	return string(roles[0])
}

func isTLSServer(c *x509.Certificate) bool {
	return len(c.DNSNames)+len(c.IPAddresses) > 0 || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
}

// LintChain checks a chain (leaf first, each certificate issued by the
// next, as in a PEM chain file or a TLS handshake) against the profile of
// PKI.md and returns every finding; none means the chain follows it.
// issuers are further CA certificates (the root, the sub-CAs) among which
// the issuer of the chain's last certificate is looked up, so a leaf alone
// is checked against its CA too; an issuer found nowhere is not a finding,
// but the rules that need it (nesting, role and usage inheritance, key
// identifiers) are then skipped for that certificate.
func LintChain(chain, issuers []*x509.Certificate) []Finding {
	var out []Finding
	for i, c := range chain {
		var issuer *x509.Certificate
		selfSigned := bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
		switch {
		case selfSigned:
			issuer = c
			if i+1 < len(chain) {
				out = append(out, Finding{i, c, fmt.Errorf("%w: a self-signed root is followed by another certificate", ErrLintChainOrder)})
			}
		case i+1 < len(chain):
			if c.CheckSignatureFrom(chain[i+1]) != nil {
				out = append(out, Finding{i, c, fmt.Errorf("%w: not signed by %s", ErrLintChainOrder, chain[i+1].Subject)})
			} else {
				issuer = chain[i+1]
			}
		default:
			for _, s := range issuers {
				if bytes.Equal(c.RawIssuer, s.RawSubject) && c.CheckSignatureFrom(s) == nil {
					issuer = s
					break
				}
			}
		}
		for _, err := range lintOne(c, issuer, selfSigned) {
			out = append(out, Finding{i, c, err})
		}
	}
	return out
}

func lintOne(c, issuer *x509.Certificate, root bool) []error {
	var errs []error
	bad := func(rule error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", rule, fmt.Sprintf(format, args...)))
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		bad(ErrLintKey, "%v", c.PublicKeyAlgorithm)
	}
	if len(c.Subject.Country) != 1 || len(c.Subject.Organization) != 1 || c.Subject.CommonName == "" {
		bad(ErrLintSubject, "want exactly one C, one O and a CN, have %q", c.Subject.String())
	}
	if !c.NotBefore.Before(c.NotAfter) {
		bad(ErrLintValidity, "notBefore %s not before notAfter %s", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	}
	if issuer != nil && !root && (c.NotBefore.Before(issuer.NotBefore) || c.NotAfter.After(issuer.NotAfter)) {
		bad(ErrLintValidity, "%s .. %s outside the issuer's %s .. %s", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), issuer.NotBefore.Format(time.RFC3339), issuer.NotAfter.Format(time.RFC3339))
	}
	if len(c.SubjectKeyId) == 0 {
		bad(ErrLintKeyID, "no subject key identifier")
	}
	if issuer != nil && !root && !bytes.Equal(c.AuthorityKeyId, issuer.SubjectKeyId) {
		bad(ErrLintKeyID, "authority key identifier does not name the issuer's key")
	}
	for _, o := range c.UnknownExtKeyUsage {
		bad(ErrLintEKU, "unknown extended key usage %v (roles are certificate policies under %s)", o, OIDArc)
	}
	for _, p := range c.Policies {
		if s := p.String(); strings.HasPrefix(s, OIDArc+".") && !slices.ContainsFunc(CertRoles(c), func(r Role) bool { return roleOIDs[r].Equal(p) }) {
			bad(ErrLintRole, "unknown policy %s under the project's arc", s)
		}
	}
	roles := CertRoles(c)
	switch {
	case root:
		if !c.BasicConstraintsValid || !c.IsCA || c.MaxPathLen != 1 {
			bad(ErrLintBasicConstraints, "a root is a CA with path length 1")
		}
		if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
			bad(ErrLintKeyUsage, "a root signs certificates and CRLs only")
		}
		if len(c.ExtKeyUsage) > 0 || len(roles) > 0 {
			bad(ErrLintEKU, "a root is not restricted to usages or roles")
		}
	case c.IsCA:
		if !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
			bad(ErrLintBasicConstraints, "a sub-CA is a CA with path length 0")
		}
		if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
			bad(ErrLintKeyUsage, "a sub-CA signs certificates and CRLs only")
		}
		if len(roles) == 0 {
			bad(ErrLintRole, "a sub-CA names the roles it may certify")
		}
		if want := subCAEKUs(roles); !sameUsages(c.ExtKeyUsage, want) {
			bad(ErrLintEKU, "have %s, want %s (every usage its leaves use)", usageNames(c.ExtKeyUsage), usageNames(want))
		}
		lintCRLDP(c, bad)
	default:
		if c.BasicConstraintsValid && c.IsCA {
			bad(ErrLintBasicConstraints, "an end entity is no CA")
		}
		if len(roles) == 0 {
			bad(ErrLintRole, "no role of the profile")
		}
		if slices.Contains(roles, RoleEncryption) && len(roles) != 1 {
			bad(ErrLintRole, "an encryption key serves no other role")
		}
		if want := keyUsage(roles); c.KeyUsage != want {
			bad(ErrLintKeyUsage, "have %#x, want %#x", c.KeyUsage, want)
		}
		server := isTLSServer(c)
		if server && (!slices.Contains(roles, RoleHeadEnd) || len(c.DNSNames)+len(c.IPAddresses) == 0) {
			bad(ErrLintSAN, "a TLS server certificate is a head-end's and names its hosts")
		}
		if want := leafEKUs(roles, server); !sameUsages(c.ExtKeyUsage, want) {
			bad(ErrLintEKU, "have %s, want %s", usageNames(c.ExtKeyUsage), usageNames(want))
		}
		if slices.Contains(roles, RoleMeterChannel) || slices.Contains(roles, RoleMeterSigning) || slices.Contains(roles, RoleGateway) {
			if st, ok := CertSystemTitle(c); !ok || c.Subject.CommonName != hex.EncodeToString(st[:]) {
				bad(ErrLintSubject, "a device's CN is its system title in hex (urn:verimeter:st:…), have %q", c.Subject.CommonName)
			}
		}
		lintCRLDP(c, bad)
		if issuer != nil && len(issuer.Policies) > 0 {
			for _, r := range roles {
				if !HasRole(issuer, r) {
					bad(ErrLintRole, "%s may not certify %s", issuer.Subject.CommonName, r)
				}
			}
		}
		if issuer != nil && len(issuer.ExtKeyUsage) > 0 {
			for _, u := range c.ExtKeyUsage {
				if !slices.Contains(issuer.ExtKeyUsage, u) {
					bad(ErrLintEKU, "%s lacks %s, so no verifier accepts this certificate for it", issuer.Subject.CommonName, usageNames([]x509.ExtKeyUsage{u}))
				}
			}
		}
	}
	return errs
}

func lintCRLDP(c *x509.Certificate, bad func(error, string, ...any)) {
	for _, u := range c.CRLDistributionPoints {
		if strings.HasPrefix(u, "http://") {
			return
		}
	}
	bad(ErrLintCRLDP, "no http:// CRL distribution point")
}

func sameUsages(have, want []x509.ExtKeyUsage) bool {
	if len(have) != len(want) {
		return false
	}
	for _, u := range want {
		if !slices.Contains(have, u) {
			return false
		}
	}
	return true
}

func usageNames(us []x509.ExtKeyUsage) string {
	if len(us) == 0 {
		return "none"
	}
	var names []string
	for _, u := range us {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			names = append(names, "id-kp-serverAuth")
		case x509.ExtKeyUsageClientAuth:
			names = append(names, "id-kp-clientAuth")
		case x509.ExtKeyUsageCodeSigning:
			names = append(names, "id-kp-codeSigning")
		default:
			names = append(names, fmt.Sprintf("usage %d", u))
		}
	}
	return strings.Join(names, ", ")
}
