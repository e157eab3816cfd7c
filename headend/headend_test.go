package headend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

type fixture struct {
	t0                time.Time
	now               time.Time
	he                *HeadEnd
	store             *Store
	meter             protocol.SystemTitle
	signer            *protocol.MeterSigner
	meterKey          *ecdsa.PrivateKey
	meterCert         *x509.Certificate
	parts             map[string]*x509.Certificate
	alice, bob, carol approver
	opKeys            map[string]*ecdsa.PrivateKey // alice's, bob's and carol's own keys, by name
	outsider          *protocol.Verifier
	subs              map[string]*protocol.CA
	root              *x509.Certificate
}

func key(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newFixture(tb testing.TB) *fixture {
	return newFixtureAt(tb, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
}

// newFixtureAt is newFixture with its PKI issued at t0: a test whose
// certificates a browser checks against the real clock starts it today.
func newFixtureAt(tb testing.TB, t0 time.Time) *fixture {
	f := &fixture{t0: t0, parts: map[string]*x509.Certificate{}}
	f.now = f.t0.Add(30 * time.Hour)
	root, err := protocol.NewRootCA("root", key(tb), f.t0.Add(-time.Hour), 10*365*24*time.Hour, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	subs := map[string]*protocol.CA{}
	f.subs, f.root = subs, root.Cert
	var subCerts []*x509.Certificate
	for name, roles := range protocol.SubCAs {
		if subs[name], err = root.NewSubCA(name, roles, key(tb), f.t0.Add(-time.Hour), 5*365*24*time.Hour); err != nil {
			tb.Fatal(err)
		}
		subCerts = append(subCerts, subs[name].Cert)
	}
	f.meter = protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}
	f.meterKey = key(tb)
	mc, err := subs["manufacturer"].Issue(protocol.Identity{CommonName: "meter 1", SystemTitle: &f.meter}, []protocol.Role{protocol.RoleMeterSigning}, &f.meterKey.PublicKey, f.t0.Add(-time.Hour), 4*365*24*time.Hour) // within the sub-CA's 5 years (nested validity, protocol/PKI.md)
	if err != nil {
		tb.Fatal(err)
	}
	if f.signer, err = protocol.NewMeterSigner(f.meter, f.meterKey, rand.Reader); err != nil {
		tb.Fatal(err)
	}
	f.opKeys = map[string]*ecdsa.PrivateKey{}
	issue := func(ca, cn string, role protocol.Role) *x509.Certificate {
		k := key(tb)
		c, err := subs[ca].Issue(protocol.Identity{CommonName: cn}, []protocol.Role{role}, &k.PublicKey, f.t0.Add(-time.Hour), 365*24*time.Hour)
		if err != nil {
			tb.Fatal(err)
		}
		f.opKeys[cn] = k
		return c
	}
	for _, n := range []string{"supplier A", "supplier B", "supplier R"} {
		f.parts[n] = issue("market-participant", n, protocol.RoleSupplier)
	}
	f.alice = approver{Name: "alice", Cert: issue("head-end-operator", "alice", protocol.RoleHeadEnd)}
	f.bob = approver{Name: "bob", Cert: issue("head-end-operator", "bob", protocol.RoleHeadEnd)}
	f.carol = approver{Name: "carol", Cert: issue("head-end-operator", "carol", protocol.RoleHeadEnd)}
	crl, err := subs["market-participant"].NewCRL([]protocol.Revocation{{Serial: f.parts["supplier R"].SerialNumber, RevokedAt: f.t0, InvalidAt: f.t0, ReasonCode: 1}}, 1, f.t0, f.t0.Add(30*24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{root.Cert}, subCerts, []*x509.RevocationList{crl})
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := protocol.NewMeterDirectory(val, []*x509.Certificate{mc})
	if err != nil {
		tb.Fatal(err)
	}
	f.meterCert = mc
	if f.store, err = OpenStore(filepath.Join(tb.TempDir(), "he.db")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.store.Close() })
	f.he = New(Config{Store: f.store, Meters: dir, Validator: val, Key: key(tb), Now: func() time.Time { return f.now }, Rand: rand.Reader, DisconnectsPerHour: 2})
	outsider, _ := protocol.NewMeterDirectory(val, []*x509.Certificate{mc})
	f.outsider = protocol.NewVerifier(outsider)
	return f
}

func (f *fixture) block(tb testing.TB, counter uint64, day int) []byte {
	iv := make([]protocol.Interval, 96)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: uint32(100 + i)}
	}
	b, err := f.signer.SignBlock(protocol.BlockHeader{Meter: f.meter, Counter: counter, Start: f.t0.Add(time.Duration(day) * 24 * time.Hour).Unix(), Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := b.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func TestIngestIsIdempotentAndRejectsForgeries(t *testing.T) { testIngest(t, newFixture(t)) }

func testIngest(t *testing.T, f *fixture) {
	ctx := context.Background()
	blk := f.block(t, 1, 0)
	res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}})
	if err != nil || res.Stored != 1 || res.Intervals != 96 {
		t.Fatalf("first ingest: %+v %v", res, err)
	}
	res, err = f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}})
	if err != nil || res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("resend: %+v %v", res, err)
	}
	bad := append([]byte(nil), blk...)
	bad[len(bad)-1] ^= 1 // a status/value byte of the last interval: the Merkle root no longer matches
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignReading(protocol.Reading{Meter: f.meter, Counter: 9, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	res, err = f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: bad}, {Kind: wan.KindReading, Raw: forged}, {Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}})
	if err != nil || res.Stored != 1 || len(res.Rejected) != 2 {
		t.Fatalf("mixed batch: %+v %v", res, err)
	}
	if !errors.Is(res.Rejected[1], protocol.ErrBadSignature) {
		t.Fatalf("forged reading: %v", res.Rejected[1])
	}
	items, ivs, _ := f.store.Counts()
	if items != 2 || ivs != 192 {
		t.Fatalf("stored %d items, %d intervals", items, ivs)
	}
}

func TestFetchHonoursContractsAndRevocation(t *testing.T) { testFetch(t, newFixture(t)) }

func testFetch(t *testing.T, f *fixture) {
	ctx := context.Background()
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	noon := f.t0.Add(12 * time.Hour)
	f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour))
	f.store.endContracts(protocol.RoleSupplier, f.meter, noon)
	f.store.addContract("supplier B", protocol.RoleSupplier, f.meter, noon, f.t0.Add(48*time.Hour))
	f.store.addContract("supplier R", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour))
	day := [2]time.Time{f.t0, f.t0.Add(24 * time.Hour)}
	a, err := f.he.fetch(ctx, f.parts["supplier A"], f.meter, day[0], day[1])
	if err != nil || len(a) != 48 {
		t.Fatalf("supplier A: %d intervals, %v", len(a), err)
	}
	b, err := f.he.fetch(ctx, f.parts["supplier B"], f.meter, day[0], day[1])
	if err != nil || len(b) != 48 {
		t.Fatalf("supplier B: %d intervals, %v", len(b), err)
	}
	for _, p := range append(a, b...) {
		if _, err := f.outsider.VerifyInterval(p); err != nil {
			t.Fatalf("proof does not verify offline: %v", err)
		}
	}
	if a[47].Interval.Index != 47 || b[0].Interval.Index != 48 {
		t.Fatalf("partition at noon: A ends at %d, B starts at %d", a[47].Interval.Index, b[0].Interval.Index)
	}
	if _, err := f.he.fetch(ctx, f.parts["supplier B"], f.meter, f.t0, noon); !errors.Is(err, ErrNotEntitled) {
		t.Fatalf("B before its contract: %v", err)
	}
	if _, err := f.he.fetch(ctx, f.parts["supplier R"], f.meter, day[0], day[1]); !errors.Is(err, ErrParticipant) || !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("revoked supplier: %v", err)
	}
}

func TestCommandsNeedRolesApproversAndRespectRateLimits(t *testing.T) {
	f := newFixture(t)
	dis := protocol.Command{Meter: f.meter, Kind: protocol.CmdDisconnect}
	if _, err := f.he.issueCommand(f.alice, nil, dis); !errors.Is(err, ErrApproval) {
		t.Fatalf("no second approver: %v", err)
	}
	if _, err := f.he.issueCommand(f.alice, &f.alice, dis); !errors.Is(err, ErrApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := f.he.issueCommand(approver{Name: "supplier A", Cert: f.parts["supplier A"]}, &f.bob, dis); !errors.Is(err, ErrRole) {
		t.Fatalf("supplier disconnect: %v", err)
	}
	// The head-end's key alone, one approver twice, approvals in the wrong
	// order or over another counter: refused, nothing signed.
	if _, err := f.he.issueCommand(f.alice, &f.bob, dis); !errors.Is(err, ErrApproval) {
		t.Fatalf("a disconnect without signed approvals: %v", err)
	}
	toApprove, aliceOK := f.approvals(t, dis, "alice", "alice")
	if _, err := f.he.issueCommand(f.alice, &f.bob, toApprove, aliceOK...); !errors.Is(err, ErrApproval) {
		t.Fatalf("alice's approval twice: %v", err)
	}
	toApprove, swapped := f.approvals(t, dis, "bob", "alice")
	if _, err := f.he.issueCommand(f.alice, &f.bob, toApprove, swapped...); !errors.Is(err, ErrApproval) {
		t.Fatalf("approvals in the wrong order: %v", err)
	}
	// Approvals of counter 1, after a tariff took counter 1: stale.
	stale, both := f.approvals(t, dis, "alice", "bob")
	if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.he.issueCommand(f.alice, &f.bob, stale, both...); !errors.Is(err, ErrApproval) {
		t.Fatalf("approvals of another counter: %v", err)
	}
	var last protocol.Command
	for i := range 2 {
		toApprove, both := f.approvals(t, dis, "alice", "bob")
		c, err := f.he.issueCommand(f.alice, &f.bob, toApprove, both...)
		if err != nil {
			t.Fatalf("disconnect %d: %v", i, err)
		}
		keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
			return &f.he.cfg.Key.PublicKey, func(protocol.CommandKind) bool { return true }, nil
		}
		cmd, err := protocol.VerifyCommand(c, f.meter, keys)
		if err != nil || cmd.Counter <= last.Counter || len(cmd.Approvals) != 2 {
			t.Fatalf("command %d: %v counter %d after %d, %d approvals", i, err, cmd.Counter, last.Counter, len(cmd.Approvals))
		}
		for j, who := range []string{"alice", "bob"} {
			if err := protocol.VerifyApproval(cmd, cmd.Approvals[j], &f.opKeys[who].PublicKey); err != nil {
				t.Fatalf("command %d: %s's approval embedded: %v", i, who, err)
			}
		}
		last = cmd
	}
	toApprove, both = f.approvals(t, dis, "carol", "bob")
	if _, err := f.he.issueCommand(f.carol, &f.bob, toApprove, both...); !errors.Is(err, ErrRateLimit) {
		t.Fatalf("third disconnect within the hour: %v", err)
	}
	f.now = f.now.Add(61 * time.Minute)
	toApprove, both = f.approvals(t, dis, "carol", "bob")
	if _, err := f.he.issueCommand(f.carol, &f.bob, toApprove, both...); err != nil {
		t.Fatalf("after an hour: %v", err)
	}
	log, _ := f.store.auditLog()
	if len(log) < 5 {
		t.Fatalf("audit log has %d entries", len(log))
	}
}

// approvals is c as the head-end has it approved (commandToApprove) and
// the approvals of the operators named, with their own keys, in order.
func (f *fixture) approvals(t *testing.T, c protocol.Command, who ...string) (protocol.Command, []protocol.Approval) {
	t.Helper()
	c, err := f.he.commandToApprove(c)
	if err != nil {
		t.Fatal(err)
	}
	var out []protocol.Approval
	for _, w := range who {
		a, err := protocol.SignApproval(c, f.opKeys[w], rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return c, out
}

// FuzzIngest: a gateway (or whoever holds its TLS key) sends anything; only
// data the meter signed is ever stored.
func FuzzIngest(f *testing.F) {
	fx := newFixture(f)
	blk := fx.block(f, 1, 0)
	rd, err := fx.signer.SignReading(protocol.Reading{Meter: fx.meter, Counter: 2, Time: fx.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 7})
	if err != nil {
		f.Fatal(err)
	}
	genuine := map[string]bool{string(blk): true, string(rd): true}
	f.Add(uint8(wan.KindBlock), blk)
	f.Add(uint8(wan.KindReading), rd)
	f.Add(uint8(wan.KindEvent), []byte{0xD2, 0x84})
	f.Fuzz(func(t *testing.T, kind uint8, raw []byte) {
		res, err := fx.he.Ingest(context.Background(), "gw", []wan.Item{{Kind: wan.Kind(kind), Raw: raw}})
		if err != nil {
			t.Fatalf("store error: %v", err)
		}
		if res.Stored > 0 && !genuine[string(raw)] && !sameBlock(raw, blk) {
			t.Fatalf("stored data the meter never signed: kind %d % x", kind, raw)
		}
	})
}

// sameBlock reports whether raw decodes to the same signed block as want (a
// different CBOR encoding of the meter's own block is still the meter's).
func sameBlock(raw, want []byte) bool {
	a, err1 := protocol.UnmarshalSignedBlock(raw)
	b, err2 := protocol.UnmarshalSignedBlock(want)
	if err1 != nil || err2 != nil || !bytes.Equal(a.Sign1, b.Sign1) || len(a.Intervals) != len(b.Intervals) {
		return false
	}
	for i := range a.Intervals {
		if a.Intervals[i] != b.Intervals[i] {
			return false
		}
	}
	return true
}

// FuzzDecodeBatch: a batch from a gateway is untrusted. Whatever the
// decoder accepts re-encodes to a batch that decodes to the same items
// (parse∘marshal = identity; CBOR integers and lengths have longer forms
// the decoder accepts, so the bytes may differ) and re-encodes to itself.
func FuzzDecodeBatch(f *testing.F) {
	b, _ := wan.EncodeBatch([]wan.Item{{Kind: wan.KindBlock, Raw: []byte{1, 2}}, {Kind: wan.KindReading, Raw: nil}})
	f.Add(b)
	// [[2, h'0102'], [3, h'']], written by hand so the seed does not share
	// a fault of the encoder under test.
	f.Add([]byte{0x82, 0x82, 0x02, 0x42, 0x01, 0x02, 0x82, 0x03, 0x40})
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := wan.DecodeBatch(body)
		if err != nil {
			return
		}
		re, err := wan.EncodeBatch(items)
		if err != nil {
			t.Fatalf("accepted batch does not re-encode: %v", err)
		}
		again, err := wan.DecodeBatch(re)
		if err != nil || len(again) != len(items) {
			t.Fatalf("re-encoded batch does not decode: %v (%d items, want %d)", err, len(again), len(items))
		}
		for i := range items {
			if again[i].Kind != items[i].Kind || !bytes.Equal(again[i].Raw, items[i].Raw) {
				t.Fatalf("item %d: decoded %+v, after a round trip %+v", i, items[i], again[i])
			}
		}
		if re2, err := wan.EncodeBatch(again); err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("re-encoding is not a fixed point: %v", err)
		}
	})
}

// useStore moves the fixture's head-end onto another store.
func (f *fixture) useStore(st *Store) {
	f.store.Close()
	f.store = st
	c := f.he.cfg
	c.Store = st
	f.he = New(c)
}

// TestCommandCounterSurvivesRestart: the head-end persists a meter's
// command counter (spec/Commands.tla: issued is @persist) before it hands a
// command out, so a head-end started again on the same store continues
// above it, and the store refuses to move a counter back. A tariff needs
// one approver; a refused disconnect consumes no counter.
func TestCommandCounterSurvivesRestart(t *testing.T) { testCommandCounter(t, newFixture(t)) }

func testCommandCounter(t *testing.T, f *fixture) {
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return &f.he.cfg.Key.PublicKey, func(protocol.CommandKind) bool { return true }, nil
	}
	counter := func(signed []byte) uint64 {
		t.Helper()
		c, err := protocol.VerifyCommand(signed, f.meter, keys)
		if err != nil {
			t.Fatal(err)
		}
		return c.Counter
	}
	tariff := protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 2}
	for want := uint64(1); want <= 2; want++ {
		c, err := f.he.issueCommand(f.alice, nil, tariff)
		if err != nil || counter(c) != want {
			t.Fatalf("tariff %d: %v", want, err)
		}
	}
	if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdDisconnect}); !errors.Is(err, ErrApproval) {
		t.Fatalf("disconnect on one approval: %v", err)
	}
	if n, err := f.store.commandCounter(f.meter); err != nil || n != 2 {
		t.Fatalf("persisted counter %d, %v; want 2", n, err)
	}
	restarted := New(f.he.cfg)
	c, err := restarted.issueCommand(f.alice, nil, tariff)
	if err != nil || counter(c) != 3 {
		t.Fatalf("after a restart: %v", err)
	}
	if err := f.store.storeCommandCounter(f.meter, 1); !errors.Is(err, ErrStore) {
		t.Fatalf("counter moved back: %v", err)
	}
	if n, _ := f.store.commandCounter(f.meter); n != 3 {
		t.Fatalf("counter %d after a refused move back, want 3", n)
	}
}

// auditRecord is one line of the audit log.
type auditRecord struct {
	Seq                   int64
	At                    time.Time
	Actor, Action, Detail string
}

// auditLog returns the audit log, oldest first.
func (s *Store) auditLog() (out []auditRecord, err error) {
	rows, err := s.db.Query(s.rebind(`SELECT seq, at, actor, action, detail FROM audit ORDER BY seq`))
	if err != nil {
		return nil, storeErr("audit log", err)
	}
	defer closeRows(rows, "audit log", &err)
	for rows.Next() {
		var e auditRecord
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, storeErr("audit log", err)
		}
		e.At = time.Unix(0, at)
		out = append(out, e)
	}
	return out, nil
}
