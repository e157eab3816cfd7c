package sim

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/verimeter/verimeter/protocol"
)

// export writes the PKI root, the manufacturer sub-CA and meter
// certificates, and sample signed data for verimeter verify.
func (w *world) export(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := protocol.WriteCertificate(filepath.Join(dir, "root.pem"), w.root.Cert); err != nil {
		return err
	}
	var pemCerts []byte
	add := func(c *x509.Certificate) {
		pemCerts = append(pemCerts, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	add(w.subs["manufacturer"].Cert)
	add(w.subs["head-end-operator"].Cert)
	add(w.logCert)
	for _, n := range w.meters {
		add(n.cert)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs.pem"), pemCerts, 0o644); err != nil {
		return err
	}
	// A tree head on demand, so every exported item has its inclusion proof
	// (FILE.log): the evidence that keeps it valid after a revocation.
	ctx := context.Background()
	if _, err := w.he.SignTreeHead(ctx); err != nil {
		return err
	}
	write := func(name string, content, sign1 []byte) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
		ev, err := w.he.EvidenceFor(ctx, sign1)
		if err != nil {
			return err
		}
		b, err := ev.Marshal()
		if err != nil {
			return err
		}
		return os.WriteFile(path+".log", b, 0o644)
	}
	for i, r := range w.readings {
		if err := write(fmt.Sprintf("reading-%d.cbor", i), r, r); err != nil {
			return err
		}
	}
	for i, p := range w.proofs {
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		if err := write(fmt.Sprintf("interval-%d.cbor", i), b, p.Sign1); err != nil {
			return err
		}
	}
	return nil
}
