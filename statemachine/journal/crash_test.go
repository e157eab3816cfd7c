package journal_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
)

// lastOfKind keeps the last record of each kind.
func lastOfKind(recs []journal.Record) []journal.Record {
	last := map[byte]int{}
	for i, r := range recs {
		last[r.Kind] = i
	}
	var out []journal.Record
	for i, r := range recs {
		if last[r.Kind] == i {
			out = append(out, r)
		}
	}
	return out
}

// TestCrashPointsCompaction: three registers overwritten 300 times with a
// small compaction bound (a dozen compactions), a crash replayed at every
// write, fsync, rename and directory fsync: the journal always opens, and
// each register holds a value at least as new as the last one whose
// Append returned, and never one not yet written.
func TestCrashPointsCompaction(t *testing.T) {
	fsys := crashfs.New()
	opts := journal.Options{FS: fsys, Live: lastOfKind, CompactMin: 512}
	fsys.Record()
	initial := fsys.Snapshot()
	j, err := journal.OpenWith("/d/j", opts)
	if err != nil {
		t.Fatal(err)
	}
	type ack struct{ at, kind, value int }
	var acks []ack
	for i := range 300 {
		if err := j.Append(byte(1+i%3), binary.BigEndian.AppendUint64(nil, uint64(i)), true); err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack{len(fsys.Ops()), 1 + i%3, i})
	}
	j.Close()
	ops := fsys.Ops()
	res := crashfs.Replay(initial, ops, func(fs *crashfs.MemFS, k int) error {
		o := opts
		o.FS = fs
		j, err := journal.OpenWith("/d/j", o)
		if err != nil {
			return err
		}
		defer j.Close()
		got := map[int]int{1: -1, 2: -1, 3: -1}
		for kind := range 3 {
			j.Each(byte(1+kind), func(b []byte) error { got[1+kind] = int(binary.BigEndian.Uint64(b)); return nil })
		}
		for _, a := range acks {
			if a.at <= k && got[a.kind] < a.value {
				return fmt.Errorf("register %d holds %d, %d was acknowledged", a.kind, got[a.kind], a.value)
			}
		}
		for kind, v := range got {
			if v >= 0 && (v%3 != kind-1 || v >= len(acks)) {
				return fmt.Errorf("register %d holds %d, never written to it", kind, v)
			}
		}
		for _, n := range fs.Names() {
			if n != "/d/j" {
				return fmt.Errorf("file %s left after reopening", n)
			}
		}
		return nil
	})
	t.Log(res.Line("journal"), crashfs.Summary(ops))
	for _, f := range res.Failed {
		t.Error(f)
	}
	if res.Failures == 0 && res.Points < 500 {
		t.Fatalf("only %d crash points", res.Points)
	}
}
