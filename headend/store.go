package headend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"modernc.org/sqlite"               // pure-Go SQLite driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

// Errors of the head-end, for callers and the HTTP API to map to statuses.
var (
	ErrStore       = errors.New("headend: store failed")
	ErrNotEntitled = errors.New("headend: participant has no contract for this meter and period")
	ErrParticipant = errors.New("headend: participant certificate not valid")
	ErrApproval    = errors.New("headend: command needs a second approver")
	ErrRateLimit   = errors.New("headend: rate limit for this command kind reached")
	ErrRole        = errors.New("headend: issuer's role may not do this")
	// ErrAudit means an audit entry was not committed. The head-end fails
	// closed on it: what the entry would have recorded (a command, a
	// campaign, a participant's fetch) is not released. It comes wrapped
	// together with ErrStore and the database's own error.
	ErrAudit = errors.New("headend: audit entry not committed")
	// ErrDiskFull means the database could not grow (SQLITE_FULL, PostgreSQL
	// disk_full): nothing of the transaction is stored or acknowledged, and
	// the same request succeeds once space returns.
	ErrDiskFull = errors.New("headend: storage full")
	// ErrReadOnly means the database's storage refused writes (a read-only
	// file system, SQLITE_READONLY, a PostgreSQL standby): nothing of the
	// transaction is stored or acknowledged.
	ErrReadOnly = errors.New("headend: storage read-only")
)

// storeErr wraps a database error as ErrStore, adding ErrDiskFull or
// ErrReadOnly when the database says so, so callers (the HTTP API, the
// gateway's retry) can tell a full disk from a broken query.
func storeErr(op string, err error) error {
	if kind := classify(err); kind != nil {
		return fmt.Errorf("%w: %w: %s: %w", ErrStore, kind, op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrStore, op, err)
}

// classify maps SQLite's and PostgreSQL's codes for a full or read-only
// storage to ErrDiskFull and ErrReadOnly.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_FULL:
			return ErrDiskFull
		case sqlite3.SQLITE_READONLY:
			return ErrReadOnly
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "53100": // disk_full
			return ErrDiskFull
		case "25006": // read_only_sql_transaction
			return ErrReadOnly
		}
	}
	return nil
}

// closeRows closes rows and reports the first error of the iteration or
// the close into *err when nothing failed before: a query that stops early
// (an I/O error, a cancelled context) must not read as a short answer.
func closeRows(rows *sql.Rows, op string, err *error) {
	iterErr := rows.Err()
	closeErr := rows.Close()
	if *err != nil {
		return
	}
	if iterErr != nil {
		*err = storeErr(op, iterErr)
	} else if closeErr != nil {
		*err = storeErr(op, closeErr)
	}
}

// Store is the head-end's database: SQLite (embedded, the default) or
// PostgreSQL (scale-out, OpenPostgres). The SQL is the same; placeholders are
// rebound for PostgreSQL.
type Store struct {
	db *sql.DB
	pg bool
	// logMu guards tree, the transparency log's Merkle tree in memory: the
	// leaf hashes of log_leaves up to the last commit this process saw.
	// Ingest holds it across its transaction, so leaves get their indexes
	// in commit order.
	logMu sync.Mutex
	tree  translog.Tree
	// groupMu guards queue and leading: the batches waiting for the next
	// group commit, and whether a caller is committing (commit).
	groupMu sync.Mutex
	queue   []*commitReq
	leading bool
	// noLog turns the log off; only BenchmarkIngestLog sets it, to measure
	// what the log costs ingest in the same run.
	noLog bool
	// inserts are the prepared multi-row inserts of ingest by row count
	// (prepareInserts); guarded by logMu.
	inserts map[int]*sql.Stmt
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

// OpenPostgres connects to PostgreSQL (a pgx connection string, e.g.
// postgres://user@host:5432/db) and brings its schema to the version this
// head-end needs (migrate; several head-end processes starting together take turns under
// a PostgreSQL advisory lock). Commits are durable when PostgreSQL's
// synchronous_commit is on (its default).
func OpenPostgres(dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, storeErr("open", err)
	}
	db.SetMaxOpenConns(16)
	s := &Store{db: db, pg: true}
	if err := s.migrate(context.Background()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// sqlitePragmas are set on every connection: WAL with a full fsync at each
// commit, so a commit that returned survives a power loss.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"

// OpenStore opens (or creates) the SQLite database at path and brings its
// schema to the version this head-end needs (migrate), adopting a database made before the
// schema had versions.
func OpenStore(path string) (*Store, error) { return openSQLite(path, "") }

// openSQLite is OpenStore through the SQLite VFS named vfs ("" for the
// default): the tests inject disk faults and record writes with one.
func openSQLite(path, vfs string) (*Store, error) {
	dsn := "file:" + path + "?" + sqlitePragmas
	if vfs != "" {
		dsn += "&vfs=" + vfs
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, storeErr("open", err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	s := &Store{db: db}
	if err := s.migrate(context.Background()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.logMu.Lock()
	for _, st := range s.inserts {
		st.Close()
	}
	s.inserts = nil
	s.logMu.Unlock()
	if err := s.db.Close(); err != nil {
		return storeErr("close", err)
	}
	return nil
}

// verified is an item after signature verification, ready to store.
type verified struct {
	meter     protocol.SystemTitle
	counter   uint64
	kind      wan.Kind
	signedAt  int64
	value     uint64
	raw       []byte
	leaf      translog.Hash // leaf hash of the COSE_Sign1 the meter signed
	intervals []protocol.Interval
	start     int64
	period    int64
}

// auditEntry is an audit line not yet written: the head-end hands it to the
// store with the state change it records, so both commit or neither does.
type auditEntry struct {
	at                    time.Time
	actor, action, detail string
}

// execer is what writes an audit entry: the database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// audit inserts e through x. Its errors are ErrStore and ErrAudit.
func (s *Store) audit(ctx context.Context, x execer, e auditEntry) error {
	if _, err := x.ExecContext(ctx, s.rebind(`INSERT INTO audit (at, actor, action, detail) VALUES (?,?,?,?)`), e.at.UnixNano(), e.actor, e.action, e.detail); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("audit", err))
	}
	return nil
}

// commitReq is one Ingest call's share of a group commit: its items, its
// audit note, and (once done is signalled) its counts or the group's error.
type commitReq struct {
	items   []verified
	gateway string
	at      time.Time
	note    *auditEntry

	stored, dups, ivs int
	// conflicts are the items refused because a different item is stored
	// under their meter and counter (ErrCounterReuse), each audited in the
	// transaction.
	conflicts []*verified
	err       error
	// lead is set before done is signalled when this request is to commit
	// the queue itself rather than read its results.
	lead bool
	done chan struct{}
}

// commit stores verified items and returns only after their transaction
// is durable (WAL, synchronous=FULL): the group commit behind each
// acknowledgement. A non-nil note is written to the audit log in the same
// transaction, so a batch is not acknowledged without it.
//
// Concurrent calls share a transaction: the first caller leads and commits
// every batch queued by then; the batches that arrive during that commit
// wait and are committed together by the next leader (one fsync, one log
// append and one multi-row insert for all of them). Each call still gets
// its own counts, and an error of the shared transaction fails every batch
// in it: none of them is acknowledged, none is partly stored.
//
// Every item stored is appended to the transparency log in the same
// transaction (the group's leaf hashes in one row of log_leaves, each
// item's index in data.log_index): an item is never stored without its
// leaf, nor logged without being stored. The tree in memory grows only
// after the commit.
func (s *Store) commit(ctx context.Context, items []verified, gateway string, at time.Time, note *auditEntry) (stored, dups, ivs int, conflicts []*verified, err error) {
	r := &commitReq{items: items, gateway: gateway, at: at, note: note, done: make(chan struct{}, 1)}
	s.groupMu.Lock()
	s.queue = append(s.queue, r)
	lead := !s.leading
	s.leading = true
	s.groupMu.Unlock()
	if !lead {
		<-r.done
		if !r.lead {
			return r.stored, r.dups, r.ivs, r.conflicts, r.err
		}
	}
	s.groupMu.Lock()
	group := s.queue
	s.queue = nil
	s.groupMu.Unlock()
	// The batches of others ride on this transaction: one gateway hanging
	// up must not abort theirs (its own batch may commit unacknowledged,
	// which re-delivery makes harmless).
	gerr := s.commitGroup(context.WithoutCancel(ctx), group)
	for _, g := range group {
		if gerr != nil {
			g.stored, g.dups, g.ivs, g.conflicts, g.err = 0, 0, 0, nil, gerr
		}
		if g != r {
			g.done <- struct{}{}
		}
	}
	s.groupMu.Lock()
	if len(s.queue) > 0 {
		next := s.queue[0]
		next.lead = true
		next.done <- struct{}{}
	} else {
		s.leading = false
	}
	s.groupMu.Unlock()
	return r.stored, r.dups, r.ivs, r.conflicts, r.err
}

// itemKey is a data row's primary key.
type itemKey struct {
	meter   protocol.SystemTitle
	counter uint64
}

// commitGroup stores a group's items in one transaction and fills in each
// request's counts. The common case is one multi-row insert per chunk of
// rows, each new row numbered with its log index in advance; when the
// database holds some of them already (a re-delivery whose answer was
// lost), the transaction is rolled back and the group is stored again one
// row at a time, so that only rows actually inserted are logged.
func (s *Store) commitGroup(ctx context.Context, group []*commitReq) error {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	done, err := s.commitTx(ctx, group, true)
	if err == nil && !done {
		_, err = s.commitTx(ctx, group, false)
	}
	return err
}

// insertCols is the data row of one item. A bulk insert goes in chunks of
// insertChunk rows and the rest in chunks of the powers of two below it,
// so that a handful of statements, each prepared once (insertStmt), store
// a group of any size.
const (
	insertCols  = `INSERT INTO data (meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals, log_index) VALUES `
	insertRow   = `(?,?,?,?,?,?,?,?,?,?,?)`
	insertChunk = 64
	insertArgs  = 11 // placeholders per row
)

// prepareInserts prepares the inserts of every power of two up to
// insertChunk rows, once, on the database: before the transaction begins,
// as SQLite's store has one connection and the transaction holds it.
// Called with logMu held.
func (s *Store) prepareInserts(ctx context.Context) error {
	if s.inserts != nil {
		return nil
	}
	m := map[int]*sql.Stmt{}
	for n := 1; n <= insertChunk; n *= 2 {
		st, err := s.db.PrepareContext(ctx, s.insertSQL(n))
		if err != nil {
			for _, st := range m {
				st.Close()
			}
			return storeErr("prepare ingest", err)
		}
		m[n] = st
	}
	s.inserts = m
	return nil
}

// insertSQL is the multi-row insert of n rows.
func (s *Store) insertSQL(n int) string {
	var b strings.Builder
	b.Grow(len(insertCols) + n*(len(insertRow)+1) + 32)
	b.WriteString(insertCols)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(insertRow)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	return s.rebind(b.String())
}

// commitTx is one attempt at a group's transaction: bulk (multi-row
// inserts, false without committing when a row was already stored) or one
// row at a time (any row may be a duplicate). Called with logMu held.
func (s *Store) commitTx(ctx context.Context, group []*commitReq, bulk bool) (bool, error) {
	if bulk {
		if err := s.prepareInserts(ctx); err != nil {
			return false, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, storeErr("begin", err)
	}
	defer tx.Rollback()
	if err := s.syncLog(ctx, tx); err != nil {
		return false, err
	}
	first := s.tree.Size()
	next := first
	var logged []translog.Hash
	// A block is one row: the signed block itself is the record of its
	// intervals (participants get them with their Merkle proofs from it), so
	// ingest costs one row per block, not one per interval.
	// seen holds each key's item of the group: a second item under the same
	// key is a duplicate when it says the same, a counter reuse otherwise.
	seen := make(map[itemKey]itemSays, len(group)*len(group[0].items))
	args := make([]any, 0, insertArgs*insertChunk)
	rows := 0
	// exec inserts the first n rows of args (n a power of two) and drops
	// them from args.
	exec := func(n int) error {
		res, err := tx.StmtContext(ctx, s.inserts[n]).ExecContext(ctx, args[:insertArgs*n]...)
		if err != nil {
			return storeErr("ingest", err)
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return storeErr("ingest", err)
		}
		if affected != int64(n) {
			return errStoredBefore
		}
		args = append(args[:0], args[insertArgs*n:]...)
		rows -= n
		return nil
	}
	flush := func() error {
		for n := insertChunk; rows > 0; n /= 2 {
			for rows >= n {
				if err := exec(n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var ins *sql.Stmt
	if !bulk {
		if ins, err = tx.PrepareContext(ctx, s.insertSQL(1)); err != nil {
			return false, storeErr("prepare ingest", err)
		}
		defer ins.Close()
	}
	for _, r := range group {
		r.stored, r.dups, r.ivs, r.conflicts = 0, 0, 0, r.conflicts[:0]
		at := r.at.UnixNano()
		for i := range r.items {
			v := &r.items[i]
			k := itemKey{v.meter, v.counter}
			if says, dup := seen[k]; dup {
				if says == saysOf(v) {
					r.dups++
				} else {
					r.conflicts = append(r.conflicts, v)
				}
				continue
			}
			seen[k] = saysOf(v)
			end := v.signedAt
			if v.kind == wan.KindBlock {
				end = v.start + int64(len(v.intervals))*v.period
			}
			row := []any{v.meter[:], int64(v.counter), int(v.kind), v.signedAt, at, r.gateway, int64(v.value), v.raw, end, len(v.intervals), int64(next)}
			if bulk {
				args = append(args, row...)
				if rows++; rows == insertChunk {
					if err := exec(insertChunk); errors.Is(err, errStoredBefore) {
						return false, nil
					} else if err != nil {
						return false, err
					}
				}
			} else {
				res, err := ins.ExecContext(ctx, row...)
				if err != nil {
					return false, storeErr("ingest", err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					return false, storeErr("ingest", err)
				}
				if n == 0 {
					// Stored before: the same item again (a resend), or a
					// different one under its counter, which is refused and
					// the stored one kept (spec/Market.tla's Conflict).
					same, err := s.storedSame(ctx, tx, v)
					if err != nil {
						return false, err
					}
					if same {
						r.dups++
					} else {
						r.conflicts = append(r.conflicts, v)
					}
					continue
				}
			}
			r.stored++
			r.ivs += len(v.intervals)
			if s.noLog {
				continue
			}
			logged = append(logged, v.leaf)
			next++
		}
	}
	if err := flush(); errors.Is(err, errStoredBefore) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if len(logged) > 0 {
		hashes := make([]byte, 0, 32*len(logged))
		for _, h := range logged {
			hashes = append(hashes, h[:]...)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO log_leaves (first, hashes) VALUES (?,?)`), int64(first), hashes); err != nil {
			return false, storeErr("log", err)
		}
	}
	for _, r := range group {
		if r.note != nil {
			if err := s.audit(ctx, tx, *r.note); err != nil {
				return false, err
			}
		}
		for _, v := range r.conflicts {
			if err := s.audit(ctx, tx, auditEntry{r.at, r.gateway, "counter-reuse", counterReuse(v).Error()}); err != nil {
				return false, err
			}
		}
	}
	if ins != nil {
		if err := ins.Close(); err != nil {
			return false, storeErr("ingest", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, storeErr("commit", err)
	}
	for _, h := range logged {
		s.tree.AppendHash(h)
	}
	return true, nil
}

// ErrCounterReuse refuses a signed item whose meter and counter are those
// of an item the head-end already stored, with other content: a meter
// numbers each item once, so two different items under one counter come
// from a compromised meter or whoever holds its key, reusing a counter to
// replace what was stored. The head-end keeps the first item (one per
// meter and counter, spec/Market.tla's S1_FirstKept), refuses the second
// and writes a "counter-reuse" audit entry naming both (Conflict).
var ErrCounterReuse = errors.New("headend: counter already used by a different item")

// counterReuse is the refusal of v, whose counter holds another item.
func counterReuse(v *verified) error {
	return fmt.Errorf("%w: meter %x counter %d (signed at %s, leaf %x): the item stored first is kept", ErrCounterReuse,
		v.meter, v.counter, time.Unix(v.signedAt, 0).UTC().Format(time.RFC3339), v.leaf[:8])
}

// itemSays is what a data row says of its item: kind, signing time, value
// (a block's register) and the end of its span. A meter that signs the
// same item again (ECDSA signatures differ each time) says the same; an
// item that says otherwise under a stored counter is a counter reuse. Two
// blocks that differ only in their intervals, with the same start, span
// and register, say the same: the first is kept all the same, unflagged.
type itemSays struct {
	kind          wan.Kind
	signedAt, end int64
	value         uint64
}

// saysOf is what v's data row says.
func saysOf(v *verified) itemSays {
	end := v.signedAt
	if v.kind == wan.KindBlock {
		end = v.start + int64(len(v.intervals))*v.period
	}
	return itemSays{v.kind, v.signedAt, end, v.value}
}

// storedSame reports whether the item stored under v's meter and counter
// says what v says.
func (s *Store) storedSame(ctx context.Context, tx *sql.Tx, v *verified) (bool, error) {
	var got itemSays
	var kind int
	var value int64
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT kind, signed_at, span_end, value FROM data WHERE meter = ? AND counter = ?`), v.meter[:], int64(v.counter)).Scan(&kind, &got.signedAt, &got.end, &value); err != nil {
		return false, storeErr("ingest", err)
	}
	got.kind, got.value = wan.Kind(kind), uint64(value)
	return got == saysOf(v), nil
}

// errStoredBefore stops a bulk insert that found a row already stored:
// the group is stored again one row at a time (commitGroup).
var errStoredBefore = errors.New("headend: a row of the bulk insert was stored before")

// logLock is the PostgreSQL advisory lock key that serialises appends to
// the log across head-end processes sharing one database.
const logLock = 0x7665726c6f67 // "verlog"

// querier is what reads the log: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// syncLog brings the tree in memory up to the leaves committed in the
// database (by this process before a restart, or by another head-end
// process on PostgreSQL, whose appends it serialises under an advisory
// lock held to the end of the transaction). Called with logMu held.
func (s *Store) syncLog(ctx context.Context, q querier) (err error) {
	if s.pg {
		if _, ok := q.(*sql.Tx); ok {
			if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(logLock)); err != nil {
				return storeErr("log lock", err)
			}
		}
	}
	rows, err := q.QueryContext(ctx, s.rebind(`SELECT first, hashes FROM log_leaves WHERE first >= ? ORDER BY first`), int64(s.tree.Size()))
	if err != nil {
		return storeErr("log", err)
	}
	defer closeRows(rows, "log", &err)
	for rows.Next() {
		var first int64
		var hs []byte
		if err := rows.Scan(&first, &hs); err != nil {
			return storeErr("log", err)
		}
		if uint64(first) != s.tree.Size() || len(hs) == 0 || len(hs)%32 != 0 {
			return fmt.Errorf("%w: log leaves from %d (%d bytes) where leaf %d was due", ErrStore, first, len(hs), s.tree.Size())
		}
		for i := 0; i < len(hs); i += 32 {
			s.tree.AppendHash(translog.Hash(hs[i : i+32]))
		}
	}
	return nil
}

// logState returns the log's size and root now (after syncing with the
// database).
func (s *Store) logState(ctx context.Context) (uint64, translog.Hash, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if err := s.syncLog(ctx, s.db); err != nil {
		return 0, translog.Hash{}, err
	}
	n := s.tree.Size()
	root, err := s.tree.Root(n)
	return n, root, err
}

// saveTreeHead records a signed tree head.
func (s *Store) saveTreeHead(ctx context.Context, sth *translog.SignedTreeHead) error {
	b, err := sth.Marshal()
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO tree_heads (size, at, root, sth) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`), int64(sth.Size), sth.Time.UnixMilli(), sth.Root[:], b); err != nil {
		return storeErr("tree head", err)
	}
	return nil
}

// TreeHeads returns every signed tree head the head-end issued, oldest
// first: what an auditor gossips and checks for consistency.
func (s *Store) TreeHeads() (out []*translog.SignedTreeHead, err error) {
	rows, err := s.db.Query(`SELECT sth FROM tree_heads ORDER BY at, size`)
	if err != nil {
		return nil, storeErr("tree heads", err)
	}
	defer closeRows(rows, "tree heads", &err)
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, storeErr("tree heads", err)
		}
		sth, err := translog.ParseSignedTreeHead(b)
		if err != nil {
			return nil, fmt.Errorf("%w: stored tree head: %w", ErrStore, err)
		}
		out = append(out, sth)
	}
	return out, nil
}

// treeHead returns the earliest signed tree head of size n, or the latest
// of all when n is negative; ErrNotLogged when there is none.
func (s *Store) treeHead(ctx context.Context, n int64) (*translog.SignedTreeHead, error) {
	q, args := `SELECT sth FROM tree_heads ORDER BY at DESC, size DESC LIMIT 1`, []any{}
	if n >= 0 {
		q, args = s.rebind(`SELECT sth FROM tree_heads WHERE size = ? ORDER BY at LIMIT 1`), []any{n}
	}
	var b []byte
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no tree head of size %d", ErrNotLogged, n)
	}
	if err != nil {
		return nil, storeErr("tree head", err)
	}
	sth, err := translog.ParseSignedTreeHead(b)
	if err != nil {
		return nil, fmt.Errorf("%w: stored tree head: %w", ErrStore, err)
	}
	return sth, nil
}

// ErrNotLogged means an item has no inclusion proof to give: it is not
// stored, it was stored before the log existed (schema version 3), or no
// signed tree head includes it yet.
var ErrNotLogged = errors.New("headend: item not in a signed tree head")

// evidence returns the inclusion proof of meter's item counter into the
// earliest signed tree head that includes it: the earliest time the log
// can show the item existed.
func (s *Store) evidence(ctx context.Context, meter protocol.SystemTitle, counter uint64) (*translog.Evidence, error) {
	var idx sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT log_index FROM data WHERE meter = ? AND counter = ?`), meter[:], int64(counter)).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !idx.Valid {
		return nil, fmt.Errorf("%w: meter %x item %d has no log entry", ErrNotLogged, meter, counter)
	}
	if err != nil {
		return nil, storeErr("log index", err)
	}
	var b []byte
	err = s.db.QueryRowContext(ctx, s.rebind(`SELECT sth FROM tree_heads WHERE size > ? ORDER BY at, size LIMIT 1`), idx.Int64).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: meter %x item %d (leaf %d) not yet under a tree head", ErrNotLogged, meter, counter, idx.Int64)
	}
	if err != nil {
		return nil, storeErr("tree head", err)
	}
	sth, err := translog.ParseSignedTreeHead(b)
	if err != nil {
		return nil, fmt.Errorf("%w: stored tree head: %w", ErrStore, err)
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if err := s.syncLog(ctx, s.db); err != nil {
		return nil, err
	}
	proof, err := s.tree.InclusionProof(uint64(idx.Int64), sth.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	return &translog.Evidence{Index: uint64(idx.Int64), Proof: proof, TreeHead: sth}, nil
}

// ConsistencyProof proves that the log of size1 leaves is a prefix of the
// log of size2 leaves (RFC 9162 §2.1.4), for anyone holding two of its
// signed tree heads.
func (s *Store) ConsistencyProof(size1, size2 uint64) ([]translog.Hash, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if err := s.syncLog(context.Background(), s.db); err != nil {
		return nil, err
	}
	return s.tree.ConsistencyProof(size1, size2)
}

// appendAudit appends to the audit log. Its errors are ErrStore and ErrAudit; a
// caller that releases something on the strength of the entry must not
// release it on an error.
func (s *Store) appendAudit(at time.Time, actor, action, detail string) error {
	return s.audit(context.Background(), s.db, auditEntry{at, actor, action, detail})
}

// Counts returns how many signed items and interval values are stored.
func (s *Store) Counts() (items, intervals int, err error) {
	if err = s.db.QueryRow(s.rebind(`SELECT count(*), coalesce(sum(intervals), 0) FROM data`)).Scan(&items, &intervals); err != nil {
		return 0, 0, storeErr("counts", err)
	}
	return items, intervals, nil
}

// addContract records that participant (in role) may read meter in
// [from, to).
func (s *Store) addContract(participant string, role protocol.Role, meter protocol.SystemTitle, from, to time.Time) error {
	if _, err := s.db.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to) VALUES (?,?,?,?,?)`), participant, string(role), meter[:], from.Unix(), to.Unix()); err != nil {
		return storeErr("add contract", err)
	}
	return nil
}

// SeedContract records a contract of the head-end's configuration (or a
// deployment's initial data): that participant (in role) may read meter
// in [from, to). The store takes it only when it holds no contract of that
// participant, role and meter yet, and says whether it did. So a restart of
// the head-end, or a second head-end on the same database, neither
// duplicates a contract nor revives one that a supplier switch ended (the
// switch changed its end, and from then on the store, not the
// configuration, says who is entitled). Two head-ends seeding the same
// empty database at the same instant may both insert; the duplicate
// entitles no one more.
func (s *Store) SeedContract(participant string, role protocol.Role, meter protocol.SystemTitle, from, to time.Time) (bool, error) {
	res, err := s.db.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to)
		SELECT ?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM contracts WHERE participant = ? AND role = ? AND meter = ?)`),
		participant, string(role), meter[:], from.Unix(), to.Unix(), participant, string(role), meter[:])
	if err != nil {
		return false, storeErr("seed contract", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, storeErr("seed contract", err)
	}
	return n == 1, nil
}

// endContracts ends every open contract of role for meter at t (a supplier
// switch: the old supplier's contract ends where the new one begins).
func (s *Store) endContracts(role protocol.Role, meter protocol.SystemTitle, t time.Time) error {
	if _, err := s.db.Exec(s.rebind(`UPDATE contracts SET valid_to = ? WHERE role = ? AND meter = ? AND valid_to > ?`), t.Unix(), string(role), meter[:], t.Unix()); err != nil {
		return storeErr("end contracts", err)
	}
	return nil
}

// entitled returns the periods in which participant may read meter.
func (s *Store) entitled(ctx context.Context, participant string, meter protocol.SystemTitle) (out [][2]int64, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT valid_from, valid_to FROM contracts WHERE meter = ? AND participant = ?`), meter[:], participant)
	if err != nil {
		return nil, storeErr("contracts", err)
	}
	defer closeRows(rows, "contracts", &err)
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, storeErr("contracts", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// blocks returns the signed load-profile blocks of meter overlapping
// [from, to) (Unix seconds), by start and counter. A query that fails part
// way is an error, never a shorter list.
func (s *Store) blocks(ctx context.Context, meter protocol.SystemTitle, from, to int64) (out []storedBlock, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT raw, signed_at, ingested_at FROM data WHERE meter = ? AND kind = ? AND signed_at < ? AND span_end > ? ORDER BY signed_at, counter`), meter[:], int(wan.KindBlock), to, from)
	if err != nil {
		return nil, storeErr("blocks", err)
	}
	defer closeRows(rows, "blocks", &err)
	for rows.Next() {
		var b storedBlock
		if err := rows.Scan(&b.raw, &b.signedAt, &b.ingestedAt); err != nil {
			return nil, storeErr("blocks", err)
		}
		b.ingestedAt /= int64(time.Second) // stored in nanoseconds
		out = append(out, b)
	}
	return out, nil
}

// storedBlock is a block's row: the signed block, its signing time (the
// block's start, as its meter claims it) and the time the head-end stored
// and logged it (Unix seconds both).
type storedBlock struct {
	raw                  []byte
	signedAt, ingestedAt int64
}

// Each calls fn for every stored signed item, in key order (an auditor's
// full re-verification).
func (s *Store) Each(fn func(kind wan.Kind, raw []byte)) (err error) {
	rows, err := s.db.Query(s.rebind(`SELECT kind, raw FROM data ORDER BY meter, counter`))
	if err != nil {
		return storeErr("each", err)
	}
	defer closeRows(rows, "each", &err)
	for rows.Next() {
		var k int
		var raw []byte
		if err := rows.Scan(&k, &raw); err != nil {
			return storeErr("each", err)
		}
		fn(wan.Kind(k), raw)
	}
	return nil
}

// counters returns the counters of the signed items of meter signed in
// [from, to) (Unix seconds), ascending: what a query by meter and period
// sees.
func (s *Store) counters(meter protocol.SystemTitle, from, to int64) (out []uint64, err error) {
	rows, err := s.db.Query(s.rebind(`SELECT counter FROM data WHERE meter = ? AND signed_at >= ? AND signed_at < ? ORDER BY counter`), meter[:], from, to)
	if err != nil {
		return nil, storeErr("counters", err)
	}
	defer closeRows(rows, "counters", &err)
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, storeErr("counters", err)
		}
		out = append(out, uint64(c))
	}
	return out, nil
}

// switchSupplier ends the meter's supplier contract at `at` and starts
// participant's from `at` on, in one transaction: a crash leaves either
// the old or the new supplier entitled, never both or neither (UC7). The
// switch's audit entry commits in the same transaction: no switch without
// it.
func (s *Store) switchSupplier(meter protocol.SystemTitle, participant string, at, until time.Time) error {
	tx, err := s.db.Begin()
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(s.rebind(`UPDATE contracts SET valid_to = ? WHERE role = ? AND meter = ? AND valid_to > ?`), at.Unix(), string(protocol.RoleSupplier), meter[:], at.Unix()); err != nil {
		return storeErr("switch supplier", err)
	}
	if _, err := tx.Exec(s.rebind(`INSERT INTO contracts (participant, role, meter, valid_from, valid_to) VALUES (?,?,?,?,?)`), participant, string(protocol.RoleSupplier), meter[:], at.Unix(), until.Unix()); err != nil {
		return storeErr("switch supplier", err)
	}
	if err := s.audit(context.Background(), tx, auditEntry{at, "market", "supplier-switch", fmt.Sprintf("meter %x to %s", meter, participant)}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return storeErr("commit", err)
	}
	return nil
}

// supplierAt returns the participants holding a supplier contract for
// meter at time at (normally exactly one).
func (s *Store) supplierAt(meter protocol.SystemTitle, at time.Time) (out []string, err error) {
	rows, err := s.db.Query(s.rebind(`SELECT participant FROM contracts WHERE role = ? AND meter = ? AND valid_from <= ? AND valid_to > ? ORDER BY participant`), string(protocol.RoleSupplier), meter[:], at.Unix(), at.Unix())
	if err != nil {
		return nil, storeErr("supplier", err)
	}
	defer closeRows(rows, "supplier", &err)
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, storeErr("supplier", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// commandCounter is the last command counter signed for a meter (0 before
// the first): the head-end's issued count of spec/Commands.tla, which it
// persists before it hands a signed command out, so that a restarted
// head-end never signs two commands with one counter (the meter would run
// only the first) nor goes back.
func (s *Store) commandCounter(meter protocol.SystemTitle) (int64, error) {
	var n int64
	err := s.db.QueryRow(s.rebind(`SELECT issued FROM command_counters WHERE meter = ?`), meter[:]).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, storeErr("command counter", err)
	}
	return n, nil
}

// storeCommandCounter persists a meter's command counter; it refuses to move
// it back (counters never go back, also across a restore of an old row).
func (s *Store) storeCommandCounter(meter protocol.SystemTitle, issued int64) error {
	return s.setCommandCounter(context.Background(), s.db, meter, issued)
}

func (s *Store) setCommandCounter(ctx context.Context, x execer, meter protocol.SystemTitle, issued int64) error {
	res, err := x.ExecContext(ctx, s.rebind(`INSERT INTO command_counters (meter, issued) VALUES (?, ?)
ON CONFLICT (meter) DO UPDATE SET issued = excluded.issued WHERE command_counters.issued < excluded.issued`), meter[:], issued)
	if err != nil {
		return storeErr("command counter", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storeErr("command counter", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: command counter of %x would go back to %d", ErrStore, meter, issued)
	}
	return nil
}

// issueCommand persists a meter's new command counter and the audit entry
// of the command it numbers in one transaction: a command is signed and
// handed out only after both are durable, and a counter is never used
// without its entry in the audit log.
func (s *Store) issueCommand(meter protocol.SystemTitle, issued int64, e auditEntry) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	if err := s.setCommandCounter(ctx, tx, meter, issued); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}
