package headend

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// legacySQLiteSchema is the SQLite schema exactly as the head-end created
// it before the schema had versions (store.go before migrations): the
// fixture for adopting such a database.
const legacySQLiteSchema = `
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS data (
  meter BLOB NOT NULL, counter INTEGER NOT NULL, kind INTEGER NOT NULL,
  signed_at INTEGER NOT NULL, ingested_at INTEGER NOT NULL, gateway TEXT NOT NULL,
  value INTEGER, raw BLOB NOT NULL,
  span_end INTEGER NOT NULL, -- blocks: end of the last interval; others: signed_at
  intervals INTEGER NOT NULL, -- blocks: number of intervals; others: 0
  PRIMARY KEY (meter, counter)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS data_span ON data (meter, kind, signed_at);
CREATE TABLE IF NOT EXISTS contracts (
  participant TEXT NOT NULL, role TEXT NOT NULL, meter BLOB NOT NULL,
  valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS contracts_meter ON contracts (meter, participant);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command_counters (
  meter BLOB PRIMARY KEY, issued INTEGER NOT NULL) WITHOUT ROWID;
`

// legacyPostgresSchema is the PostgreSQL schema exactly as the head-end
// created it before the schema had versions.
var legacyPostgresSchema = []string{
	`CREATE TABLE IF NOT EXISTS data (
  meter BYTEA NOT NULL, counter BIGINT NOT NULL, kind INTEGER NOT NULL,
  signed_at BIGINT NOT NULL, ingested_at BIGINT NOT NULL, gateway TEXT NOT NULL,
  value BIGINT, raw BYTEA NOT NULL, span_end BIGINT NOT NULL, intervals INTEGER NOT NULL,
  PRIMARY KEY (meter, counter))`,
	`CREATE INDEX IF NOT EXISTS data_span ON data (meter, kind, signed_at)`,
	`CREATE TABLE IF NOT EXISTS contracts (
  participant TEXT NOT NULL, role TEXT NOT NULL, meter BYTEA NOT NULL,
  valid_from BIGINT NOT NULL, valid_to BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS contracts_meter ON contracts (meter, participant)`,
	`CREATE TABLE IF NOT EXISTS audit (
  seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS command_counters (
  meter BYTEA PRIMARY KEY, issued BIGINT NOT NULL)`,
}

// fillLegacy writes what the previous version would have stored: two
// signed blocks, a supplier contract, two audit lines and a command
// counter, through the previous version's own statements.
func fillLegacy(t *testing.T, f *fixture, db *sql.DB, pg bool) {
	t.Helper()
	s := &Store{pg: pg}
	for c := uint64(1); c <= 2; c++ {
		raw := f.block(t, c, int(c-1))
		start := f.t0.Add(time.Duration(c-1) * 24 * time.Hour).Unix()
		if _, err := db.Exec(s.rebind(`INSERT INTO data (meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`),
			f.meter[:], int64(c), int(wan.KindBlock), start, f.now.UnixNano(), "gw", int64(0), raw, start+96*900, 96); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to) VALUES (?,?,?,?,?)`), "supplier A", string(protocol.RoleSupplier), f.meter[:], f.t0.Unix(), f.t0.Add(48*time.Hour).Unix()); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"fetch", "command"} {
		if _, err := db.Exec(s.rebind(`INSERT INTO audit (at, actor, action, detail) VALUES (?,?,?,?)`), f.now.UnixNano(), "legacy", a, "before versions"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(s.rebind(`INSERT INTO command_counters (meter, issued) VALUES (?, ?)`), f.meter[:], 41); err != nil {
		t.Fatal(err)
	}
}

// checkAdopted checks that a store opened on a filled legacy database is
// at schemaVersion and has everything the legacy version stored: the
// blocks (served with proofs), the contract, the audit lines, the counter;
// and that migration 2 (campaigns) works on it.
func checkAdopted(t *testing.T, f *fixture, st *Store) {
	t.Helper()
	if v, err := st.schemaVersion(); err != nil || v != schemaVersion {
		t.Fatalf("schema version %d, %v; want %d", v, err, schemaVersion)
	}
	f.useStore(st)
	if items, ivs, err := st.Counts(); err != nil || items != 2 || ivs != 192 {
		t.Fatalf("after adoption: %d items, %d intervals, %v", items, ivs, err)
	}
	log, err := st.auditLog()
	if err != nil || len(log) != 2 || log[0].Actor != "legacy" || log[1].Action != "command" {
		t.Fatalf("audit log after adoption: %+v %v", log, err)
	}
	if n, err := st.commandCounter(f.meter); err != nil || n != 41 {
		t.Fatalf("command counter after adoption: %d %v", n, err)
	}
	p, err := f.he.fetch(context.Background(), f.parts["supplier A"], f.meter, f.t0, f.t0.Add(48*time.Hour))
	if err != nil || len(p) != 192 {
		t.Fatalf("fetch after adoption: %d intervals, %v", len(p), err)
	}
	if _, err := f.he.newCampaign(1, []byte("manifest"), []byte("image"), f.alice, f.bob, []protocol.SystemTitle{f.meter}); err != nil {
		t.Fatalf("campaign (migration 2): %v", err)
	}
	if _, err := f.he.newCampaign(1, []byte("manifest"), []byte("image"), f.alice, f.bob, []protocol.SystemTitle{f.meter}); !errors.Is(err, ErrCampaignExists) {
		t.Fatalf("campaign id approved twice: %v", err)
	}
	// The ingest path still stores once.
	res, err := f.he.Ingest(context.Background(), "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}, {Kind: wan.KindBlock, Raw: f.block(t, 3, 2)}})
	if err != nil || res.Stored != 1 || res.Duplicates != 1 {
		t.Fatalf("ingest after adoption: %+v %v", res, err)
	}
}

// TestMigrateAdoptsUnversionedSQLite: a database made by the previous
// version (its schema verbatim, no version table) opens, is stamped as
// version 1 and migrated to schemaVersion with nothing lost; opening it
// again changes nothing.
func TestMigrateAdoptsUnversionedSQLite(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "legacy.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(legacySQLiteSchema); err != nil {
		t.Fatal(err)
	}
	fillLegacy(t, f, db, false)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var applied []int64
	rows, err := st.db.Query(`SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, v)
	}
	if err := rows.Close(); err != nil || len(applied) != schemaVersion {
		t.Fatalf("versions applied: %v %v; want 1 to %d", applied, err, schemaVersion)
	}
	for i, v := range applied {
		if v != int64(i+1) {
			t.Fatalf("versions applied: %v; want 1 to %d in order", applied, schemaVersion)
		}
	}
	checkAdopted(t, f, st)
	st.Close()
	st2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if items, _, err := st2.Counts(); err != nil || items != 3 {
		t.Fatalf("reopened: %d items, %v", items, err)
	}
	if v, err := st2.schemaVersion(); err != nil || v != schemaVersion {
		t.Fatalf("reopened at version %d, %v", v, err)
	}
}

// TestMigrateRefusesUnknownSchemas: a database with only some of the
// head-end's tables, one with a table missing a column, and one newer than
// this head-end are refused with ErrSchema and left as they were.
func TestMigrateRefusesUnknownSchemas(t *testing.T) {
	for name, ddl := range map[string]string{
		"partial":       `CREATE TABLE data (meter BLOB, counter INTEGER, kind INTEGER, signed_at INTEGER, ingested_at INTEGER, gateway TEXT, value INTEGER, raw BLOB, span_end INTEGER, intervals INTEGER)`,
		"wrong columns": strings.Replace(legacySQLiteSchema, "span_end INTEGER NOT NULL,", "", 1),
		"newer":         `CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now'))); INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (99, 1)`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(ddl); err != nil {
				t.Fatal(err)
			}
			st, err := OpenStore(path)
			if !errors.Is(err, ErrSchema) {
				if st != nil {
					st.Close()
				}
				t.Fatalf("opened: %v", err)
			}
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'campaigns'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("refused database was migrated: %d %v", n, err)
			}
		})
	}
}
