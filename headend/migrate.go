package headend

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema is versioned with goose (github.com/pressly/goose/v3): the
// migrations are SQL files embedded in the binary, one directory per
// database; goose records what it applied in goose_db_version. Goose is
// pure Go and brings no database driver of its own, so the head-end keeps
// modernc.org/sqlite and pgx.

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// schemaVersion is the schema version this head-end needs; OpenStore and
// OpenPostgres migrate an older database to it.
const schemaVersion = 9

// ErrSchema means the database's schema could not be brought to the
// version this head-end needs: a migration failed, the database is newer than this
// head-end, or it holds some of the head-end's tables but not all of them
// (not a database this head-end made, and not adopted on a guess).
var ErrSchema = errors.New("headend: database schema")

// legacyTables are the tables of the schema before it had versions
// (migration 1), with the columns the head-end reads in each.
var legacyTables = map[string]string{
	"data":             "meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals",
	"contracts":        "participant, role, meter, valid_from, valid_to",
	"audit":            "seq, at, actor, action, detail",
	"command_counters": "meter, issued",
}

// migrate brings the schema to schemaVersion. A database made before the
// schema had versions (every table of migration 1, no goose_db_version) is
// adopted: its tables are checked to have the columns of migration 1,
// whose statements (all IF NOT EXISTS) then change nothing and stamp it as
// version 1; the later migrations follow.
func (s *Store) migrate(ctx context.Context) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.pg {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSchema, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	versioned, err := s.tableExists(ctx, "goose_db_version")
	if err != nil {
		return err
	}
	if !versioned {
		if err := s.checkLegacy(ctx); err != nil {
			return err
		}
	}
	p, err := goose.NewProvider(dialect, s.db, fsys, append(opts, goose.WithDisableGlobalRegistry(true))...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("%w: migrating: %w", ErrSchema, storeErr("migrate", err))
	}
	v, err := s.schemaVersion()
	if err != nil {
		return err
	}
	if v != schemaVersion {
		return fmt.Errorf("%w: database is at version %d, this head-end knows up to %d", ErrSchema, v, schemaVersion)
	}
	return nil
}

// checkLegacy accepts an empty database or one with every table of
// migration 1 and their columns; anything in between is ErrSchema.
func (s *Store) checkLegacy(ctx context.Context) error {
	found := 0
	for t, cols := range legacyTables {
		ok, err := s.tableExists(ctx, t)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		found++
		if _, err := s.db.ExecContext(ctx, "SELECT "+cols+" FROM "+t+" WHERE 1 = 0"); err != nil {
			return fmt.Errorf("%w: table %s of an unversioned database lacks columns of version 1: %w", ErrSchema, t, err)
		}
	}
	if found != 0 && found != len(legacyTables) {
		return fmt.Errorf("%w: unversioned database with %d of the %d tables of version 1", ErrSchema, found, len(legacyTables))
	}
	return nil
}

// tableExists reports whether the database has table t.
func (s *Store) tableExists(ctx context.Context, t string) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if s.pg {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.rebind(q), t).Scan(&n); err != nil {
		return false, storeErr("schema", err)
	}
	return n > 0, nil
}

// schemaVersion returns the schema version the database is at, as the
// migrations recorded it.
func (s *Store) schemaVersion() (int64, error) {
	var v int64
	if err := s.db.QueryRow(`SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSchema, storeErr("schema version", err))
	}
	return v, nil
}
