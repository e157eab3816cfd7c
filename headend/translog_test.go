package headend

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

// logWorld is one meter, a head-end with a log key, and a clock: enough to
// play a key theft against the transparency log.
type logWorld struct {
	t0        time.Time
	now       time.Time
	root      *protocol.CA
	subs      map[string]*protocol.CA
	subCerts  []*x509.Certificate
	meter     protocol.SystemTitle
	meterKey  *ecdsa.PrivateKey
	meterCert *x509.Certificate
	signer    *protocol.MeterSigner
	logKey    *ecdsa.PrivateKey
	store     *Store
}

func newLogWorld(t *testing.T) *logWorld {
	w := &logWorld{t0: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), subs: map[string]*protocol.CA{}}
	w.now = w.t0
	var err error
	if w.root, err = protocol.NewRootCA("root", key(t), w.t0.Add(-time.Hour), 10*365*24*time.Hour, rand.Reader); err != nil {
		t.Fatal(err)
	}
	for name, roles := range protocol.SubCAs {
		if w.subs[name], err = w.root.NewSubCA(name, roles, key(t), w.t0.Add(-time.Hour), 5*365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		w.subCerts = append(w.subCerts, w.subs[name].Cert)
	}
	w.meter = protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 2}
	w.meterKey = key(t)
	if w.meterCert, err = w.subs["manufacturer"].Issue(protocol.Identity{CommonName: "meter 2", SystemTitle: &w.meter}, []protocol.Role{protocol.RoleMeterSigning}, &w.meterKey.PublicKey, w.t0.Add(-time.Hour), 4*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if w.signer, err = protocol.NewMeterSigner(w.meter, w.meterKey, rand.Reader); err != nil {
		t.Fatal(err)
	}
	w.logKey = key(t)
	if w.store, err = OpenStore(filepath.Join(t.TempDir(), "he.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.store.Close() })
	return w
}

// headEnd starts a head-end on the world's store with the given CRL of the
// manufacturer sub-CA (nil: none): a head-end restarted with a new CRL.
func (w *logWorld) headEnd(t *testing.T, crl *x509.RevocationList) *HeadEnd {
	var crls []*x509.RevocationList
	if crl != nil {
		crls = append(crls, crl)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{w.root.Cert}, w.subCerts, crls)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := protocol.NewMeterDirectory(val, []*x509.Certificate{w.meterCert})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Store: w.store, Meters: dir, Validator: val, Key: key(t), LogKey: w.logKey, Now: func() time.Time { return w.now }, Rand: rand.Reader})
}

func (w *logWorld) reading(t *testing.T, signer *protocol.MeterSigner, counter uint64, at time.Time) []byte {
	r, err := signer.SignReading(protocol.Reading{Meter: w.meter, Counter: counter, Time: at.Unix(), OBIS: protocol.ActiveEnergyImport, Value: counter * 10})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBackdatingByKeyThiefRefusedAtIngest plays the attack of issue 15: a
// thief copies the meter's signing key, the manufacturer revokes it with the
// invalidity date of the theft, and the thief signs a reading dated before
// that date and submits it after. Its signature verifies (the claimed time
// is before the invalidity date); the log refuses it, because it reaches
// the log after the date. The honest reading logged before the theft keeps
// its evidence: an inclusion proof into a tree head older than the date.
func TestBackdatingByKeyThiefRefusedAtIngest(t *testing.T) {
	w := newLogWorld(t)
	ctx := context.Background()
	he := w.headEnd(t, nil)

	// Before the theft: an honest reading, logged and under a tree head.
	w.now = w.t0.Add(9 * time.Hour)
	honest := w.reading(t, w.signer, 1, w.now.Add(-time.Minute))
	res, err := he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindReading, Raw: honest}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("honest reading: %+v, %v", res, err)
	}
	w.now = w.t0.Add(10 * time.Hour)
	sth1, err := he.signTreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := he.evidence(ctx, w.meter, 1)
	if err != nil {
		t.Fatal(err)
	}

	// The theft at 12:00; the thief holds a copy of the key.
	invalidAt := w.t0.Add(12 * time.Hour)
	thief, err := protocol.NewMeterSigner(w.meter, w.meterKey, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Revoked at 20:00 with the invalidity date of the theft; the head-end
	// takes the new CRL.
	crl, err := w.subs["manufacturer"].NewCRL([]protocol.Revocation{{Serial: w.meterCert.SerialNumber, RevokedAt: w.t0.Add(20 * time.Hour), InvalidAt: invalidAt, ReasonCode: 1}}, 1, w.t0.Add(20*time.Hour), w.t0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	he = w.headEnd(t, crl)

	// The next day the thief submits a reading dated 11:00, before the
	// invalidity date.
	w.now = w.t0.Add(30 * time.Hour)
	backdated := w.reading(t, thief, 50, w.t0.Add(11*time.Hour))
	if _, err := he.verifiers.Get().(*protocol.Verifier).VerifyReading(backdated); err != nil {
		t.Fatalf("the backdated reading's signature must verify (that is the attack): %v", err)
	}
	res, err = he.Ingest(ctx, "gw-thief", []wan.Item{{Kind: wan.KindReading, Raw: backdated}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrLoggedAfterInvalidity) {
		t.Fatalf("backdated reading: %+v", res)
	}
	if _, err := he.evidence(ctx, w.meter, 50); !errors.Is(err, ErrNotLogged) {
		t.Fatalf("backdated reading has evidence: %v", err)
	}
	log, err := w.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	if last := log[len(log)-1]; last.Action != "ingest-rejected" || !strings.Contains(last.Detail, "invalidity date") {
		t.Fatalf("no audit entry of the refusal: %+v", last)
	}
	// The same for a load-profile block the thief dates before the theft.
	iv := make([]protocol.Interval, 8)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: 1}
	}
	sb, err := thief.SignBlock(protocol.BlockHeader{Meter: w.meter, Counter: 52, Start: w.t0.Add(10 * time.Hour).Unix(), Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
	if err != nil {
		t.Fatal(err)
	}
	braw, err := sb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	res, err = he.Ingest(ctx, "gw-thief", []wan.Item{{Kind: wan.KindBlock, Raw: braw}})
	if err != nil || res.Stored != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrLoggedAfterInvalidity) {
		t.Fatalf("backdated block: %+v, %v", res, err)
	}
	// A reading the thief dates after the invalidity date fails its
	// signature check already.
	res, err = he.Ingest(ctx, "gw-thief", []wan.Item{{Kind: wan.KindReading, Raw: w.reading(t, thief, 51, w.t0.Add(13*time.Hour))}})
	if err != nil || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], protocol.ErrRevoked) {
		t.Fatalf("post-dated reading: %+v, %v", res, err)
	}

	// The honest reading's evidence still stands after the revocation.
	if err := ev.TreeHead.Verify(&w.logKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := ev.VerifyLeaf(honest); err != nil {
		t.Fatal(err)
	}
	if !ev.TreeHead.Time.Before(invalidAt) {
		t.Fatalf("tree head at %s, not before %s", ev.TreeHead.Time, invalidAt)
	}
	// A later tree head is consistent with the first.
	sth2, err := he.signTreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.store.ConsistencyProof(sth1.Size, sth2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := translog.VerifyConsistency(sth1.Size, sth2.Size, sth1.Root, sth2.Root, p); err != nil {
		t.Fatal(err)
	}
}

// TestLogSurvivesRestartAndIsAppendOnly checks that the tree rebuilt from
// the database after a restart is the tree that was committed, that
// duplicates are not logged twice, and that blocks are logged by the
// COSE_Sign1 a participant receives with each interval.
func TestLogSurvivesRestartAndIsAppendOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.he.cfg.LogKey = key(t)
	b1, b2 := f.block(t, 1, 0), f.block(t, 2, 1)
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: b1}, {Kind: wan.KindBlock, Raw: b2}}); err != nil {
		t.Fatal(err)
	}
	res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: b1}})
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	sth, err := f.he.signTreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sth.Size != 2 {
		t.Fatalf("log of %d leaves for 2 stored blocks", sth.Size)
	}
	// A fresh store on the same file rebuilds the same root.
	path := filepath.Join(t.TempDir(), "copy.db")
	if _, err := f.store.db.Exec(`VACUUM INTO ?`, path); err != nil {
		t.Fatal(err)
	}
	st2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	n, root, err := st2.logState(ctx)
	if err != nil || n != 2 || root != sth.Root {
		t.Fatalf("rebuilt log: %d leaves, root %x, %v; want 2, %x", n, root, err, sth.Root)
	}
	sb, err := protocol.UnmarshalSignedBlock(b2)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.he.evidence(ctx, f.meter, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.VerifyLeaf(sb.Sign1); err != nil {
		t.Fatal(err)
	}
}
