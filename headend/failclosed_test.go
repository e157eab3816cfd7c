package headend

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// breakAudit makes every insert into the audit log fail inside the
// database (a trigger that aborts the statement), as a full or failing
// disk would for that table alone; the returned func repairs it.
func breakAudit(t *testing.T, st *Store) func() {
	t.Helper()
	if _, err := st.db.Exec(`CREATE TRIGGER audit_broken BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := st.db.Exec(`DROP TRIGGER audit_broken`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailsClosedWithoutAudit: while the audit log cannot be written, the
// head-end releases nothing that entry would have recorded: no signed
// command (and its counter is not consumed), no campaign, no participant
// data, no acknowledgement of a batch with refused items; refusals still
// refuse and say the audit failed too. Once the log works again, the next
// command takes the counter the failed one did not.
func TestFailsClosedWithoutAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tariff := protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 2}
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.he.issueCommand(f.alice, nil, tariff); err != nil {
		t.Fatal(err)
	}
	before, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	repair := breakAudit(t, f.store)

	c, err := f.he.issueCommand(f.alice, nil, tariff)
	if !errors.Is(err, ErrAudit) || !errors.Is(err, ErrStore) || c != nil {
		t.Fatalf("command without its audit entry: %d bytes released, %v", len(c), err)
	}
	if n, err := f.store.commandCounter(f.meter); err != nil || n != 1 {
		t.Fatalf("counter %d (%v) after an unaudited command, want 1", n, err)
	}
	if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdDisconnect}); !errors.Is(err, ErrApproval) || !errors.Is(err, ErrAudit) {
		t.Fatalf("refused disconnect with a broken audit log: %v", err)
	}
	if camp, err := f.he.newCampaign(7, []byte("manifest"), []byte("image"), f.alice, f.bob, []protocol.SystemTitle{f.meter}); !errors.Is(err, ErrAudit) || camp != nil {
		t.Fatalf("campaign without its audit entry: %v %v", camp, err)
	}
	if p, err := f.he.fetch(ctx, f.parts["supplier A"], f.meter, f.t0, f.t0.Add(24*time.Hour)); !errors.Is(err, ErrAudit) || p != nil {
		t.Fatalf("fetch without its audit entry: %d intervals, %v", len(p), err)
	}
	if err := f.store.switchSupplier(f.meter, "supplier B", f.t0.Add(12*time.Hour), f.t0.Add(48*time.Hour)); !errors.Is(err, ErrAudit) {
		t.Fatalf("supplier switch without its audit entry: %v", err)
	}
	if sup, err := f.store.supplierAt(f.meter, f.t0.Add(13*time.Hour)); err != nil || len(sup) != 1 || sup[0] != "supplier A" {
		t.Fatalf("supplier after an unaudited switch: %v %v", sup, err)
	}
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignReading(protocol.Reading{Meter: f.meter, Counter: 9, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	if res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}, {Kind: wan.KindReading, Raw: forged}}); !errors.Is(err, ErrAudit) {
		t.Fatalf("batch with a refused item acknowledged without its audit entry: %+v %v", res, err)
	}
	if items, _, err := f.store.Counts(); err != nil || items != 1 {
		t.Fatalf("%d items (%v) after an unacknowledged batch, want 1", items, err)
	}

	repair()
	after, err := f.store.auditLog()
	if err != nil || len(after) != len(before) {
		t.Fatalf("audit log changed while broken: %d entries, then %d (%v)", len(before), len(after), err)
	}
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return &f.he.cfg.Key.PublicKey, func(protocol.CommandKind) bool { return true }, nil
	}
	c, err = f.he.issueCommand(f.alice, nil, tariff)
	if err != nil {
		t.Fatal(err)
	}
	if cmd, err := protocol.VerifyCommand(c, f.meter, keys); err != nil || cmd.Counter != 2 {
		t.Fatalf("after the repair: counter %d, %v; want 2", cmd.Counter, err)
	}
	last, err := f.store.auditLog()
	if err != nil || last[len(last)-1].Action != "command" {
		t.Fatalf("last audit entry %+v, %v", last[len(last)-1], err)
	}
}
