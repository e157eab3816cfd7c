//go:build !device

package main

import (
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestVerifyAcrossKeyRotation plays spec/Market.tla's key rotation on
// verimeter verify (S8_EvidenceKept, S8_RetiredKeyStops, OfflineAccepts):
// the meter's key k1 signs a reading logged at 09:00; at 12:00 k2 is
// certified, which retires k1; a reading signed with k1 (claiming 08:30)
// reaches a head-end that still holds k1's certificate at 13:00 and is
// logged; k2's reading is logged at 15:00 by the head-end that took k2's
// certificate. With both certificates, k1's first reading and k2's verify,
// k1's reading logged after the retirement is REJECTED with the reason;
// and after k1's revocation (invalid from 18:00) k1's first reading still
// verifies.
func TestVerifyAcrossKeyRotation(t *testing.T) {
	w := newTheftWorld(t)
	w.now = w.t0.Add(9 * time.Hour)
	reading := func(s *protocol.MeterSigner, counter uint64, at time.Duration) []byte {
		t.Helper()
		raw, err := s.SignReading(protocol.Reading{Meter: w.meter, Counter: counter, Time: w.t0.Add(at).Unix(), OBIS: protocol.ActiveEnergyImport, Value: 10 * counter})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := reading(w.signer, 1, 8*time.Hour)
	before := w.logAndExport(t, wan.KindReading, raw, raw, 1, "k1-before.cbor", raw)

	// 12:00: k2 certified.
	key2 := genKey(t)
	cert2, err := w.subs["manufacturer"].Issue(protocol.Identity{CommonName: "meter 7 (key 2)", SystemTitle: &w.meter}, []protocol.Role{protocol.RoleMeterSigning}, &key2.PublicKey, w.t0.Add(12*time.Hour), 4*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := readPEMCerts(filepath.Join(w.dir, "certs.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.WriteChain(filepath.Join(w.dir, "certs.pem"), append(certs, cert2)...); err != nil {
		t.Fatal(err)
	}

	// 13:00: a k1 reading, backdated, logged by the head-end that holds
	// k1's certificate only.
	w.now = w.t0.Add(13 * time.Hour)
	raw = reading(w.signer, 2, 8*time.Hour+30*time.Minute)
	after := w.logAndExport(t, wan.KindReading, raw, raw, 2, "k1-after.cbor", raw)

	// 15:00: the head-end holds k2's certificate (on the same store and
	// log); k2's reading is logged.
	val, err := protocol.NewValidator([]*x509.Certificate{w.root.Cert}, []*x509.Certificate{w.subs["manufacturer"].Cert, w.subs["head-end-operator"].Cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := protocol.NewMeterDirectory(val, []*x509.Certificate{cert2})
	if err != nil {
		t.Fatal(err)
	}
	w.he = headend.New(headend.Config{Store: w.store, Meters: dir, Validator: val, Key: genKey(t), LogKey: w.logKey, Now: func() time.Time { return w.now }, Rand: rand.Reader})
	signer2, err := protocol.NewMeterSigner(w.meter, key2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w.now = w.t0.Add(15 * time.Hour)
	raw = reading(signer2, 3, 15*time.Hour)
	k2 := w.logAndExport(t, wan.KindReading, raw, raw, 3, "k2.cbor", raw)

	want := func(out string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(out, l) {
				t.Errorf("missing %q in:\n%s", l, out)
			}
		}
	}
	code, out := w.verify(t, before, after, k2)
	if code != 1 {
		t.Fatalf("after the rotation: exit %d\n%s", code, out)
	}
	want(out, "OK       "+before+": meter", "OK       "+k2+": meter",
		"REJECTED "+after+": not logged before the key's retirement (2026-11-24T12:00:00Z, the meter's next key certified): first in a tree head of 2026-11-24T14:00:00Z")

	// 20:00: k1 revoked, invalid since 18:00 (after its retirement).
	crl, err := w.subs["manufacturer"].NewCRL([]protocol.Revocation{{Serial: w.meterCert.SerialNumber, RevokedAt: w.t0.Add(20 * time.Hour), InvalidAt: w.t0.Add(18 * time.Hour), ReasonCode: 1}}, 1, w.t0.Add(20*time.Hour), w.t0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crlPath := filepath.Join(w.dir, "manufacturer.crl")
	if err := protocol.WriteCRL(crlPath, crl); err != nil {
		t.Fatal(err)
	}
	code, out = w.verify(t, "-crl", crlPath, before, after, k2)
	if code != 1 {
		t.Fatalf("after k1's revocation: exit %d\n%s", code, out)
	}
	want(out, "OK       "+before+": meter", "OK       "+k2+": meter", "REJECTED "+after+": not logged before the key's retirement")
}
