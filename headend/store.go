package headend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // pure-Go SQLite driver "sqlite"

	"github.com/verimeter/verimeter/headend/api"
	"github.com/verimeter/verimeter/protocol"
)

// Errors of the head-end, for callers and the HTTP API to map to statuses.
var (
	ErrStore       = errors.New("headend: store failed")
	ErrNotEntitled = errors.New("headend: participant has no contract for this meter and period")
	ErrParticipant = errors.New("headend: participant certificate not valid")
	ErrApproval    = errors.New("headend: command needs a second approver")
	ErrRateLimit   = errors.New("headend: rate limit for this command kind reached")
	ErrRole        = errors.New("headend: issuer's role may not do this")
)

// The wire types live in headend/api (no database dependency); these
// aliases keep the head-end's own API in one place.
type (
	// Kind tells what a forwarded item is.
	Kind = api.Kind
	// Item is one piece of signed data a gateway forwards.
	Item = api.Item
	// IngestResult counts what a batch did.
	IngestResult = api.IngestResult
)

// Item kinds.
const (
	KindReading = api.KindReading
	KindBlock   = api.KindBlock
	KindEvent   = api.KindEvent
)

// Store is the head-end's database: SQLite (embedded, the default) or
// PostgreSQL (scale-out, OpenPostgres). The SQL is the same; placeholders are
// rebound for PostgreSQL.
type Store struct {
	db *sql.DB
	pg bool
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if !s.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pgSchema is the schema in PostgreSQL's types.
var pgSchema = []string{
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

// OpenPostgres connects to PostgreSQL (a pgx connection string, e.g.
// postgres://user@host:5432/db) and creates the schema if needed. Commits
// are durable when PostgreSQL's synchronous_commit is on (its default).
func OpenPostgres(dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	db.SetMaxOpenConns(16)
	for _, q := range pgSchema {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("%w: schema: %v", ErrStore, err)
		}
	}
	return &Store{db: db, pg: true}, nil
}

const schema = `
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

// OpenStore opens (or creates) the SQLite database at path.
func OpenStore(path string) (*Store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: schema: %v", ErrStore, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// verified is an item after signature verification, ready to store.
type verified struct {
	meter     protocol.SystemTitle
	counter   uint64
	kind      Kind
	signedAt  int64
	value     uint64
	raw       []byte
	intervals []protocol.Interval
	start     int64
	period    int64
}

// commit stores verified items in one transaction and returns only after
// the commit is durable (WAL, synchronous=FULL): the group commit behind
// each acknowledgement.
func (s *Store) commit(ctx context.Context, items []verified, gateway string, at time.Time) (stored, dups, ivs int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer tx.Rollback()
	// A block is one row: the signed block itself is the record of its
	// intervals (participants get them with their Merkle proofs from it), so
	// ingest costs one insert per block, not one per interval.
	ins, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO data (meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	for _, v := range items {
		end := v.signedAt
		if v.kind == KindBlock {
			end = v.start + int64(len(v.intervals))*v.period
		}
		res, err := ins.ExecContext(ctx, v.meter[:], int64(v.counter), int(v.kind), v.signedAt, at.UnixNano(), gateway, int64(v.value), v.raw, end, len(v.intervals))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: %v", ErrStore, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			dups++
			continue
		}
		stored++
		ivs += len(v.intervals)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: commit: %v", ErrStore, err)
	}
	return stored, dups, ivs, nil
}

// Audit appends to the audit log.
func (s *Store) Audit(at time.Time, actor, action, detail string) error {
	if _, err := s.db.Exec(s.rebind(`INSERT INTO audit (at, actor, action, detail) VALUES (?,?,?,?)`), at.UnixNano(), actor, action, detail); err != nil {
		return fmt.Errorf("%w: audit: %v", ErrStore, err)
	}
	return nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq                   int64
	At                    time.Time
	Actor, Action, Detail string
}

// AuditLog returns the audit log, oldest first.
func (s *Store) AuditLog() ([]AuditEntry, error) {
	rows, err := s.db.Query(s.rebind(`SELECT seq, at, actor, action, detail FROM audit ORDER BY seq`))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStore, err)
		}
		e.At = time.Unix(0, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Counts returns how many signed items and interval values are stored.
func (s *Store) Counts() (items, intervals int, err error) {
	if err = s.db.QueryRow(s.rebind(`SELECT count(*) FROM data`)).Scan(&items); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	if err = s.db.QueryRow(s.rebind(`SELECT coalesce(sum(intervals), 0) FROM data`)).Scan(&intervals); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	return items, intervals, nil
}

// AddContract records that participant (in role) may read meter in
// [from, to).
func (s *Store) AddContract(participant string, role protocol.Role, meter protocol.SystemTitle, from, to time.Time) error {
	if _, err := s.db.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to) VALUES (?,?,?,?,?)`), participant, string(role), meter[:], from.Unix(), to.Unix()); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

// EndContracts ends every open contract of role for meter at t (a supplier
// switch: the old supplier's contract ends where the new one begins).
func (s *Store) EndContracts(role protocol.Role, meter protocol.SystemTitle, t time.Time) error {
	if _, err := s.db.Exec(s.rebind(`UPDATE contracts SET valid_to = ? WHERE role = ? AND meter = ? AND valid_to > ?`), t.Unix(), string(role), meter[:], t.Unix()); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

// entitled returns the periods in which participant may read meter.
func (s *Store) entitled(participant string, meter protocol.SystemTitle) ([][2]int64, error) {
	rows, err := s.db.Query(s.rebind(`SELECT valid_from, valid_to FROM contracts WHERE meter = ? AND participant = ?`), meter[:], participant)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStore, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Each calls fn for every stored signed item, in key order (an auditor's
// full re-verification).
func (s *Store) Each(fn func(kind Kind, raw []byte)) error {
	rows, err := s.db.Query(s.rebind(`SELECT kind, raw FROM data ORDER BY meter, counter`))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int
		var raw []byte
		if err := rows.Scan(&k, &raw); err != nil {
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
		fn(Kind(k), raw)
	}
	return rows.Err()
}

// Tamper rewrites the raw bytes of the first stored item with fn. It exists
// for tests that must show an altered store is detected; nothing in the
// head-end calls it.
func (s *Store) Tamper(fn func(raw []byte) []byte) error {
	var meter []byte
	var ctr int64
	var raw []byte
	if err := s.db.QueryRow(s.rebind(`SELECT meter, counter, raw FROM data ORDER BY meter, counter LIMIT 1`)).Scan(&meter, &ctr, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	if _, err := s.db.Exec(s.rebind(`UPDATE data SET raw = ? WHERE meter = ? AND counter = ?`), fn(raw), meter, ctr); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

// Counters returns the counters of the signed items of meter signed in
// [from, to) (Unix seconds), ascending: what a query by meter and period
// sees.
func (s *Store) Counters(meter protocol.SystemTitle, from, to int64) ([]uint64, error) {
	rows, err := s.db.Query(s.rebind(`SELECT counter FROM data WHERE meter = ? AND signed_at >= ? AND signed_at < ? ORDER BY counter`), meter[:], from, to)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStore, err)
		}
		out = append(out, uint64(c))
	}
	return out, rows.Err()
}

// SwitchSupplier ends the meter's supplier contract at `at` and starts
// participant's from `at` on, in one transaction: a crash leaves either
// the old or the new supplier entitled, never both or neither (UC7).
func (s *Store) SwitchSupplier(meter protocol.SystemTitle, participant string, at, until time.Time) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(s.rebind(`UPDATE contracts SET valid_to = ? WHERE role = ? AND meter = ? AND valid_to > ?`), at.Unix(), string(protocol.RoleSupplier), meter[:], at.Unix()); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	if _, err := tx.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to) VALUES (?,?,?,?,?)`), participant, string(protocol.RoleSupplier), meter[:], at.Unix(), until.Unix()); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %v", ErrStore, err)
	}
	return nil
}

// SupplierAt returns the participants holding a supplier contract for
// meter at time at (normally exactly one).
func (s *Store) SupplierAt(meter protocol.SystemTitle, at time.Time) ([]string, error) {
	rows, err := s.db.Query(s.rebind(`SELECT participant FROM contracts WHERE role = ? AND meter = ? AND valid_from <= ? AND valid_to > ? ORDER BY participant`), string(protocol.RoleSupplier), meter[:], at.Unix(), at.Unix())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStore, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CommandCounter is the last command counter signed for a meter (0 before
// the first): the head-end's issued count of spec/Commands.tla, which it
// persists before it hands a signed command out, so that a restarted
// head-end never signs two commands with one counter (the meter would run
// only the first) nor goes back.
func (s *Store) CommandCounter(meter protocol.SystemTitle) (int64, error) {
	var n int64
	err := s.db.QueryRow(s.rebind(`SELECT issued FROM command_counters WHERE meter = ?`), meter[:]).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: command counter: %v", ErrStore, err)
	}
	return n, nil
}

// SetCommandCounter persists a meter's command counter; it refuses to move
// it back (counters never go back, also across a restore of an old row).
func (s *Store) SetCommandCounter(meter protocol.SystemTitle, issued int64) error {
	res, err := s.db.Exec(s.rebind(`INSERT INTO command_counters (meter, issued) VALUES (?, ?)
ON CONFLICT (meter) DO UPDATE SET issued = excluded.issued WHERE command_counters.issued < excluded.issued`), meter[:], issued)
	if err != nil {
		return fmt.Errorf("%w: command counter: %v", ErrStore, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: command counter of %x would go back to %d", ErrStore, meter, issued)
	}
	return nil
}
