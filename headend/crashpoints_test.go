package headend

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// Crash-point testing of the head-end's store, after ALICE (Pillai et al.,
// OSDI 2014) and CrashMonkey (Mohan et al., OSDI 2018): an ingest run on
// the fault VFS records every write, fsync, truncate and delete SQLite
// makes to the database, its WAL and its journal, from the creation of the
// database through the migrations, the batches and the checkpoints, to the
// close. Then every prefix of that trace is a crash state: the files as
// they are after the first k operations. A disk may also lose or tear a
// write that no fsync has yet covered, so each prefix is also replayed
// with its last unsynced write dropped, and torn (only its first half
// written). Each state is written to a fresh directory and opened with
// the head-end's normal OpenStore, which must succeed, and then:
//
//   - PRAGMA integrity_check is ok;
//   - every batch acknowledged to the gateway (Ingest returned) before the
//     crash point is stored, byte for byte;
//   - the stored items are exactly those of the first m batches, m the
//     acknowledged ones or one more (the batch in flight committed or not,
//     never in part), so nothing is stored twice or half;
//   - the audit log has the refusal entry of exactly those of the m
//     batches that had a refused item;
//   - the command counter is at least that of every command handed out
//     before the crash, and each counter used has exactly one audit entry;
//   - the head-end ingests a new batch on it.
//
// go test runs a short trace; CRASHPOINTS=full runs one of several
// thousand points. Both print one line for the crash-point table:
// crashpoints: role=headend points=N torn=N dropped=N failures=N.

type crashBatch struct {
	items   []wan.Item
	keys    map[uint64][]byte // counter -> raw of the valid items
	refused bool              // has an item the head-end refuses
	start   int               // trace length when Ingest was called
	ack     int               // trace length when Ingest returned
	// a command issued after the batch: its counter (0: none) and the
	// trace length when issueCommand returned it
	cmd    int64
	cmdAck int
}

// recordIngestRun ingests n batches of signed readings through a store on
// the fault VFS and returns the trace and the batches.
func recordIngestRun(t *testing.T, f *fixture, dir string, n int) ([]vfsOp, []crashBatch) {
	t.Helper()
	registerFaultVFS(t)
	forger, err := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s *protocol.MeterSigner, ctr uint64) []byte {
		r, err := s.SignReading(protocol.Reading{Meter: f.meter, Counter: ctr, Time: f.t0.Unix() + int64(ctr), OBIS: protocol.ActiveEnergyImport, Value: ctr * 7})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	batches := make([]crashBatch, n)
	ctr := uint64(0)
	for i := range batches {
		b := &batches[i]
		b.keys = map[uint64][]byte{}
		for range 4 {
			ctr++
			raw := sign(f.signer, ctr)
			b.items = append(b.items, wan.Item{Kind: wan.KindReading, Raw: raw})
			b.keys[ctr] = raw
		}
		if i%5 == 4 { // a resend of two items of the batch before
			prev := batches[i-1].items[:2]
			b.items = append(b.items, prev...)
		}
		if i%7 == 3 { // a forgery, refused and audited with the batch
			b.items = append(b.items, wan.Item{Kind: wan.KindReading, Raw: sign(forger, 900000+uint64(i))})
			b.refused = true
		}
	}

	startRecording()
	st, err := openSQLite(filepath.Join(dir, "he.db"), faultVFSName)
	if err != nil {
		stopRecording()
		t.Fatal(err)
	}
	// Checkpoints every few pages, so the trace holds many of them.
	if _, err := st.db.Exec(`PRAGMA wal_autocheckpoint=8`); err != nil {
		stopRecording()
		t.Fatal(err)
	}
	f.useStore(st)
	for i := range batches {
		fault.mu.Lock()
		batches[i].start = len(fault.ops)
		fault.mu.Unlock()
		if _, err := f.he.Ingest(context.Background(), "gw", batches[i].items); err != nil {
			stopRecording()
			t.Fatalf("batch %d: %v", i, err)
		}
		fault.mu.Lock()
		batches[i].ack = len(fault.ops)
		fault.mu.Unlock()
		if i%3 == 1 {
			if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: uint8(i % 4)}); err != nil {
				stopRecording()
				t.Fatalf("command after batch %d: %v", i, err)
			}
			fault.mu.Lock()
			batches[i].cmdAck = len(fault.ops)
			fault.mu.Unlock()
			batches[i].cmd = int64(i/3 + 1)
		}
	}
	err = st.Close()
	ops := stopRecording()
	if err != nil {
		t.Fatal(err)
	}
	return ops, batches
}

// crashImage is the files of a crash state, built by applying a trace.
type crashImage struct {
	files map[string][]byte
	// undo of each write: the bytes it overwrote and the file's size before
	undo map[int]writeUndo
	// per file: index of the last write and the last fsync, truncate or
	// delete after which the file holds nothing unsynced
	lastWrite, settled map[string]int
}

type writeUndo struct {
	old     []byte
	oldSize int
}

func newCrashImage() *crashImage {
	return &crashImage{files: map[string][]byte{}, undo: map[int]writeUndo{}, lastWrite: map[string]int{}, settled: map[string]int{}}
}

func (c *crashImage) apply(i int, op vfsOp) {
	switch op.kind {
	case 'w':
		b := c.files[op.file]
		end := int(op.off) + len(op.data)
		u := writeUndo{oldSize: len(b)}
		if int(op.off) < len(b) {
			u.old = append([]byte(nil), b[op.off:min(end, len(b))]...)
		}
		c.undo[i] = u
		if end > len(b) {
			b = append(b, make([]byte, end-len(b))...)
		}
		copy(b[op.off:], op.data)
		c.files[op.file] = b
		c.lastWrite[op.file] = i
	case 't':
		b := c.files[op.file]
		if int(op.off) <= len(b) {
			b = b[:op.off]
		} else {
			b = append(b, make([]byte, int(op.off)-len(b))...)
		}
		c.files[op.file] = b
		c.settled[op.file] = i
	case 's', 'd':
		if op.kind == 'd' {
			delete(c.files, op.file)
		}
		c.settled[op.file] = i
	}
}

// lastUnsynced returns the index of the last write that no fsync of its
// file has covered yet, or -1.
func (c *crashImage) lastUnsynced() int {
	j := -1
	for f, w := range c.lastWrite {
		if s, ok := c.settled[f]; (!ok || s < w) && w > j {
			j = w
		}
	}
	return j
}

// without returns the files with write j (to file) undone from byte keep
// of it on: keep 0 drops the write, half its length tears it.
func (c *crashImage) without(j int, op vfsOp, keep int) map[string][]byte {
	out := make(map[string][]byte, len(c.files))
	for name, b := range c.files {
		out[name] = b
	}
	b := append([]byte(nil), c.files[op.file]...)
	u := c.undo[j]
	for k := keep; k < len(op.data); k++ {
		at := int(op.off) + k
		if at >= len(b) {
			break
		}
		if at < u.oldSize {
			b[at] = u.old[at-int(op.off)]
		}
	}
	if size := max(u.oldSize, int(op.off)+keep); size < len(b) {
		b = b[:size]
	}
	out[op.file] = b
	return out
}

// crashCheck opens a crash state with the head-end's OpenStore and checks
// it against the batches acknowledged before crash point k. It returns
// what is wrong, or "".
func crashCheck(f *fixture, dir string, files map[string][]byte, batches []crashBatch, k int, fresh []byte) string {
	if err := writeState(dir, files); err != nil {
		return err.Error()
	}
	st, err := OpenStore(filepath.Join(dir, "he.db"))
	if err != nil {
		return fmt.Sprintf("does not open: %v", err)
	}
	defer st.Close()
	var integrity string
	if err := st.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		return fmt.Sprintf("integrity check: %q %v", integrity, err)
	}
	stored := map[uint64][]byte{}
	rows, err := st.db.Query(`SELECT counter, raw FROM data`)
	if err != nil {
		return err.Error()
	}
	for rows.Next() {
		var c int64
		var raw []byte
		if err := rows.Scan(&c, &raw); err != nil {
			rows.Close()
			return err.Error()
		}
		if _, dup := stored[uint64(c)]; dup {
			rows.Close()
			return fmt.Sprintf("counter %d stored twice", c)
		}
		stored[uint64(c)] = raw
	}
	if err := rows.Close(); err != nil {
		return err.Error()
	}
	var audited int
	if err := st.db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'ingest-rejected'`).Scan(&audited); err != nil {
		return err.Error()
	}
	acked := 0
	for acked < len(batches) && batches[acked].ack <= k {
		acked++
	}
	var why string
	for m := acked; m <= min(acked+1, len(batches)); m++ {
		if why = sameAsFirst(stored, audited, batches[:m]); why == "" {
			break
		}
		why = fmt.Sprintf("%d batches acknowledged: %s", acked, why)
	}
	if why != "" {
		return why
	}
	// Commands: the persisted counter is at least that of every command
	// handed out before the crash (a restarted head-end never signs a
	// counter twice), and every counter used has exactly one audit entry.
	var released int64
	for _, b := range batches {
		if b.cmd > 0 && b.cmdAck <= k {
			released = b.cmd
		}
	}
	var counter int64
	if err := st.db.QueryRow(`SELECT coalesce(max(issued), 0) FROM command_counters`).Scan(&counter); err != nil {
		return err.Error()
	}
	var commands int64
	if err := st.db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'command'`).Scan(&commands); err != nil {
		return err.Error()
	}
	if counter < released || commands != counter {
		return fmt.Sprintf("command counter %d with %d audit entries; command %d was handed out", counter, commands, released)
	}
	if fresh != nil {
		f.store = st
		c := f.he.cfg
		c.Store = st
		f.he = New(c)
		res, err := f.he.Ingest(context.Background(), "gw", []wan.Item{{Kind: wan.KindReading, Raw: fresh}})
		if err != nil || res.Stored != 1 {
			return fmt.Sprintf("no ingest after the restart: %+v %v", res, err)
		}
	}
	return ""
}

// writeState makes dir hold exactly files.
func writeState(dir string, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sameAsFirst says how the stored items and refusal entries differ from
// those of the batches given, or "".
func sameAsFirst(stored map[uint64][]byte, audited int, batches []crashBatch) string {
	want, refused := 0, 0
	for i, b := range batches {
		if b.refused {
			refused++
		}
		for c, raw := range b.keys {
			want++
			got, ok := stored[c]
			if !ok {
				return fmt.Sprintf("reading %d of batch %d lost", c, i)
			}
			if !bytes.Equal(got, raw) {
				return fmt.Sprintf("reading %d of batch %d altered", c, i)
			}
		}
	}
	if len(stored) != want {
		return fmt.Sprintf("%d readings stored, the first %d batches have %d", len(stored), len(batches), want)
	}
	if audited != refused {
		return fmt.Sprintf("%d refusal entries, the first %d batches have %d", audited, len(batches), refused)
	}
	return ""
}

// TestCrashPointsHeadEndStore replays every crash point of a recorded
// ingest run (see above).
func TestCrashPointsHeadEndStore(t *testing.T) {
	n, full := 12, os.Getenv("CRASHPOINTS") == "full"
	if full {
		n = 160
	}
	f := newFixture(t)
	ops, batches := recordIngestRun(t, f, t.TempDir(), n)
	fresh, err := f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: 1 << 40, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() { // tmpfs: the replays need no disk
		if d, err := os.MkdirTemp("/dev/shm", "vmcrash"); err == nil {
			base = d
			defer os.RemoveAll(d)
		}
	}
	dir := filepath.Join(base, "replay")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var cnt crashCounts
	replay(t, &cnt, "ingest", nil, ops, func(files map[string][]byte, k int, prefix bool) string {
		var probe []byte
		if prefix && (!full || k%25 == 0) {
			probe = fresh
		}
		return crashCheck(f, dir, files, batches, k, probe)
	})
	// The adoption of a database made before the schema had versions,
	// crashed at every point of its migration: it opens, at the current
	// version, with everything the old version stored.
	legacy, mops := recordLegacyMigration(t, f, filepath.Join(base, "legacy"))
	replay(t, &cnt, "migration", legacy, mops, func(files map[string][]byte, k int, _ bool) string {
		return migrationCheck(dir, files)
	})
	points, torn, dropped, failures := cnt.points, cnt.torn, cnt.dropped, cnt.failures
	var writes, syncs int
	for _, op := range ops {
		switch op.kind {
		case 'w':
			writes++
		case 's':
			syncs++
		}
	}
	t.Logf("trace: %d operations (%d writes, %d fsyncs) for %d batches; %d for adopting and migrating a legacy database", len(ops), writes, syncs, len(batches), len(mops))
	fmt.Printf("crashpoints: role=headend points=%d torn=%d dropped=%d failures=%d\n", points, torn, dropped, failures)
	if syncs < len(batches) {
		t.Errorf("%d fsyncs for %d acknowledged batches", syncs, len(batches))
	}
}

type crashCounts struct{ points, torn, dropped, failures int }

// replay builds every crash state of ops applied to the files start (nil:
// none) and asks check about each: every prefix, and the prefix with its
// last unsynced write dropped and torn.
func replay(t *testing.T, cnt *crashCounts, name string, start map[string][]byte, ops []vfsOp, check func(files map[string][]byte, k int, prefix bool) string) {
	t.Helper()
	fail := func(k int, variant, why string) {
		cnt.failures++
		if cnt.failures <= 5 {
			t.Errorf("%s: crash point %d of %d (%s): %s", name, k, len(ops), variant, why)
		}
	}
	img := newCrashImage()
	for f, b := range start {
		img.files[f] = append([]byte(nil), b...)
	}
	for k := 0; k <= len(ops); k++ {
		if k > 0 {
			img.apply(k-1, ops[k-1])
		}
		cnt.points++
		if why := check(img.files, k, true); why != "" {
			fail(k, "prefix", why)
		}
		j := img.lastUnsynced()
		if j < 0 {
			continue
		}
		cnt.dropped++
		if why := check(img.without(j, ops[j], 0), k, false); why != "" {
			fail(k, fmt.Sprintf("write %d to %s dropped", j, ops[j].file), why)
		}
		if len(ops[j].data) > 1 {
			cnt.torn++
			if why := check(img.without(j, ops[j], len(ops[j].data)/2), k, false); why != "" {
				fail(k, fmt.Sprintf("write %d to %s torn", j, ops[j].file), why)
			}
		}
	}
}

// recordLegacyMigration makes a database with the previous version's
// schema and data (migrate_test.go), and records the trace of opening it
// (adoption and migration to schemaVersion) and closing it. It returns the
// database's files before the open and the trace.
func recordLegacyMigration(t *testing.T, f *fixture, dir string) (map[string][]byte, []vfsOp) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "he.db")
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
	start := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if start[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	startRecording()
	st, err := openSQLite(path, faultVFSName)
	if err == nil {
		err = st.Close()
	}
	ops := stopRecording()
	if err != nil {
		t.Fatal(err)
	}
	return start, ops
}

// migrationCheck opens a crash state of the legacy database's migration:
// it must open at schemaVersion with the legacy data intact.
func migrationCheck(dir string, files map[string][]byte) string {
	if err := writeState(dir, files); err != nil {
		return err.Error()
	}
	st, err := OpenStore(filepath.Join(dir, "he.db"))
	if err != nil {
		return fmt.Sprintf("does not open: %v", err)
	}
	defer st.Close()
	var integrity string
	if err := st.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		return fmt.Sprintf("integrity check: %q %v", integrity, err)
	}
	if v, err := st.schemaVersion(); err != nil || v != schemaVersion {
		return fmt.Sprintf("schema version %d, %v", v, err)
	}
	items, ivs, err := st.Counts()
	if err != nil || items != 2 || ivs != 192 {
		return fmt.Sprintf("%d items, %d intervals, %v", items, ivs, err)
	}
	log, err := st.auditLog()
	if err != nil || len(log) != 2 {
		return fmt.Sprintf("audit log %d entries, %v", len(log), err)
	}
	var contracts int
	if err := st.db.QueryRow(`SELECT count(*) FROM contracts`).Scan(&contracts); err != nil || contracts != 1 {
		return fmt.Sprintf("%d contracts, %v", contracts, err)
	}
	return ""
}
