package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

func init() {
	register(command{name: "pki", summary: "test SM-PKI: init, issue, revoke, print", run: runPKI})
}

const pkiUsage = `usage:
  verimeter pki init    -dir DIR [-validity 20y]
  verimeter pki issue   -dir DIR -ca SUBCA -role ROLE[,ROLE] -name CN [-system-title HEX16] [-area NAME] [-days N] -out PREFIX
  verimeter pki revoke  -dir DIR -ca SUBCA -cert FILE [-invalid RFC3339] [-reason N]
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
	case "print":
		if len(args) != 2 {
			fmt.Fprint(stderr, pkiUsage)
			return 2
		}
		err = pkiPrint(args[1], stdout)
	default:
		fmt.Fprint(stderr, pkiUsage)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "verimeter pki %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func pkiInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pki init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory for the PKI (created)")
	years := fs.Int("years", 20, "root validity in years (sub-CAs: half)")
	if err := fs.Parse(args); err != nil || *dir == "" || *years <= 0 {
		fmt.Fprint(stderr, pkiUsage)
		return errUsage
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dir, "root.crt")); err == nil {
		return fmt.Errorf("%s already holds a PKI; refusing to overwrite its root", *dir)
	}
	now := time.Now().Add(-time.Hour)
	year := 365 * 24 * time.Hour
	rk, err := newKey()
	if err != nil {
		return err
	}
	root, err := protocol.NewRootCA("verimeter root CA", rk, now, time.Duration(*years)*year, rand.Reader)
	if err != nil {
		return err
	}
	if err := protocol.SaveCA(*dir, "root", root); err != nil {
		return err
	}
	names := make([]string, 0, len(protocol.SubCAs))
	for n := range protocol.SubCAs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k, err := newKey()
		if err != nil {
			return err
		}
		sub, err := root.NewSubCA(n+" CA", protocol.SubCAs[n], k, now, time.Duration(*years)*year/2)
		if err != nil {
			return err
		}
		if err := protocol.SaveCA(*dir, n, sub); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sub-CA %-20s roles %v\n", n, protocol.SubCAs[n])
	}
	fmt.Fprintf(stdout, "root CA in %s\n", *dir)
	return nil
}

func pkiIssue(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pki issue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "PKI directory")
	caName := fs.String("ca", "", "issuing sub-CA")
	roles := fs.String("role", "", "comma-separated roles")
	name := fs.String("name", "", "common name")
	st := fs.String("system-title", "", "system title, 16 hex digits (meters, gateways)")
	area := fs.String("area", "", "grid area (meters, grid operators)")
	days := fs.Int("days", 365, "validity in days")
	out := fs.String("out", "", "output prefix: PREFIX.crt and PREFIX.key")
	if err := fs.Parse(args); err != nil || *dir == "" || *caName == "" || *roles == "" || *name == "" || *out == "" || *days <= 0 {
		fmt.Fprint(stderr, pkiUsage)
		return errUsage
	}
	ca, err := protocol.LoadCA(*dir, *caName, rand.Reader)
	if err != nil {
		return err
	}
	id := protocol.Identity{CommonName: *name, GridArea: *area}
	if *st != "" {
		b, err := hex.DecodeString(*st)
		if err != nil || len(b) != protocol.SystemTitleLen {
			return fmt.Errorf("system title must be %d hex digits", 2*protocol.SystemTitleLen)
		}
		var t protocol.SystemTitle
		copy(t[:], b)
		id.SystemTitle = &t
	}
	var rs []protocol.Role
	for _, r := range strings.Split(*roles, ",") {
		rs = append(rs, protocol.Role(strings.TrimSpace(r)))
	}
	k, err := newKey()
	if err != nil {
		return err
	}
	cert, err := ca.Issue(id, rs, &k.PublicKey, time.Now().Add(-time.Minute), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	if err := protocol.WriteKey(*out+".key", k); err != nil {
		return err
	}
	if err := protocol.WriteCertificate(*out+".crt", cert); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %s serial %s by %s\n", *out+".crt", cert.SerialNumber.Text(16), *caName)
	return nil
}

type revokedEntry struct {
	Serial    string    `json:"serial"`
	RevokedAt time.Time `json:"revoked_at"`
	InvalidAt time.Time `json:"invalid_at"`
	Reason    int       `json:"reason"`
}

func pkiRevoke(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pki revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "PKI directory")
	caName := fs.String("ca", "", "issuing sub-CA")
	certPath := fs.String("cert", "", "certificate to revoke")
	invalid := fs.String("invalid", "", "invalidity date (RFC 3339): from when the key no longer vouches; default now")
	reason := fs.Int("reason", 1, "RFC 5280 reason code (1 key compromise)")
	if err := fs.Parse(args); err != nil || *dir == "" || *caName == "" || *certPath == "" {
		fmt.Fprint(stderr, pkiUsage)
		return errUsage
	}
	ca, err := protocol.LoadCA(*dir, *caName, rand.Reader)
	if err != nil {
		return err
	}
	cert, err := protocol.ReadCertificate(*certPath)
	if err != nil {
		return err
	}
	if cert.CheckSignatureFrom(ca.Cert) != nil {
		return fmt.Errorf("%s was not issued by %s", *certPath, *caName)
	}
	now := time.Now().UTC().Truncate(time.Second)
	inv := now
	if *invalid != "" {
		if inv, err = time.Parse(time.RFC3339, *invalid); err != nil {
			return fmt.Errorf("-invalid: %v", err)
		}
		if inv.After(now) {
			return fmt.Errorf("-invalid %s is in the future", *invalid)
		}
	}
	listPath := filepath.Join(*dir, *caName+".revoked.json")
	var list []revokedEntry
	if b, err := os.ReadFile(listPath); err == nil {
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("%s: %v", listPath, err)
		}
	}
	for _, e := range list {
		if e.Serial == cert.SerialNumber.Text(16) {
			return fmt.Errorf("serial %s already revoked", e.Serial)
		}
	}
	list = append(list, revokedEntry{Serial: cert.SerialNumber.Text(16), RevokedAt: now, InvalidAt: inv.UTC(), Reason: *reason})
	var entries []protocol.Revocation
	for _, e := range list {
		s, _ := new(big.Int).SetString(e.Serial, 16)
		entries = append(entries, protocol.Revocation{Serial: s, RevokedAt: e.RevokedAt, InvalidAt: e.InvalidAt, ReasonCode: e.Reason})
	}
	crl, err := ca.NewCRL(entries, int64(len(list)), now, now.Add(7*24*time.Hour))
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(list, "", "  ")
	if err := os.WriteFile(listPath, b, 0o600); err != nil {
		return err
	}
	if err := protocol.WriteCRL(filepath.Join(*dir, *caName+".crl"), crl); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked serial %s (invalid from %s); CRL number %d in %s\n", cert.SerialNumber.Text(16), inv.UTC().Format(time.RFC3339), len(list), filepath.Join(*dir, *caName+".crl"))
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
	c, err := protocol.ReadCertificate(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "subject: %s\nissuer: %s\nserial: %s\nvalid: %s .. %s\nCA: %v\n", c.Subject, c.Issuer, c.SerialNumber.Text(16), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), c.IsCA)
	for _, r := range []protocol.Role{protocol.RoleMeterChannel, protocol.RoleMeterSigning, protocol.RoleGateway, protocol.RoleHeadEnd, protocol.RoleSupplier, protocol.RoleGridOperator, protocol.RoleManufacturer, protocol.RoleAuthority, protocol.RoleTrustListSign} {
		oid, _ := protocol.RoleOID(r)
		for _, o := range c.UnknownExtKeyUsage {
			if o.Equal(oid) {
				fmt.Fprintf(stdout, "role: %s\n", r)
			}
		}
	}
	if st, ok := protocol.CertSystemTitle(c); ok {
		fmt.Fprintf(stdout, "system title: %x\n", st[:])
	}
	if a := protocol.CertGridArea(c); a != "" {
		fmt.Fprintf(stdout, "grid area: %s\n", a)
	}
	return nil
}
