package journal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrJournal marks a failure of a role's persistent journal.
var ErrJournal = errors.New("journal: persistent store failed")

// MaxRecordLen caps one record.
const MaxRecordLen = 1 << 20

// Compaction defaults: a journal is compacted when it exceeds
// DefaultCompactFactor times the size of its live records at the last
// compaction, and at least DefaultCompactMin bytes.
const (
	DefaultCompactMin    = 1 << 20
	DefaultCompactFactor = 2
)

// compactSuffix names the file a compaction writes before renaming it over
// the journal. A leftover one is never the truth and is removed on open.
const compactSuffix = ".compact"

// Options configure a journal beyond its path.
type Options struct {
	// FS is the filesystem written through; nil is OSFS.
	FS FS
	// Live returns the records a compacted journal keeps, in order, given
	// every record of the journal (a snapshot record the role builds, e.g.
	// a register total, takes the sequence number of the last record it
	// replaces). Sequence numbers must stay strictly increasing. Nil: the
	// journal is never compacted.
	Live func(recs []Record) []Record
	// CompactMin and CompactFactor bound the file: it is compacted once it
	// exceeds max(CompactMin, CompactFactor × live bytes at the last
	// compaction). Zero takes the defaults.
	CompactMin    int64
	CompactFactor int64
}

// Report is what Open found: the records loaded and what it cut from the
// tail. The roles log it, so a cut never goes unnoticed.
type Report struct {
	Path        string
	Version     int   // format version found on disk (1 is upgraded on open)
	Records     int   // records loaded
	Size        int64 // bytes of the file after open
	TornBytes   int64 // bytes cut from the tail (a write a crash interrupted)
	TornRecords int   // records cut (0 or 1: only the last write can be torn)
	TornReason  string
	Upgraded    bool // a version-1 file was rewritten in the current format
}

// String is the report in one line, for a role's log.
func (r Report) String() string {
	s := fmt.Sprintf("journal %s: %d records, %d bytes", r.Path, r.Records, r.Size)
	if r.TornBytes > 0 {
		s += fmt.Sprintf("; torn tail cut: %d bytes, %d record (%s)", r.TornBytes, r.TornRecords, r.TornReason)
	}
	if r.Upgraded {
		s += "; upgraded from format version 1"
	}
	return s
}

// Journal is an append-only file of records, each with a sequence number
// and checksums (doc.go has the format). An empty path keeps records in
// memory (tests and the in-process demo at scale).
type Journal struct {
	mu     sync.Mutex
	path   string
	opts   Options
	f      File
	off    int64
	seq    uint64
	recs   []Record
	report Report
	live   int64 // bytes after the last compaction
	// dirty: a write or fsync failed; the bytes after off are unknown and
	// are cut before the next append.
	dirty bool
	// dirPending: a compaction renamed its file but the directory fsync
	// failed; nothing is acknowledged until it succeeds.
	dirPending bool
	compactErr error
}

// Open opens or creates the journal at path with default options (no
// compaction).
func Open(path string) (*Journal, error) { return OpenWith(path, Options{}) }

// OpenWith opens or creates the journal at path and loads its records. A
// torn tail is cut and reported (Report); corruption before the tail is a
// *CorruptError and the file is left unchanged.
func OpenWith(path string, opts Options) (*Journal, error) {
	if opts.FS == nil {
		opts.FS = OSFS
	}
	if opts.CompactMin == 0 {
		opts.CompactMin = DefaultCompactMin
	}
	if opts.CompactFactor == 0 {
		opts.CompactFactor = DefaultCompactFactor
	}
	j := &Journal{path: path, opts: opts, report: Report{Path: path, Version: Version}}
	if path == "" {
		j.off, j.live = headerLen, headerLen
		return j, nil
	}
	if err := opts.FS.Remove(path + compactSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: removing a stale compaction: %w", ErrJournal, err)
	}
	f, err := opts.FS.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJournal, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrJournal, err)
	}
	s, err := parse(path, data)
	if err != nil {
		f.Close()
		return nil, err
	}
	j.f = f
	j.report.Version, j.report.Records = s.version, len(s.recs)
	if s.tornBytes > 0 {
		j.report.TornBytes, j.report.TornReason = s.tornBytes, s.tornReason
		if !s.fresh || s.tornBytes >= headerLen {
			j.report.TornRecords = 1
		}
	}
	for _, r := range s.recs {
		r.Data = append([]byte(nil), r.Data...)
		j.recs = append(j.recs, r)
		j.seq = r.Seq
	}
	fail := func(err error) (*Journal, error) {
		j.f.Close()
		return nil, fmt.Errorf("%w: %w", ErrJournal, err)
	}
	switch {
	case s.version == 1:
		// Rewrite in the current format, through a compaction that keeps
		// every record: crash-safe like any other.
		if err := j.rewrite(j.recs); err != nil {
			return fail(err)
		}
		j.report.Upgraded = true
	case s.fresh:
		if err := f.Truncate(0); err != nil {
			return fail(err)
		}
		h := fileHeader()
		if _, err := f.WriteAt(h, 0); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		if err := opts.FS.SyncDir(filepath.Dir(path)); err != nil {
			return fail(err)
		}
		j.off = int64(len(h))
	default:
		j.off = s.good
		if s.tornBytes > 0 {
			if err := f.Truncate(s.good); err != nil {
				return fail(err)
			}
			if err := f.Sync(); err != nil {
				return fail(err)
			}
		}
	}
	// The live size is not known until a compaction measures it: a file
	// already above CompactMin is compacted at the first durable append.
	j.live = headerLen
	j.report.Size = j.off
	return j, nil
}

// Report is what Open found.
func (j *Journal) Report() Report { return j.report }

// Append adds a record; with sync it returns only once the record is
// durable. A failed append leaves no record the journal reports: the
// bytes it may have written are cut before the next append. After a
// durable append the journal compacts itself when it has grown past its
// bound (Options); a failed compaction keeps the old file whole and is
// retried later (CompactErr).
func (j *Journal) Append(kind byte, data []byte, sync bool) error {
	if len(data) > MaxRecordLen {
		return fmt.Errorf("%w: record of %d bytes", ErrJournal, len(data))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	rec := Record{Seq: j.seq + 1, Kind: kind, Data: append([]byte(nil), data...), Offset: j.off}
	if j.f != nil {
		if err := j.ready(); err != nil {
			return err
		}
		buf := appendRecord(nil, rec.Seq, kind, data)
		if _, err := j.f.WriteAt(buf, j.off); err != nil {
			j.dirty = true
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
		if sync {
			if err := j.f.Sync(); err != nil {
				j.dirty = true
				return fmt.Errorf("%w: %w", ErrJournal, err)
			}
		}
		j.off += int64(len(buf))
	} else {
		j.off += int64(recHeaderLen + len(data) + recTrailer) // what the file would hold
	}
	j.seq = rec.Seq
	j.recs = append(j.recs, rec)
	if sync {
		j.maybeCompact()
	}
	return nil
}

// AppendAll adds several records of one kind in one write and one fsync:
// all of them are durable when it returns, or none is in the journal.
func (j *Journal) AppendAll(kind byte, data [][]byte) error {
	for _, d := range data {
		if len(d) > MaxRecordLen {
			return fmt.Errorf("%w: record of %d bytes", ErrJournal, len(d))
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	recs := make([]Record, len(data))
	var buf []byte
	off := j.off
	for i, d := range data {
		recs[i] = Record{Seq: j.seq + 1 + uint64(i), Kind: kind, Data: append([]byte(nil), d...), Offset: off + int64(len(buf))}
		buf = appendRecord(buf, recs[i].Seq, kind, d)
	}
	if j.f != nil {
		if err := j.ready(); err != nil {
			return err
		}
		if _, err := j.f.WriteAt(buf, j.off); err != nil {
			j.dirty = true
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
		if err := j.f.Sync(); err != nil {
			j.dirty = true
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
	}
	j.off += int64(len(buf))
	j.seq += uint64(len(data))
	j.recs = append(j.recs, recs...)
	j.maybeCompact()
	return nil
}

// ready cuts what a failed write may have left and finishes a compaction's
// directory fsync before anything new is written.
func (j *Journal) ready() error {
	if j.dirPending {
		if err := j.opts.FS.SyncDir(filepath.Dir(j.path)); err != nil {
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
		j.dirPending = false
	}
	if j.dirty {
		if err := j.f.Truncate(j.off); err != nil {
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
		j.dirty = false
	}
	return nil
}

// Sync makes every appended record durable.
func (j *Journal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	if j.dirPending {
		if err := j.ready(); err != nil {
			return err
		}
	}
	if err := j.f.Sync(); err != nil {
		// The unsynced records' fate is unknown: the caller must not
		// acknowledge them. They stay in memory; the role that sees this
		// error stops acknowledging and a restart reads what survived.
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	j.maybeCompact()
	return nil
}

// Each calls fn for every record of kind, oldest first.
func (j *Journal) Each(kind byte, fn func([]byte) error) error {
	j.mu.Lock()
	recs := j.recs
	j.mu.Unlock()
	for _, r := range recs {
		if r.Kind == kind {
			if err := fn(r.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

// Records returns the journal's records (since its last compaction), oldest
// first. The slice must not be modified.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.recs
}

// Seq is the sequence number of the last record appended (0 if none).
func (j *Journal) Seq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// Size is the journal's size in bytes (what is on disk).
func (j *Journal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.off
}

// CompactErr is the error of the last automatic compaction that failed
// (nil once one succeeds).
func (j *Journal) CompactErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.compactErr
}

func (j *Journal) maybeCompact() {
	if j.opts.Live == nil || j.off <= max(j.opts.CompactMin, j.opts.CompactFactor*j.live) {
		return
	}
	if j.f == nil && j.path == "" {
		j.compactMemory()
		return
	}
	j.compactErr = j.compactLocked()
}

// compactMemory compacts a journal kept in memory (no path), so that its
// records too follow the live state.
func (j *Journal) compactMemory() {
	j.recs = j.opts.Live(append([]Record(nil), j.recs...))
	j.off = headerLen
	for _, r := range j.recs {
		j.off += int64(recHeaderLen + len(r.Data) + recTrailer)
	}
	j.live = j.off
}

// Compact rewrites the journal with its live records now (Options.Live).
func (j *Journal) Compact() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.opts.Live == nil {
		return fmt.Errorf("%w: no live-record function to compact with", ErrJournal)
	}
	if j.path == "" {
		j.compactMemory()
		return nil
	}
	if j.f == nil {
		return fmt.Errorf("%w: %s is closed", ErrJournal, j.path)
	}
	if err := j.ready(); err != nil {
		return err
	}
	return j.compactLocked()
}

func (j *Journal) compactLocked() error {
	if j.dirty || j.dirPending {
		if err := j.ready(); err != nil {
			return err
		}
	}
	live := j.opts.Live(append([]Record(nil), j.recs...))
	if err := j.rewrite(live); err != nil {
		return fmt.Errorf("%w: compaction: %w", ErrJournal, err)
	}
	return nil
}

// rewrite replaces the file by one holding recs: written to a new file,
// fsynced, renamed over the journal, the directory fsynced. A crash at any
// point leaves the old file or the new one, each whole.
func (j *Journal) rewrite(recs []Record) error {
	buf := fileHeader()
	out := make([]Record, 0, len(recs))
	var prev uint64
	for _, r := range recs {
		if r.Seq <= prev || r.Seq > j.seq {
			return fmt.Errorf("live record with sequence number %d after %d (last %d)", r.Seq, prev, j.seq)
		}
		prev = r.Seq
		r.Offset = int64(len(buf))
		buf = appendRecord(buf, r.Seq, r.Kind, r.Data)
		out = append(out, r)
	}
	tmp := j.path + compactSuffix
	f, err := j.opts.FS.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	abandon := func(err error) error {
		f.Close()
		if rerr := j.opts.FS.Remove(tmp); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return abandon(err)
	}
	if err := f.Sync(); err != nil {
		return abandon(err)
	}
	if err := j.opts.FS.Rename(tmp, j.path); err != nil {
		return abandon(err)
	}
	j.f.Close()
	j.f, j.off, j.recs, j.live, j.dirty = f, int64(len(buf)), out, int64(len(buf)), false
	if err := j.opts.FS.SyncDir(filepath.Dir(j.path)); err != nil {
		j.dirPending = true
		return err
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	return nil
}

// Inspect reads the journal at path without changing it: its records and
// the report Open would give (a torn tail is reported, not cut). Corruption
// is a *CorruptError, as from Open. For `verimeter journal check|dump`.
func Inspect(fsys FS, path string) (Report, []Record, error) {
	if fsys == nil {
		fsys = OSFS
	}
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return Report{}, nil, fmt.Errorf("%w: %w", ErrJournal, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return Report{}, nil, fmt.Errorf("%w: %w", ErrJournal, err)
	}
	s, err := parse(path, data)
	if err != nil {
		return Report{}, nil, err
	}
	r := Report{Path: path, Version: s.version, Records: len(s.recs), Size: int64(len(data)), TornBytes: s.tornBytes, TornReason: s.tornReason}
	if s.tornBytes > 0 && (!s.fresh || s.tornBytes >= headerLen) {
		r.TornRecords = 1
	}
	return r, s.recs, nil
}
