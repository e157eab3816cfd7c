//go:build !device

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

// requireTool finds a Debian tool the interop tests run. `make test`
// installs them first (.ci/deps.sh); a test that cannot find one fails with
// the remedy rather than skipping.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing: run make deps (.ci/deps.sh installs it): %v", name, err)
	}
	return p
}

func pkiCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("verimeter %s: exit %d: %s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// tlsCert is a TLS certificate file the project issues and the purpose a
// standard verifier checks it for.
type tlsCert struct {
	file, subCA string
	server      bool
}

// pkiFixture is everything `pki init`, `pki issue` and `provision` write:
// two PKI directories and the TLS certificates among their files.
type pkiFixture struct {
	initDir, provDir string
	tls              []tlsCert
	chains           []string // every end-entity chain file
}

func newPKIFixture(t *testing.T) *pkiFixture {
	t.Helper()
	dir := t.TempDir()
	f := &pkiFixture{initDir: filepath.Join(dir, "pki"), provDir: filepath.Join(dir, "prov")}
	pkiCLI(t, "pki", "init", f.initDir)
	issue := func(name, ca string, server bool, args ...string) {
		out := filepath.Join(dir, name)
		pkiCLI(t, append([]string{"pki", "issue", "-dir", f.initDir, "-ca", ca, "-out", out}, args...)...)
		f.chains = append(f.chains, out+".crt")
		if !strings.HasPrefix(name, "meter") {
			f.tls = append(f.tls, tlsCert{out + ".crt", filepath.Join(f.initDir, ca+".crt"), server})
		}
	}
	issue("headend", "head-end-operator", true, "-role", "head-end", "-name", "head-end.example", "-host", "head-end.example,127.0.0.1", "-days", "730")
	issue("gateway", "gateway-operator", false, "-role", "gateway", "-system-title", "5647570000000007", "-days", "2920")
	issue("supplier", "market-participant", false, "-role", "supplier", "-name", "supplier-z")
	issue("gridop", "market-participant", false, "-role", "grid-operator", "-name", "grid operator", "-area", "Nord")
	issue("meter", "manufacturer", false, "-role", "meter-metrology", "-system-title", "564d520000000007", "-area", "Nord")
	if err := provision(f.provDir, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	pki := filepath.Join(f.provDir, "pki")
	f.tls = append(f.tls,
		tlsCert{filepath.Join(pki, "headend-tls.crt"), filepath.Join(pki, "head-end-operator-ca.crt"), true},
		tlsCert{filepath.Join(pki, "gw-00-tls.crt"), filepath.Join(pki, "gateway-operator-ca.crt"), false},
		tlsCert{filepath.Join(pki, "supplier-a.crt"), filepath.Join(pki, "market-participant-ca.crt"), false},
		tlsCert{filepath.Join(pki, "supplier-b.crt"), filepath.Join(pki, "market-participant-ca.crt"), false},
	)
	all, _ := filepath.Glob(filepath.Join(pki, "*.crt"))
	for _, c := range all {
		if !strings.HasSuffix(c, "-ca.crt") && filepath.Base(c) != "root.crt" {
			f.chains = append(f.chains, c)
		}
	}
	return f
}

// rootOf is the root certificate of the PKI a file belongs to.
func (f *pkiFixture) rootOf(file string) string {
	if strings.HasPrefix(file, f.provDir) {
		return filepath.Join(f.provDir, "pki", "root.crt")
	}
	return filepath.Join(f.initDir, "root.crt")
}

// TestOpenSSLAcceptsEveryTLSCertificate: `openssl verify -purpose
// sslserver|sslclient` with the root as the only trust anchor and the sub-CA
// as untrusted intermediate accepts every TLS certificate that `pki issue`
// and `provision` write, and refuses the other purpose where it does not
// apply (a client certificate is no server's).
func TestOpenSSLAcceptsEveryTLSCertificate(t *testing.T) {
	openssl := requireTool(t, "openssl")
	f := newPKIFixture(t)
	for _, c := range f.tls {
		purpose, other := "sslclient", "sslserver"
		if c.server {
			purpose, other = "sslserver", "sslclient"
		}
		out, err := exec.Command(openssl, "verify", "-purpose", purpose, "-CAfile", f.rootOf(c.file), "-untrusted", c.subCA, c.file).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte(": OK")) {
			t.Errorf("openssl verify -purpose %s %s: %v\n%s", purpose, c.file, err, out)
		}
		if out, err := exec.Command(openssl, "verify", "-purpose", other, "-CAfile", f.rootOf(c.file), "-untrusted", c.subCA, c.file).CombinedOutput(); err == nil {
			t.Errorf("openssl verify -purpose %s accepted %s:\n%s", other, c.file, out)
		}
	}
}

// TestOpenSSLCRLCheckRightAfterInit: every CA of `pki init` has a CRL from
// the start, so `openssl verify -crl_check_all` works before the first
// revocation, and sees the first revocation after it.
func TestOpenSSLCRLCheckRightAfterInit(t *testing.T) {
	openssl := requireTool(t, "openssl")
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	pkiCLI(t, "pki", "init", "-dir", pki)
	sup := filepath.Join(dir, "supplier")
	pkiCLI(t, "pki", "issue", "-dir", pki, "-ca", "market-participant", "-role", "supplier", "-name", "supplier-x", "-out", sup)
	verify := func() ([]byte, error) {
		return exec.Command(openssl, "verify", "-crl_check_all", "-purpose", "sslclient",
			"-CAfile", filepath.Join(pki, "root.crt"), "-untrusted", filepath.Join(pki, "market-participant.crt"),
			"-CRLfile", filepath.Join(pki, "root.crl"), "-CRLfile", filepath.Join(pki, "market-participant.crl"), sup+".crt").CombinedOutput()
	}
	if out, err := verify(); err != nil {
		t.Fatalf("right after pki init: %v\n%s", err, out)
	}
	for _, n := range append([]string{"root"}, protocol.SubCANames()...) {
		crl, err := protocol.ReadCRL(filepath.Join(pki, n+".crl"))
		if err != nil {
			t.Fatalf("%s has no CRL after init: %v", n, err)
		}
		if crl.Number.Int64() != 1 || len(crl.RevokedCertificateEntries) != 0 || crl.NextUpdate.Sub(crl.ThisUpdate) != protocol.CRLPeriod {
			t.Errorf("%s.crl: number %s, %d entries, %s .. %s", n, crl.Number, len(crl.RevokedCertificateEntries), crl.ThisUpdate, crl.NextUpdate)
		}
	}
	pkiCLI(t, "pki", "revoke", "-dir", pki, "-ca", "market-participant", "-cert", sup+".crt")
	if out, err := verify(); err == nil || !bytes.Contains(out, []byte("revoked")) {
		t.Fatalf("after revocation: %v\n%s", err, out)
	}
	pkiCLI(t, "pki", "crl", pki)
	if crl, err := protocol.ReadCRL(filepath.Join(pki, "market-participant.crl")); err != nil || crl.Number.Int64() != 3 || len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("reissued CRL: %v", err)
	}
}

// TestGoVerifiesEveryChainFromTheRootAlone: Go's x509.Verify, with only the
// root in Roots and the intermediates from the chain files, accepts every
// end-entity certificate the project issues, for the usage it is for.
func TestGoVerifiesEveryChainFromTheRootAlone(t *testing.T) {
	f := newPKIFixture(t)
	for _, file := range f.chains {
		chain, err := protocol.ReadChain(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(chain) != 2 {
			t.Errorf("%s: %d certificates, want the certificate and its sub-CA", file, len(chain))
			continue
		}
		root, err := protocol.ReadCertificate(f.rootOf(file))
		if err != nil {
			t.Fatal(err)
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(root)
		inter.AddCert(chain[1])
		usage := x509.ExtKeyUsageAny
		switch roles := protocol.CertRoles(chain[0]); {
		case slices.Contains(chain[0].ExtKeyUsage, x509.ExtKeyUsageServerAuth):
			usage = x509.ExtKeyUsageServerAuth
		case slices.Contains(roles, protocol.RoleGateway), slices.Contains(roles, protocol.RoleSupplier), slices.Contains(roles, protocol.RoleGridOperator):
			usage = x509.ExtKeyUsageClientAuth
		case slices.Contains(roles, protocol.RoleManufacturer), slices.Contains(roles, protocol.RoleAuthority):
			usage = x509.ExtKeyUsageCodeSigning
		}
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s (%s): %v", file, protocol.CertType(chain[0]), err)
		}
	}
	// The head-end's certificate as a browser checks it: default usages
	// (server authentication) and the address the README's walkthrough uses.
	chain, _ := protocol.ReadChain(filepath.Join(f.provDir, "pki", "headend-tls.crt"))
	root, _ := protocol.ReadCertificate(filepath.Join(f.provDir, "pki", "root.crt"))
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("head-end for 127.0.0.1: %v", err)
	}
}

// TestPKILintPassesOnWhatWeIssue: `pki lint` finds nothing in any
// certificate `pki init`, `pki issue` and `provision` write, and exits 1
// with the rule named on a certificate outliving its CA.
func TestPKILintPassesOnWhatWeIssue(t *testing.T) {
	f := newPKIFixture(t)
	initFiles, _ := filepath.Glob(filepath.Join(f.initDir, "*.crt"))
	provFiles, _ := filepath.Glob(filepath.Join(f.provDir, "pki", "*.crt"))
	for _, set := range [][]string{
		append(append([]string{"pki", "lint", "-ca", filepath.Join(f.initDir, "root.crt")}, initFiles...), f.chains[:5]...),
		append([]string{"pki", "lint", "-ca", filepath.Join(f.provDir, "pki", "root.crt")}, provFiles...),
		{"pki", "lint", "-bundle", "-ca", filepath.Join(f.provDir, "pki", "root.crt"), "-ca", filepath.Join(f.provDir, "pki", "subcas.pem"), filepath.Join(f.provDir, "pki", "meters.pem"), filepath.Join(f.provDir, "pki", "subcas.pem")},
	} {
		out := pkiCLI(t, set...)
		if strings.Count(out, ": ok (") < 2 {
			t.Errorf("pki lint printed no verdicts:\n%s", out)
		}
	}
}

// TestPKIIssueRefusesOutlivingItsCA: `pki issue -days` past the sub-CA's
// end is the typed error of nested validity (exit 1), where it used to
// issue a certificate that expired after its chain did.
func TestPKIIssueRefusesOutlivingItsCA(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	pkiCLI(t, "pki", "init", pki)
	var out, errb bytes.Buffer
	err := pkiIssue([]string{"-dir", pki, "-ca", "manufacturer", "-role", "meter-metrology", "-system-title", "564d520000000001", "-days", "7300", "-out", filepath.Join(dir, "m")}, &out, &errb)
	if !errors.Is(err, protocol.ErrValidityNotNested) {
		t.Fatalf("pki issue -days 7300: %v", err)
	}
	if code := run([]string{"pki", "issue", "-dir", pki, "-ca", "manufacturer", "-role", "meter-metrology", "-system-title", "564d520000000001", "-days", "7300", "-out", filepath.Join(dir, "m")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not within") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "m.crt")); err == nil {
		t.Fatal("a refused certificate was written")
	}
}

// TestPKILintFlagsBadCertificates: `pki lint` exits 1 and names the rule
// for a certificate outliving its CA and for a TLS client certificate
// without id-kp-clientAuth, both made outside `pki issue` (as an old
// release or another CA product made them).
func TestPKILintFlagsBadCertificates(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	pkiCLI(t, "pki", "init", pki)
	ca, err := protocol.LoadCA(pki, "market-participant", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, rule string
		edit       func(*x509.Certificate)
	}{
		{"outliving", "validity not within the issuer's", func(c *x509.Certificate) { c.NotAfter = ca.Cert.NotAfter.Add(24 * time.Hour) }},
		{"no-eku", "extended key usage", func(c *x509.Certificate) { c.ExtKeyUsage = nil }},
	} {
		file := filepath.Join(dir, c.name+".crt")
		writeHandMade(t, ca, file, c.edit)
		var out, errb bytes.Buffer
		code := run([]string{"pki", "lint", "-ca", filepath.Join(pki, "root.crt"), file}, &out, &errb)
		if code != 1 || !strings.Contains(out.String(), c.rule) {
			t.Errorf("%s: exit %d, want 1 naming %q:\n%s%s", c.name, code, c.rule, out.String(), errb.String())
		}
	}
}

// TestPKIUsageMatchesFlags: the usage text lists exactly the flags each
// subcommand defines, and nothing it does not.
func TestPKIUsageMatchesFlags(t *testing.T) {
	sets := map[string]*flag.FlagSet{
		"init":   (&pkiDirOpts{}).flags("init", ""),
		"issue":  (&pkiIssueOpts{}).flags(),
		"revoke": (&pkiRevokeOpts{}).flags(),
		"crl":    (&pkiDirOpts{}).flags("crl", ""),
		"lint":   (&pkiLintOpts{}).flags(),
		"print":  flag.NewFlagSet("print", flag.ContinueOnError),
	}
	flagRE := regexp.MustCompile(`(?:^|[\s\[])-([a-z][a-z-]*)`)
	seen := map[string]bool{}
	for _, line := range strings.Split(pkiUsage, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "verimeter" {
			continue
		}
		sub := fields[2]
		fs, ok := sets[sub]
		if !ok {
			t.Errorf("usage names subcommand %q that has no flag set here", sub)
			continue
		}
		seen[sub] = true
		var inUsage []string
		for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
			inUsage = append(inUsage, m[1])
		}
		var defined []string
		fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
		slices.Sort(inUsage)
		slices.Sort(defined)
		if !slices.Equal(slices.Compact(inUsage), defined) {
			t.Errorf("pki %s: usage lists %v, the flag set defines %v", sub, inUsage, defined)
		}
	}
	for sub := range sets {
		if !seen[sub] {
			t.Errorf("usage lacks pki %s", sub)
		}
	}
	// Every subcommand answers to an unknown flag with the usage, exit 2.
	for sub := range sets {
		var out, errb bytes.Buffer
		if code := run([]string{"pki", sub, "-no-such-flag", "x"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
			t.Errorf("pki %s -no-such-flag: exit %d: %s", sub, code, errb.String())
		}
	}
}

// TestPKIInitDirectoryForms: `pki init DIR` and `pki init -dir DIR` both
// make a PKI; two different directories or none are usage errors.
func TestPKIInitDirectoryForms(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{{filepath.Join(dir, "a")}, {"-dir", filepath.Join(dir, "b")}} {
		pkiCLI(t, append([]string{"pki", "init"}, args...)...)
		if _, err := protocol.ReadCertificate(filepath.Join(args[len(args)-1], "root.crt")); err != nil {
			t.Errorf("form %d: %v", i, err)
		}
	}
	for _, args := range [][]string{{}, {"-dir", filepath.Join(dir, "c"), filepath.Join(dir, "d")}, {filepath.Join(dir, "e"), filepath.Join(dir, "f")}} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"pki", "init"}, args...), &out, &errb); code != 2 {
			t.Errorf("pki init %v: exit %d, want 2: %s", args, code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Error("a refused command line created a directory")
	}
}

// writeHandMade writes a supplier certificate made directly with
// crypto/x509 from the profile's own template, after edit.
func writeHandMade(t *testing.T, ca *protocol.CA, path string, edit func(*x509.Certificate)) {
	t.Helper()
	k, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	// Issue a correct certificate, then reuse it as the template.
	good, err := ca.Issue(protocol.Identity{CommonName: "hand made"}, []protocol.Role{protocol.RoleSupplier}, &k.PublicKey, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	edit(good)
	der, err := x509.CreateCertificate(rand.Reader, good, ca.Cert, &k.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.WriteChain(path, c, ca.Cert); err != nil {
		t.Fatal(err)
	}
}

// curlIntervals asks the head-end at addr for a day of meter's intervals
// with curl, trusting the provisioned root alone, as the participant who
// owns cert does; it returns the HTTP status and the body.
func curlIntervals(t *testing.T, curl, pki, addr, who, meter string, day time.Time) (int, []byte) {
	t.Helper()
	return curlGet(t, curl, pki, addr, who, fmt.Sprintf("/v1/meters/%s/intervals?from=%s&to=%s", meter, day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)))
}

// TestCurlAgainstTheHeadEnd: curl with the root as its only CA (no -k)
// verifies the head-end a provisioned deployment runs, and the head-end
// answers 200 to a supplier with a contract and 403 to one without.
func TestCurlAgainstTheHeadEnd(t *testing.T) {
	curl := requireTool(t, "curl")
	work := t.TempDir()
	if err := provision(work, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- headendServe(filepath.Join(work, "headend.json"), nil, io.Discard, io.Discard, stop) }()
	defer func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("head-end: %v", err)
		}
	}()
	var addr []byte
	for deadline := time.Now().Add(20 * time.Second); len(addr) == 0; {
		addr, _ = os.ReadFile(filepath.Join(work, "headend.addr"))
		select {
		case err := <-done:
			t.Fatalf("head-end stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("head-end did not write its address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var m0 meterFile
	if err := readJSON(filepath.Join(work, "meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	day := time.Unix(m0.Day*86400, 0).UTC()
	pki := filepath.Join(work, "pki")
	if code, body := curlIntervals(t, curl, pki, string(addr), "supplier-a", m0.Title, day); code != 200 || !bytes.Contains(body, []byte(`"meter":"`+m0.Title+`"`)) {
		t.Fatalf("supplier with a contract: %d %s", code, body)
	}
	if code, body := curlIntervals(t, curl, pki, string(addr), "supplier-b", m0.Title, day); code != 403 || !bytes.Contains(body, []byte("no contract")) {
		t.Fatalf("supplier without a contract: %d %s", code, body)
	}
}

// TestLoadTLSSendsTheSubCA: the chain the head-end and the gateways present
// holds their sub-CA, whether their certificate file carries it (as
// provision writes it) or holds the certificate alone; a key that does not
// match is refused.
func TestLoadTLSSendsTheSubCA(t *testing.T) {
	work := t.TempDir()
	if err := provision(work, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	pki := filepath.Join(work, "pki")
	subs, err := protocol.ReadCertificates(filepath.Join(pki, "subcas.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"headend-tls", "gw-00-tls"} {
		c, err := loadTLS(filepath.Join(pki, who+".crt"), filepath.Join(pki, who+".key"), nil)
		if err != nil || len(c.Certificate) != 2 {
			t.Fatalf("%s: %d certificates, %v", who, len(c.Certificate), err)
		}
		leafOnly := filepath.Join(work, who+"-leaf.crt")
		if err := protocol.WriteCertificate(leafOnly, c.Leaf); err != nil {
			t.Fatal(err)
		}
		c2, err := loadTLS(leafOnly, filepath.Join(pki, who+".key"), subs)
		if err != nil || len(c2.Certificate) != 2 || !bytes.Equal(c2.Certificate[1], c.Certificate[1]) {
			t.Fatalf("%s from the certificate alone: %d certificates, %v", who, len(c2.Certificate), err)
		}
	}
	if _, err := loadTLS(filepath.Join(pki, "headend-tls.crt"), filepath.Join(pki, "gw-00-tls.key"), nil); !errors.Is(err, protocol.ErrCertificate) {
		t.Fatalf("mismatched key: %v", err)
	}
}
