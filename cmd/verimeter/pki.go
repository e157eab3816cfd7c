package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

func init() {
	register(command{name: "pki", summary: "test SM-PKI (protocol/PKI.md): init, issue, revoke, crl, lint, print", run: runPKI})
}

// pkiUsage lists every flag of every pki subcommand; TestPKIUsageMatchesFlags
// holds it to the flag sets.
const pkiUsage = `usage:
  verimeter pki init    [-dir] DIR
  verimeter pki issue   -dir DIR -ca SUBCA -role ROLE[,ROLE] [-name CN] [-org O] [-system-title HEX16] [-area NAME] [-host NAME[,NAME]] [-days N] -out PREFIX
  verimeter pki revoke  -dir DIR -ca CA -cert FILE [-invalid RFC3339] [-reason N]
  verimeter pki crl     [-dir] DIR
  verimeter pki lint    [-ca FILE] [-bundle] FILE...
  verimeter pki print   FILE.crt|FILE.crl
`

func runPKI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, pkiUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "init":
		err = pkiInit(args[1:], stdout, stderr)
	case "issue":
		err = pkiIssue(args[1:], stdout, stderr)
	case "revoke":
		err = pkiRevoke(args[1:], stdout, stderr)
	case "crl":
		err = pkiCRL(args[1:], stdout, stderr)
	case "lint":
		err = pkiLint(args[1:], stdout, stderr)
	case "print":
		if len(args) != 2 {
			fmt.Fprint(stderr, pkiUsage)
			return 2
		}
		err = pkiPrint(args[1], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, pkiUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "verimeter pki: unknown subcommand %q\n", args[0])
		fmt.Fprint(stderr, pkiUsage)
		return 2
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "verimeter pki %s: %v\n", args[0], err)
		fmt.Fprint(stderr, pkiUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "verimeter pki %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// errUsage marks a command line the subcommand cannot run: exit 2 and the
// usage text.
var errUsage = errors.New("usage")

// errLintFindings is the error of a lint run with at least one finding
// (each printed on its own line): exit 1.
var errLintFindings = errors.New("certificates depart from the SM-PKI profile")

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// pkiArgs parses a pki subcommand's flags and positional arguments in any
// order (`pki init DIR` and `pki init -dir DIR`, `pki lint -ca R a.crt
// b.crt`) and returns the positional ones; a bad flag is a usage error.
func pkiArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parseInterspersed(fs, args); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return fs.Args(), nil
}

// dirArg resolves DIR given as -dir or as the one positional argument.
func dirArg(flagDir string, pos []string) (string, error) {
	switch {
	case len(pos) > 1:
		return "", fmt.Errorf("%w: one directory, not %d arguments %q", errUsage, len(pos), pos)
	case len(pos) == 1 && flagDir != "" && pos[0] != flagDir:
		return "", fmt.Errorf("%w: directory given twice (-dir %s and %s)", errUsage, flagDir, pos[0])
	case len(pos) == 1:
		return pos[0], nil
	case flagDir == "":
		return "", fmt.Errorf("%w: no directory", errUsage)
	}
	return flagDir, nil
}

type pkiDirOpts struct{ dir string }

func (o *pkiDirOpts) flags(name, what string) *flag.FlagSet {
	fs := flag.NewFlagSet("pki "+name, flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", what)
	return fs
}

func pkiInit(args []string, stdout, stderr io.Writer) error {
	var o pkiDirOpts
	fs := o.flags("init", "directory for the PKI (created)")
	fs.SetOutput(stderr)
	pos, err := pkiArgs(fs, args)
	if err != nil {
		return err
	}
	dir, err := dirArg(o.dir, pos)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "root.crt")); err == nil {
		return fmt.Errorf("%s already holds a PKI; refusing to overwrite its root", dir)
	}
	now := time.Now().UTC().Truncate(time.Second)
	h, err := protocol.NewHierarchy(now.Add(-time.Hour), newKey, rand.Reader)
	if err != nil {
		return err
	}
	for _, ca := range append([]*protocol.CA{h.Root}, subsOf(h)...) {
		if err := protocol.SaveCA(dir, ca.Name, ca); err != nil {
			return err
		}
		if err := writeCRL(dir, ca, nil, now); err != nil {
			return err
		}
		if ca != h.Root {
			fmt.Fprintf(stdout, "sub-CA %-20s roles %v\n", ca.Name, protocol.SubCAs[ca.Name])
		}
	}
	fmt.Fprintf(stdout, "root CA in %s (valid until %s); an empty CRL per CA, next update %s\n", dir, h.Root.Cert.NotAfter.Format(time.RFC3339), now.Add(protocol.CRLPeriod).Format(time.RFC3339))
	return nil
}

func subsOf(h *protocol.Hierarchy) []*protocol.CA {
	var out []*protocol.CA
	for _, n := range h.SubNames() {
		out = append(out, h.Subs[n])
	}
	return out
}

type pkiIssueOpts struct {
	dir, ca, roles, name, org, st, area, hosts, out string
	days                                            int
}

func (o *pkiIssueOpts) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("pki issue", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "PKI directory")
	fs.StringVar(&o.ca, "ca", "", "issuing sub-CA: "+strings.Join(protocol.SubCANames(), ", "))
	fs.StringVar(&o.roles, "role", "", "comma-separated roles")
	fs.StringVar(&o.name, "name", "", "common name (devices: defaults to the system title, the only name they may have)")
	fs.StringVar(&o.org, "org", "", "organisation (default: the issuer's)")
	fs.StringVar(&o.st, "system-title", "", "system title, 16 hex digits (meters, gateways)")
	fs.StringVar(&o.area, "area", "", "grid area (meters, grid operators)")
	fs.StringVar(&o.hosts, "host", "", "comma-separated DNS names or IP addresses a head-end serves TLS on")
	fs.IntVar(&o.days, "days", 365, "validity in days; must end before the CA does")
	fs.StringVar(&o.out, "out", "", "output prefix: PREFIX.crt (certificate and sub-CA) and PREFIX.key")
	return fs
}

func pkiIssue(args []string, stdout, stderr io.Writer) error {
	var o pkiIssueOpts
	fs := o.flags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch {
	case fs.NArg() != 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case o.dir == "" || o.ca == "" || o.roles == "" || o.out == "":
		return fmt.Errorf("%w: -dir, -ca, -role and -out are required", errUsage)
	case o.days <= 0:
		return fmt.Errorf("%w: -days must be positive", errUsage)
	}
	var rs []protocol.Role
	device := false
	for _, r := range strings.Split(o.roles, ",") {
		role := protocol.Role(strings.TrimSpace(r))
		if _, ok := protocol.RoleOID(role); !ok {
			return fmt.Errorf("%w: unknown role %q (roles: %v)", protocol.ErrRole, role, protocol.Roles())
		}
		device = device || role == protocol.RoleMeterChannel || role == protocol.RoleMeterSigning || role == protocol.RoleGateway
		rs = append(rs, role)
	}
	id := protocol.Identity{CommonName: o.name, Organization: o.org, GridArea: o.area}
	if o.st != "" {
		t, err := protocol.ParseSystemTitle(o.st)
		if err != nil {
			return fmt.Errorf("%w: -system-title: %w", errUsage, err)
		}
		dev := protocol.DeviceIdentity(t, o.area)
		id.SystemTitle = dev.SystemTitle
		if device {
			if o.name != "" && o.name != dev.CommonName {
				return fmt.Errorf("%w: a device's name is its system title %s, not %q (PKI.md, subject naming)", errUsage, dev.CommonName, o.name)
			}
			id.CommonName = dev.CommonName
		}
	} else if device {
		return fmt.Errorf("%w: roles %s name a device: -system-title is required", errUsage, o.roles)
	}
	if id.CommonName == "" {
		return fmt.Errorf("%w: -name is required", errUsage)
	}
	if o.hosts != "" {
		for _, h := range strings.Split(o.hosts, ",") {
			id.Hosts = append(id.Hosts, strings.TrimSpace(h))
		}
	}
	ca, err := loadCA(o.dir, o.ca)
	if err != nil {
		return err
	}
	if !ca.Cert.IsCA || len(ca.Cert.Policies) == 0 {
		return fmt.Errorf("%w: -ca %s is not a sub-CA; end entities are certified by a sub-CA", errUsage, o.ca)
	}
	k, err := newKey()
	if err != nil {
		return err
	}
	cert, err := ca.Issue(id, rs, &k.PublicKey, time.Now().Add(-time.Minute), time.Duration(o.days)*24*time.Hour)
	if err != nil {
		return err
	}
	if err := protocol.WriteKey(o.out+".key", k); err != nil {
		return err
	}
	if err := protocol.WriteChain(o.out+".crt", cert, ca.Cert); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %s (with %s's certificate) serial %s, valid until %s\n", o.out+".crt", o.ca, cert.SerialNumber.Text(16), cert.NotAfter.Format(time.RFC3339))
	return nil
}

// loadCA loads CA name from dir, naming the CAs there when it has none of
// that name.
func loadCA(dir, name string) (*protocol.CA, error) {
	ca, err := protocol.LoadCA(dir, name, rand.Reader)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no CA %q in %s (CAs: root, %s): %w", name, dir, strings.Join(protocol.SubCANames(), ", "), err)
	}
	return ca, err
}

// revokedEntry is one line of NAME.revoked.json, the CA's own record from
// which every CRL it issues is rebuilt.
type revokedEntry struct {
	Serial    string    `json:"serial"`
	RevokedAt time.Time `json:"revoked_at"`
	InvalidAt time.Time `json:"invalid_at"`
	Reason    int       `json:"reason"`
}

func readRevoked(dir, name string) ([]revokedEntry, error) {
	var list []revokedEntry
	path := filepath.Join(dir, name+".revoked.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}

// writeCRL issues the CA's next CRL (its number one above the current
// NAME.crl's, 1 for the first) with the entries of list, valid from now for
// CRLPeriod but never past the CA's own end, and writes NAME.crl.
func writeCRL(dir string, ca *protocol.CA, list []revokedEntry, now time.Time) error {
	path := filepath.Join(dir, ca.Name+".crl")
	number := int64(1)
	if old, err := protocol.ReadCRL(path); err == nil {
		number = old.Number.Int64() + 1
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var entries []protocol.Revocation
	for _, e := range list {
		s, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok {
			return fmt.Errorf("%w: %s.revoked.json: serial %q", protocol.ErrMalformed, ca.Name, e.Serial)
		}
		entries = append(entries, protocol.Revocation{Serial: s, RevokedAt: e.RevokedAt, InvalidAt: e.InvalidAt, ReasonCode: e.Reason})
	}
	next := now.Add(protocol.CRLPeriod)
	if next.After(ca.Cert.NotAfter) {
		next = ca.Cert.NotAfter
	}
	crl, err := ca.NewCRL(entries, number, now, next)
	if err != nil {
		return err
	}
	return protocol.WriteCRL(path, crl)
}

type pkiRevokeOpts struct {
	dir, ca, cert, invalid string
	reason                 int
}

func (o *pkiRevokeOpts) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("pki revoke", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "PKI directory")
	fs.StringVar(&o.ca, "ca", "", "the CA that issued the certificate (root for a sub-CA)")
	fs.StringVar(&o.cert, "cert", "", "certificate to revoke")
	fs.StringVar(&o.invalid, "invalid", "", "invalidity date (RFC 3339): from when the key no longer vouches; default now")
	fs.IntVar(&o.reason, "reason", 1, "RFC 5280 reason code (1 key compromise)")
	return fs
}

func pkiRevoke(args []string, stdout, stderr io.Writer) error {
	var o pkiRevokeOpts
	fs := o.flags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() != 0 || o.dir == "" || o.ca == "" || o.cert == "" {
		return fmt.Errorf("%w: -dir, -ca and -cert are required, and nothing else", errUsage)
	}
	ca, err := loadCA(o.dir, o.ca)
	if err != nil {
		return err
	}
	cert, err := protocol.ReadCertificate(o.cert)
	if err != nil {
		return err
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		return fmt.Errorf("%w: %s was not issued by %s: %w", protocol.ErrCertificate, o.cert, o.ca, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	inv := now
	if o.invalid != "" {
		if inv, err = time.Parse(time.RFC3339, o.invalid); err != nil {
			return fmt.Errorf("%w: -invalid: %w", errUsage, err)
		}
		if inv.After(now) {
			return fmt.Errorf("%w: -invalid %s is in the future", errUsage, o.invalid)
		}
	}
	list, err := readRevoked(o.dir, o.ca)
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.Serial == cert.SerialNumber.Text(16) {
			return fmt.Errorf("serial %s already revoked", e.Serial)
		}
	}
	list = append(list, revokedEntry{Serial: cert.SerialNumber.Text(16), RevokedAt: now, InvalidAt: inv.UTC(), Reason: o.reason})
	b, _ := json.MarshalIndent(list, "", "  ")
	if err := os.WriteFile(filepath.Join(o.dir, o.ca+".revoked.json"), b, 0o600); err != nil {
		return err
	}
	if err := writeCRL(o.dir, ca, list, now); err != nil {
		return err
	}
	crl, err := protocol.ReadCRL(filepath.Join(o.dir, o.ca+".crl"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked serial %s (invalid from %s); CRL number %s in %s\n", cert.SerialNumber.Text(16), inv.UTC().Format(time.RFC3339), crl.Number, filepath.Join(o.dir, o.ca+".crl"))
	return nil
}

// pkiCRL reissues the CRL of every CA in the directory with its revocations
// so far: a CA does so before nextUpdate (protocol.CRLPeriod).
func pkiCRL(args []string, stdout, stderr io.Writer) error {
	var o pkiDirOpts
	fs := o.flags("crl", "PKI directory")
	fs.SetOutput(stderr)
	pos, err := pkiArgs(fs, args)
	if err != nil {
		return err
	}
	dir, err := dirArg(o.dir, pos)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, name := range append([]string{"root"}, protocol.SubCANames()...) {
		ca, err := protocol.LoadCA(dir, name, rand.Reader)
		if err != nil {
			return err
		}
		list, err := readRevoked(dir, name)
		if err != nil {
			return err
		}
		if err := writeCRL(dir, ca, list, now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s.crl: %d revoked, next update %s\n", name, len(list), now.Add(protocol.CRLPeriod).Format(time.RFC3339))
	}
	return nil
}

// caFiles is a repeatable -ca flag.
type caFiles []string

func (c *caFiles) String() string     { return strings.Join(*c, ",") }
func (c *caFiles) Set(v string) error { *c = append(*c, v); return nil }

type pkiLintOpts struct {
	ca     caFiles
	bundle bool
}

func (o *pkiLintOpts) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("pki lint", flag.ContinueOnError)
	fs.Var(&o.ca, "ca", "PEM file of CA certificates to find issuers in (repeatable); the files linted serve too")
	fs.BoolVar(&o.bundle, "bundle", false, "each file is a bundle of unrelated certificates (meters.pem, subcas.pem), not a chain")
	return fs
}

// pkiLint checks every certificate of every file against the profile of
// protocol/PKI.md, one line per finding; any finding is exit status 1.
func pkiLint(args []string, stdout, stderr io.Writer) error {
	var o pkiLintOpts
	fs := o.flags()
	fs.SetOutput(stderr)
	files, err := pkiArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: no certificate file", errUsage)
	}
	var pool []*x509.Certificate
	for _, f := range o.ca {
		cs, err := protocol.ReadCertificates(f)
		if err != nil {
			return err
		}
		pool = append(pool, cs...)
	}
	chains := make([][]*x509.Certificate, len(files))
	for i, f := range files {
		if chains[i], err = protocol.ReadCertificates(f); err != nil {
			return err
		}
		for _, c := range chains[i] {
			if c.IsCA {
				pool = append(pool, c)
			}
		}
	}
	findings := 0
	for i, f := range files {
		groups := [][]*x509.Certificate{chains[i]}
		if o.bundle {
			groups = nil
			for _, c := range chains[i] {
				groups = append(groups, []*x509.Certificate{c})
			}
		}
		for _, g := range groups {
			found := protocol.LintChain(g, pool)
			for _, fd := range found {
				fmt.Fprintf(stdout, "%s: %v\n", f, fd)
			}
			findings += len(found)
			if len(found) == 0 {
				var types []string
				for _, c := range g {
					types = append(types, protocol.CertType(c))
				}
				fmt.Fprintf(stdout, "%s: ok (%s)\n", f, strings.Join(types, ", "))
			}
		}
	}
	if findings > 0 {
		return fmt.Errorf("%w: %d findings", errLintFindings, findings)
	}
	return nil
}

func pkiPrint(path string, stdout io.Writer) error {
	if strings.HasSuffix(path, ".crl") {
		crl, err := protocol.ReadCRL(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "CRL issuer: %s\nnumber: %s\nthis update: %s\nnext update: %s\n", crl.Issuer, crl.Number, crl.ThisUpdate.Format(time.RFC3339), crl.NextUpdate.Format(time.RFC3339))
		for _, e := range crl.RevokedCertificateEntries {
			fmt.Fprintf(stdout, "revoked: serial %s at %s reason %d\n", e.SerialNumber.Text(16), e.RevocationTime.Format(time.RFC3339), e.ReasonCode)
		}
		return nil
	}
	chain, err := protocol.ReadChain(path)
	if err != nil {
		return err
	}
	c := chain[0]
	fmt.Fprintf(stdout, "type: %s\nsubject: %s\nissuer: %s\nserial: %s\nvalid: %s .. %s\nCA: %v\n", protocol.CertType(c), c.Subject, c.Issuer, c.SerialNumber.Text(16), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), c.IsCA)
	for _, r := range protocol.CertRoles(c) {
		fmt.Fprintf(stdout, "role: %s\n", r)
	}
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			fmt.Fprintln(stdout, "extended key usage: id-kp-serverAuth")
		case x509.ExtKeyUsageClientAuth:
			fmt.Fprintln(stdout, "extended key usage: id-kp-clientAuth")
		case x509.ExtKeyUsageCodeSigning:
			fmt.Fprintln(stdout, "extended key usage: id-kp-codeSigning")
		}
	}
	for _, h := range c.DNSNames {
		fmt.Fprintf(stdout, "host: %s\n", h)
	}
	for _, ip := range c.IPAddresses {
		fmt.Fprintf(stdout, "host: %s\n", ip)
	}
	for _, u := range c.CRLDistributionPoints {
		fmt.Fprintf(stdout, "CRL: %s\n", u)
	}
	if st, ok := protocol.CertSystemTitle(c); ok {
		fmt.Fprintf(stdout, "system title: %x\n", st[:])
	}
	if a := protocol.CertGridArea(c); a != "" {
		fmt.Fprintf(stdout, "grid area: %s\n", a)
	}
	for _, ca := range chain[1:] {
		fmt.Fprintf(stdout, "chain: %s\n", ca.Subject)
	}
	return nil
}
