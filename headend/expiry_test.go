package headend

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestFetchRefusesExpiredCertificateWithinContract is spec/System.tla's
// SystemSlots.cfg on the code: supplier A's certificate expires before its
// contract for the meter ends (the switch), and a fetch after the expiry
// but within the contract is refused for the certificate, not served for
// the contract (mutant 59, expiry_at_contract_end, caught by
// S5_ContractOnly); the same supplier with a renewed certificate is served.
func TestFetchRefusesExpiredCertificateWithinContract(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	issue := func(validity time.Duration) *x509.Certificate {
		c, err := f.subs["market-participant"].Issue(protocol.Identity{CommonName: "supplier E"}, []protocol.Role{protocol.RoleSupplier},
			&key(t).PublicKey, f.t0.Add(-time.Hour), validity)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	expiresFirst := issue(20 * time.Hour) // expires at t0+19h, before f.now (t0+30h)
	renewed := issue(365 * 24 * time.Hour)
	// The contract runs until the switch at t0+48h: it still covers the day.
	if err := f.store.addContract("supplier E", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	day := [2]time.Time{f.t0, f.t0.Add(24 * time.Hour)}
	got, err := f.he.fetch(ctx, expiresFirst, f.meter, day[0], day[1])
	if !errors.Is(err, ErrParticipant) || !errors.Is(err, protocol.ErrExpired) {
		t.Fatalf("expired certificate within its contract: %d intervals, %v; want ErrParticipant and ErrExpired", len(got), err)
	}
	if got, err := f.he.fetch(ctx, renewed, f.meter, day[0], day[1]); err != nil || len(got) == 0 {
		t.Fatalf("renewed certificate: %d intervals, %v", len(got), err)
	}
}
