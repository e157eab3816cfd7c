package sim

import (
	"bytes"
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
	// (FILE.log): the evidence that keeps it valid after a revocation. An
	// operator asks for both through the operator API.
	ctx := context.Background()
	if err := w.alice.treeHead(ctx); err != nil {
		return err
	}
	write := func(name string, content, sign1 []byte, meter protocol.SystemTitle, counter uint64) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
		signed, ev, err := w.alice.evidence(ctx, meter, counter)
		if err != nil {
			return err
		}
		if !bytes.Equal(signed, sign1) {
			return fmt.Errorf("%s: the head-end's evidence is for another item than meter %x's counter %d", name, meter, counter)
		}
		return os.WriteFile(path+".log", ev, 0o644)
	}
	for i, r := range w.readings {
		rd, err := w.verify.VerifyReading(r)
		if err != nil {
			return fmt.Errorf("reading %d: %w", i, err)
		}
		if err := write(fmt.Sprintf("reading-%d.cbor", i), r, r, rd.Meter, rd.Counter); err != nil {
			return err
		}
	}
	for i, p := range w.proofs {
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		h, err := w.verify.VerifyBlockHeader(p.Sign1)
		if err != nil {
			return fmt.Errorf("interval proof %d: %w", i, err)
		}
		if err := write(fmt.Sprintf("interval-%d.cbor", i), b, p.Sign1, h.Meter, h.Counter); err != nil {
			return err
		}
	}
	return nil
}
