//go:build !device

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

func genKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// theftWorld exports, as a participant or court receives them, the files
// of one meter whose signing key is stolen at 12:00 and revoked with that
// invalidity date: what the head-end logged before, and what it logged
// (without the CRL yet) after.
type theftWorld struct {
	dir       string
	t0, now   time.Time
	meter     protocol.SystemTitle
	meterKey  *ecdsa.PrivateKey
	meterCert *x509.Certificate
	root      *protocol.CA
	subs      map[string]*protocol.CA
	he        *headend.HeadEnd
	store     *headend.Store
	signer    *protocol.MeterSigner
	logKey    *ecdsa.PrivateKey
	operator  *x509.Certificate // asks the operator API for tree heads and evidence
}

func newTheftWorld(t *testing.T) *theftWorld {
	w := &theftWorld{dir: t.TempDir(), t0: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), subs: map[string]*protocol.CA{}}
	var err error
	if w.root, err = protocol.NewRootCA("root", genKey(t), w.t0.Add(-time.Hour), 10*365*24*time.Hour, rand.Reader); err != nil {
		t.Fatal(err)
	}
	var subCerts []*x509.Certificate
	for _, name := range []string{"manufacturer", "head-end-operator"} {
		if w.subs[name], err = w.root.NewSubCA(name, protocol.SubCAs[name], genKey(t), w.t0.Add(-time.Hour), 5*365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		subCerts = append(subCerts, w.subs[name].Cert)
	}
	w.meter = protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 7}
	w.meterKey = genKey(t)
	if w.meterCert, err = w.subs["manufacturer"].Issue(protocol.Identity{CommonName: "meter 7", SystemTitle: &w.meter}, []protocol.Role{protocol.RoleMeterSigning}, &w.meterKey.PublicKey, w.t0.Add(-time.Hour), 4*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	logKey := genKey(t)
	w.logKey = logKey
	logCert, err := w.subs["head-end-operator"].Issue(protocol.Identity{CommonName: "head-end transparency log"}, []protocol.Role{protocol.RoleHeadEnd}, &logKey.PublicKey, w.t0.Add(-time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if w.operator, err = w.subs["head-end-operator"].Issue(protocol.Identity{CommonName: "operator alice"}, []protocol.Role{protocol.RoleHeadEnd}, &genKey(t).PublicKey, w.t0.Add(-time.Hour), 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := protocol.WriteCertificate(filepath.Join(w.dir, "root.pem"), w.root.Cert); err != nil {
		t.Fatal(err)
	}
	if err := protocol.WriteChain(filepath.Join(w.dir, "certs.pem"), append(subCerts, w.meterCert, logCert)...); err != nil {
		t.Fatal(err)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{w.root.Cert}, subCerts, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := protocol.NewMeterDirectory(val, []*x509.Certificate{w.meterCert})
	if err != nil {
		t.Fatal(err)
	}
	if w.store, err = headend.OpenStore(filepath.Join(t.TempDir(), "he.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.store.Close() })
	// This head-end has no CRL yet: it logs whatever verifies.
	w.he = headend.New(headend.Config{Store: w.store, Meters: dir, Validator: val, Key: genKey(t), LogKey: logKey, Now: func() time.Time { return w.now }, Rand: rand.Reader})
	if w.signer, err = protocol.NewMeterSigner(w.meter, w.meterKey, rand.Reader); err != nil {
		t.Fatal(err)
	}
	return w
}

// logAndExport ingests raw at the world's time, has an operator ask for a
// tree head an hour later and write file (the item as a participant holds
// it) and file.log, the evidence the operator API gives for the meter's
// item counter (the signed item sign1 within it).
func (w *theftWorld) logAndExport(t *testing.T, kind wan.Kind, raw, sign1 []byte, counter uint64, file string, content []byte) string {
	ctx := context.Background()
	res, err := w.he.Ingest(ctx, "gw", []wan.Item{{Kind: kind, Raw: raw}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
	w.now = w.now.Add(time.Hour)
	w.operatorCall(t, "POST", "/v1/operator/tree-head", nil)
	var ev wan.OperatorEvidence
	w.operatorCall(t, "GET", fmt.Sprintf("/v1/operator/meters/%x/readings/%d/evidence", w.meter[:], counter), &ev)
	signed, err := base64.StdEncoding.DecodeString(ev.Signed)
	if err != nil || !bytes.Equal(signed, sign1) {
		t.Fatalf("evidence for counter %d: signed %x, %v; want the item", counter, signed, err)
	}
	b, err := base64.StdEncoding.DecodeString(ev.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.dir, file)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".log", b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// operatorCall serves one operator request with the head-end's handler
// (as its TLS listener would, the operator's certificate as the peer's)
// and decodes the answer into out when not nil.
func (w *theftWorld) operatorCall(t *testing.T, method, path string, out any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{w.operator}}
	rec := httptest.NewRecorder()
	w.he.Server(nil).Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (w *theftWorld) verify(t *testing.T, extra ...string) (int, string) {
	var out, errb bytes.Buffer
	args := append([]string{"verify", "-roots", filepath.Join(w.dir, "root.pem"), "-certs", filepath.Join(w.dir, "certs.pem")}, extra...)
	code := run(args, &out, &errb)
	return code, out.String() + errb.String()
}

// TestVerifyRejectsBackdatingByKeyThief is the backdating attack against
// verimeter verify: a reading signed with the stolen key, dated before the
// key's invalidity date but first logged after it, is REJECTED with the
// reason; the honest reading and interval exported before the revocation
// still verify after it; consistency between two tree heads is checked.
func TestVerifyRejectsBackdatingByKeyThief(t *testing.T) {
	w := newTheftWorld(t)
	// 09:00: an honest reading and a block of the day, logged by 10:00.
	w.now = w.t0.Add(9 * time.Hour)
	honestRaw, err := w.signer.SignReading(protocol.Reading{Meter: w.meter, Counter: 1, Time: w.t0.Add(8 * time.Hour).Unix(), OBIS: protocol.ActiveEnergyImport, Value: 10})
	if err != nil {
		t.Fatal(err)
	}
	honest := w.logAndExport(t, wan.KindReading, honestRaw, honestRaw, 1, "honest-reading.cbor", honestRaw)
	iv := make([]protocol.Interval, 32)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: uint32(100 + i)}
	}
	sb, err := w.signer.SignBlock(protocol.BlockHeader{Meter: w.meter, Counter: 2, Start: w.t0.Unix(), Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
	if err != nil {
		t.Fatal(err)
	}
	blockRaw, err := sb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := sb.Proof(5)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	interval := w.logAndExport(t, wan.KindBlock, blockRaw, p.Sign1, 2, "honest-interval.cbor", pb)
	sth1, err := w.store.TreeHeads()
	if err != nil {
		t.Fatal(err)
	}

	// 12:00 the key is stolen. 14:00 the thief's reading, dated 11:00,
	// reaches a head-end that does not know of the theft yet: it is logged.
	thief, err := protocol.NewMeterSigner(w.meter, w.meterKey, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w.now = w.t0.Add(14 * time.Hour)
	backRaw, err := thief.SignReading(protocol.Reading{Meter: w.meter, Counter: 60, Time: w.t0.Add(11 * time.Hour).Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	backdated := w.logAndExport(t, wan.KindReading, backRaw, backRaw, 60, "backdated-reading.cbor", backRaw)
	// The thief also offers a reading without any log evidence.
	unlogged := filepath.Join(w.dir, "unlogged-reading.cbor")
	raw2, err := thief.SignReading(protocol.Reading{Meter: w.meter, Counter: 61, Time: w.t0.Add(11 * time.Hour).Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unlogged, raw2, 0o644); err != nil {
		t.Fatal(err)
	}

	// Before the revocation every file verifies: nothing tells the thief's
	// readings from the meter's.
	if code, out := w.verify(t, honest, interval, backdated, unlogged); code != 0 {
		t.Fatalf("before the revocation: exit %d\n%s", code, out)
	}

	// 20:00 the manufacturer revokes the key, invalid since 12:00.
	crl, err := w.subs["manufacturer"].NewCRL([]protocol.Revocation{{Serial: w.meterCert.SerialNumber, RevokedAt: w.t0.Add(20 * time.Hour), InvalidAt: w.t0.Add(12 * time.Hour), ReasonCode: 1}}, 1, w.t0.Add(20*time.Hour), w.t0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crlPath := filepath.Join(w.dir, "manufacturer.crl")
	if err := protocol.WriteCRL(crlPath, crl); err != nil {
		t.Fatal(err)
	}
	code, out := w.verify(t, "-crl", crlPath, honest, interval, backdated, unlogged)
	if code != 1 {
		t.Fatalf("after the revocation: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"OK       " + honest + ": meter",
		"OK       " + interval + ": meter",
		"REJECTED " + backdated + ": not logged before the key's invalidity date (2026-11-24T12:00:00Z): first in a tree head of 2026-11-24T15:00:00Z",
		"REJECTED " + unlogged + ": not logged before the key's invalidity date (2026-11-24T12:00:00Z): no inclusion proof",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// The thief's reading with the honest reading's evidence: the proof
	// does not lead to it.
	stolen, _ := os.ReadFile(honest + ".log")
	if err := os.WriteFile(backdated+".log", stolen, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := w.verify(t, "-crl", crlPath, backdated); code != 1 || !strings.Contains(out, "inclusion proof does not match") {
		t.Fatalf("borrowed evidence: exit %d\n%s", code, out)
	}

	// Consistency: the tree head of 10:00 and the latest one.
	heads, err := w.store.TreeHeads()
	if err != nil {
		t.Fatal(err)
	}
	first, last := sth1[0], heads[len(heads)-1]
	proof, err := w.store.ConsistencyProof(first.Size, last.Size)
	if err != nil {
		t.Fatal(err)
	}
	c := translog.Consistency{Old: first, New: last, Proof: proof}
	cb, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cons := filepath.Join(w.dir, "heads.consistency")
	if err := os.WriteFile(cons, cb, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := w.verify(t, "-consistency", cons); code != 0 || !strings.Contains(out, "extends the log of 1 leaves") {
		t.Fatalf("consistency: exit %d\n%s", code, out)
	}
	// A log that rewrote its first leaf: same size, another root, signed by
	// the log key, is caught by the proof.
	root := first.Root
	root[0] ^= 1
	forged, err := translog.SignTreeHead(translog.TreeHead{Size: first.Size, Time: first.Time, Root: root}, w.logKey, first.KeyID, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.Old = forged
	cb, _ = c.Marshal()
	if err := os.WriteFile(cons, cb, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := w.verify(t, "-consistency", cons); code != 1 || !strings.Contains(out, "consistency proof does not match") {
		t.Fatalf("rewritten history: exit %d\n%s", code, out)
	}
}
