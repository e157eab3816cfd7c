package headend

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/internal/pgtest"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// startPostgres starts a throwaway PostgreSQL server for the test
// (internal/pgtest).
func startPostgres(t testing.TB) string { return pgtest.Start(t) }

// openPostgres connects, waiting for a server that is still starting.
func openPostgres(t testing.TB, dsn string) *Store {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		st, err := OpenPostgres(dsn)
		if err == nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresStore runs the store's behaviour tests against PostgreSQL:
// idempotent ingest, forgery rejection, contracts and fetch with proofs, and
// the atomic supplier switch.
func TestPostgresStore(t *testing.T) {
	dsn := startPostgres(t)
	open := func() *Store {
		st := openPostgres(t, dsn)
		// Each sub-test starts from empty tables.
		for _, tbl := range []string{"data", "contracts", "audit", "command_counters", "campaigns", "campaign_requests", "campaign_meters", "tamper_events", "tamper_alarms"} {
			if _, err := st.db.Exec("TRUNCATE " + tbl); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	t.Run("ingest", func(t *testing.T) {
		f := newFixture(t)
		f.useStore(open())
		testIngest(t, f)
	})
	t.Run("fetch", func(t *testing.T) {
		f := newFixture(t)
		f.useStore(open())
		testFetch(t, f)
	})
	t.Run("campaign across a restart", func(t *testing.T) {
		f := newFixture(t)
		f.useStore(open())
		testCampaignRestart(t, f, func() *Store { return openPostgres(t, dsn) })
	})
	t.Run("tamper", func(t *testing.T) {
		f := newFixture(t)
		f.useStore(open())
		testTamper(t, f)
	})
	t.Run("log shared by two head-ends", func(t *testing.T) {
		// Two head-end processes on one database append to one log: the
		// advisory lock orders their batches, each catches up with the
		// other's leaves, and evidence from one verifies under the other's
		// tree head.
		f := newFixture(t)
		f.useStore(open())
		f.he.cfg.LogKey = key(t)
		st2 := openPostgres(t, dsn)
		c := f.he.cfg
		c.Store = st2
		other := New(c)
		ctx := t.Context()
		for i, he := range []*HeadEnd{f.he, other, f.he} {
			if res, err := he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, uint64(i+1), i)}}); err != nil || res.Stored != 1 {
				t.Fatalf("block %d: %+v, %v", i+1, res, err)
			}
		}
		n1, r1, err1 := f.store.logState(ctx)
		n2, r2, err2 := st2.logState(ctx)
		if err1 != nil || err2 != nil || n1 != n2 || r1 != r2 || n1 < 3 {
			t.Fatalf("two views of one log: %d %x %v / %d %x %v", n1, r1, err1, n2, r2, err2)
		}
		if _, err := other.signTreeHead(ctx); err != nil {
			t.Fatal(err)
		}
		ev, err := f.he.evidence(ctx, f.meter, 2)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := protocol.UnmarshalSignedBlock(f.block(t, 2, 1))
		if err != nil {
			t.Fatal(err)
		}
		// The block signed again has another signature: take the stored one.
		var stored []byte
		if err := f.store.db.QueryRow(`SELECT raw FROM data WHERE counter = 2`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if sb, err = protocol.UnmarshalSignedBlock(stored); err != nil {
			t.Fatal(err)
		}
		if err := ev.VerifyLeaf(sb.Sign1); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("command counter", func(t *testing.T) {
		f := newFixture(t)
		f.useStore(open())
		testCommandCounter(t, f)
	})
	t.Run("switch", func(t *testing.T) {
		f := newFixture(t)
		st := open()
		f.useStore(st)
		if err := st.addContract("A", "supplier", f.meter, f.t0, f.t0.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.switchSupplier(f.meter, "B", f.t0.Add(12*time.Hour), f.t0.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Duration
			want string
		}{{time.Hour, "A"}, {13 * time.Hour, "B"}} {
			got, err := st.supplierAt(f.meter, f.t0.Add(c.at))
			if err != nil || len(got) != 1 || got[0] != c.want {
				t.Fatalf("supplier at %s: %v %v", c.at, got, err)
			}
		}
	})
}

// TestDemoOnPostgres is in cmd/verimeter; here the head-end's full ingest
// path over PostgreSQL: a batch is acknowledged after the commit and a
// restart (a new pool) sees it.
func TestPostgresDurableAcrossReopen(t *testing.T) {
	dsn := startPostgres(t)
	f := newFixture(t)
	st := openPostgres(t, dsn)
	f.useStore(st)
	if _, err := f.he.Ingest(t.Context(), "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	items, ivs, err := st2.Counts()
	if err != nil || items != 1 || ivs != 96 {
		t.Fatalf("after reopening: %d items, %d intervals, %v", items, ivs, err)
	}
}

// TestPostgresMigrateAdoptsUnversioned: a PostgreSQL database made by the
// previous version (its schema verbatim, no version table) opens, is
// stamped as version 1 and migrated to schemaVersion with nothing lost.
func TestPostgresMigrateAdoptsUnversioned(t *testing.T) {
	dsn := startPostgres(t)
	openPostgres(t, dsn).Close() // waits for the server
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE legacy`); err != nil {
		t.Fatal(err)
	}
	legacyDSN := strings.Replace(dsn, "/postgres?", "/legacy?", 1)
	db, err := sql.Open("pgx", legacyDSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range legacyPostgresSchema {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t)
	fillLegacy(t, f, db, true)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := OpenPostgres(legacyDSN)
	if err != nil {
		t.Fatal(err)
	}
	checkAdopted(t, f, st)
	st2, err := OpenPostgres(legacyDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if v, err := st2.schemaVersion(); err != nil || v != schemaVersion {
		t.Fatalf("reopened at version %d, %v", v, err)
	}
}
