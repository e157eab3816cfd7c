package main

import (
	"bytes"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

func TestPKICommands(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	runOK("pki", "init", "-dir", pki)
	meter := filepath.Join(dir, "meter1")
	runOK("pki", "issue", "-dir", pki, "-ca", "manufacturer", "-role", "meter-metrology", "-system-title", "564d520000000001", "-out", meter)
	out := runOK("pki", "print", meter+".crt")
	for _, want := range []string{"role: meter-metrology", "system title: 564d520000000001", "CN=564d520000000001,O=verimeter SM-PKI,C=DE", "CRL: http://crl.verimeter.example/manufacturer.crl", "chain: CN=manufacturer CA"} {
		if !strings.Contains(out, want) {
			t.Fatalf("print lacks %q:\n%s", want, out)
		}
	}
	runOK("pki", "revoke", "-dir", pki, "-ca", "manufacturer", "-cert", meter+".crt", "-invalid", time.Now().Add(-20*time.Second).UTC().Format(time.RFC3339))
	if out := runOK("pki", "print", filepath.Join(pki, "manufacturer.crl")); !strings.Contains(out, "revoked: serial") || !strings.Contains(out, "number: 2") {
		t.Fatalf("CRL print: %s", out)
	}
	// The files make a PKI the library validates: revoked 20 s ago.
	root, _ := protocol.ReadCertificate(filepath.Join(pki, "root.crt"))
	sub, _ := protocol.ReadCertificate(filepath.Join(pki, "manufacturer.crt"))
	crl, err := protocol.ReadCRL(filepath.Join(pki, "manufacturer.crl"))
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := protocol.ReadCertificate(meter + ".crt")
	v, err := protocol.NewValidator([]*x509.Certificate{root}, []*x509.Certificate{sub}, []*x509.RevocationList{crl})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(cert, protocol.RoleMeterSigning, time.Now().Add(-50*time.Second)); err != nil {
		t.Fatalf("before invalidity: %v", err)
	}
	if err := v.Check(cert, protocol.RoleMeterSigning, time.Now()); err == nil {
		t.Fatal("revoked certificate accepted now")
	}
	// Bad usage and refusing to overwrite.
	var o, e bytes.Buffer
	if code := run([]string{"pki", "init", "-dir", pki}, &o, &e); code != 1 || !strings.Contains(e.String(), "refusing") {
		t.Fatalf("re-init: exit %d %s", code, e.String())
	}
	if code := run([]string{"pki", "issue", "-dir", pki}, &o, &e); code != 2 {
		t.Fatalf("issue without flags: exit %d", code)
	}
	// A device is named by its system title only (PKI.md, subject naming),
	// and a device role without one is refused.
	if code := run([]string{"pki", "issue", "-dir", pki, "-ca", "manufacturer", "-role", "meter-metrology", "-system-title", "564d520000000002", "-name", "meter 2", "-out", filepath.Join(dir, "m2")}, &o, &e); code != 2 {
		t.Fatalf("device with another name: exit %d", code)
	}
	if code := run([]string{"pki", "issue", "-dir", pki, "-ca", "gateway-operator", "-role", "gateway", "-name", "gw", "-out", filepath.Join(dir, "gw")}, &o, &e); code != 2 {
		t.Fatalf("gateway without a system title: exit %d", code)
	}
	if code := run([]string{"pki", "issue", "-dir", pki, "-ca", "manufacturer", "-role", "supplier", "-name", "x", "-out", filepath.Join(dir, "x")}, &o, &e); code != 1 {
		t.Fatalf("sub-CA issuing outside its roles: exit %d", code)
	}
}
