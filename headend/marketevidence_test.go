package headend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
	"github.com/verimeter/verimeter/wan"
)

// TestCRLVoidsEvidenceStoredBeforeIt closes the gap between a key's
// invalidity date and its CRL reaching the head-end: a block the thief
// signs after the theft (dated before it) is accepted while nobody knows
// of the theft; once the head-end learns the CRL, the Market machine's
// Serve no longer hands it out (fetch, inclusion proof), also after a
// restart, while the block the log recorded before the theft stays
// evidence. The head-end's Market log (Ingest, Tick, PublishCRL) is
// explained by spec/Market.tla.
func TestCRLVoidsEvidenceStoredBeforeIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	td, err := statemachine.NewTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.he.cfg
	cfg.Trace = td
	f.he = New(cfg)
	day := [2]time.Time{f.t0, f.t0.Add(48 * time.Hour)}
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ingest := func(counter uint64, day int) wan.IngestResult {
		t.Helper()
		res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, counter, day)}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	fetch := func() int {
		t.Helper()
		ps, err := f.he.fetch(ctx, f.parts["supplier A"], f.meter, day[0], day[1])
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	// Day 0's block, logged the next morning, before the theft.
	f.now = f.t0.Add(26 * time.Hour)
	if res := ingest(1, 0); res.Stored != 1 {
		t.Fatalf("honest block: %+v", res)
	}
	// The key is stolen at 30:00; at 40:00 the thief sends a block of day
	// 1 (dated before the theft). The CRL is not out yet: it is stored.
	invalid := f.t0.Add(30 * time.Hour)
	f.now = f.t0.Add(40 * time.Hour)
	if res := ingest(2, 1); res.Stored != 1 {
		t.Fatalf("thief's block before the CRL: %+v", res)
	}
	if n := fetch(); n != 192 {
		t.Fatalf("before the CRL: %d intervals, want both days' 192", n)
	}
	// The CRL reaches the head-end at 44:00.
	crl, err := f.subs["manufacturer"].NewCRL([]protocol.Revocation{{Serial: f.meterCert.SerialNumber, RevokedAt: f.t0.Add(43 * time.Hour), InvalidAt: invalid, ReasonCode: 1}}, 2, f.t0.Add(43*time.Hour), f.t0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.t0.Add(44 * time.Hour)
	if n, err := f.he.LearnCRL(ctx, crl); err != nil || n != 1 {
		t.Fatalf("LearnCRL: %d meters, %v", n, err)
	}
	if n := fetch(); n != 96 {
		t.Fatalf("after the CRL: %d intervals, want day 0's 96 only", n)
	}
	if _, err := f.he.evidence(ctx, f.meter, 2); !errors.Is(err, ErrNotEvidence) {
		t.Fatalf("evidence of the block logged after the invalidity date: %v", err)
	}
	if _, err := f.he.evidence(ctx, f.meter, 1); errors.Is(err, ErrNotEvidence) {
		t.Fatalf("the block logged before the theft voided: %v", err)
	}
	log, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	if last := log[len(log)-1]; last.Action != "fetch" || !strings.Contains(last.Detail, "1 blocks logged after the key's invalidity date withheld") {
		t.Fatalf("fetch audit entry: %+v", last)
	}
	// From now on nothing more is accepted from the key.
	if res := ingest(3, 0); res.Stored != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrLoggedAfterInvalidity) {
		t.Fatalf("after the CRL: %+v", res)
	}
	if err := td.Close(); err != nil {
		t.Fatal(err)
	}
	steps, err := tracecheck.ReadFile(filepath.Join(dir, "market", fmt.Sprintf("%x", f.meter[:]), "headend.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.Action)
	}
	// The thief's block is the spec's reading (slot 1, "meter") already
	// logged: no step of its own.
	if got := strings.Join(actions, " "); got != "Ingest Fetch Tick Tick PublishCRL Fetch" {
		t.Fatalf("Market log %q", got)
	}
	model, err := tracecheck.Load(filepath.Join(specDir, "Market.tla"), filepath.Join(specDir, "trace", "Market.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Check(steps, tracecheck.Options{}); err != nil {
		t.Fatal(err)
	}

	// Restarted (its directory holding the CRL): crlKnown is the
	// market_crl table's, the thief's block stays withheld.
	cfg.Trace = nil
	f.he = New(cfg)
	if _, err := f.he.evidence(ctx, f.meter, 2); !errors.Is(err, ErrNotEvidence) {
		t.Fatalf("after a restart: %v", err)
	}
	if n := fetch(); n != 96 {
		t.Fatalf("after a restart: %d intervals", n)
	}
}

// BenchmarkMarketIngestStep is what the Market machine adds per item on
// the ingest path: the meter's crlKnown (the directory's memory, no query)
// and the generated Ingest's Step.
func BenchmarkMarketIngestStep(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	mp := marketParams{Switch: marketSlotAfter, Invalid: marketInvalid, Rotate: marketNoRotation, Store: &marketRow{}}
	var mout marketOutput
	v := verified{meter: f.meter, counter: 1, kind: wan.KindBlock, signedAt: f.t0.Unix()}
	at := f.t0.Add(26 * time.Hour)
	if err := f.he.marketIngest(ctx, &mp, &mout, &v, at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.he.marketIngest(ctx, &mp, &mout, &v, at); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMarketLogContinuesAfterRestart: a head-end that restarts on the same
// store and trace directory continues the Market log from its last state.
// The gateway resends a block whose acknowledgement was lost and sends one
// more of the same day: neither is a reading the spec has not logged, so
// the restarted head-end takes no Ingest step for them, and the log of
// both processes is a behaviour of spec/Market.tla.
func TestMarketLogContinuesAfterRestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	cfg := f.he.cfg
	run := func(open func(string) (*statemachine.TraceDir, error), counters ...uint64) {
		t.Helper()
		td, err := open(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Trace = td
		f.he = New(cfg)
		for _, c := range counters {
			if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, c, 0)}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := td.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.t0.Add(26 * time.Hour)
	run(statemachine.NewTraceDir, 1)
	f.now = f.t0.Add(27 * time.Hour)
	run(statemachine.OpenTraceDir, 1, 2)
	steps, err := tracecheck.ReadFile(filepath.Join(dir, "market", fmt.Sprintf("%x", f.meter[:]), "headend.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].Action != "Ingest" {
		var lines []string
		for _, s := range steps {
			lines = append(lines, s.Raw)
		}
		t.Fatalf("Market log over the restart, want one Ingest:\n%s", strings.Join(lines, "\n"))
	}
	model, err := tracecheck.Load(filepath.Join(specDir, "Market.tla"), filepath.Join(specDir, "trace", "Market.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Check(steps, tracecheck.Options{}); err != nil {
		t.Fatal(err)
	}
}
