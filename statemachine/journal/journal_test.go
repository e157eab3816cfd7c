package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestJournalKeepsSyncedRecordsAndCutsATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := j.Append(byte(1+i%2), []byte{byte(i)}, i == 4); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// Power lost during a sixth append: half a record on disk.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(appendRecord(nil, 6, 1, []byte{9})[:10])
	f.Close()
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := j.Report(); r.TornBytes != 10 || r.TornRecords != 1 || r.Records != 5 {
		t.Fatalf("torn tail not reported: %+v", r)
	}
	var ones, twos []byte
	j.Each(1, func(b []byte) error { ones = append(ones, b...); return nil })
	j.Each(2, func(b []byte) error { twos = append(twos, b...); return nil })
	if string(ones) != "\x00\x02\x04" || string(twos) != "\x01\x03" {
		t.Fatalf("records after reopening: %v %v", ones, twos)
	}
	if err := j.Append(1, []byte{7}, true); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, _ = Open(path)
	defer j.Close()
	if r := j.Report(); r.TornBytes != 0 {
		t.Fatalf("a clean reopen reports a cut: %+v", r)
	}
	n := 0
	j.Each(1, func([]byte) error { n++; return nil })
	if n != 4 {
		t.Fatalf("the record after a cut tail was lost: %d records of kind 1", n)
	}
	stop := errors.New("stop")
	if err := j.Each(1, func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Each does not pass the callback's error on: %v", err)
	}
}

func TestJournalTooLongRecord(t *testing.T) {
	j, _ := Open("")
	if err := j.Append(1, make([]byte, MaxRecordLen+1), false); !errors.Is(err, ErrJournal) {
		t.Fatalf("oversized record: %v", err)
	}
}

// tenRecords writes a journal of ten records and returns its path, bytes
// and the records' offsets.
func tenRecords(t *testing.T) (string, []byte, []int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "j")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := j.Append(1, bytes.Repeat([]byte{byte('a' + i)}, 20), true); err != nil {
			t.Fatal(err)
		}
	}
	var offs []int64
	for _, r := range j.Records() {
		offs = append(offs, r.Offset)
	}
	j.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b, offs
}

// TestJournalBitFlipBeforeTheTailIsCorruption: one flipped bit anywhere in
// record 4 of 10 (header or data) stops Open with a *CorruptError naming
// record index 3 and its offset, and the file is left byte for byte as it
// was. Silent truncation at the bad record would leave 3 records.
func TestJournalBitFlipBeforeTheTailIsCorruption(t *testing.T) {
	path, orig, offs := tenRecords(t)
	for _, at := range []int64{offs[3], offs[3] + 5, offs[3] + 12, offs[3] + 20, offs[4] - 1} {
		bad := bytes.Clone(orig)
		bad[at] ^= 0x10
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(path)
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrJournal) {
			if j != nil {
				t.Fatalf("bit %d flipped: opened with %d records, report %+v", at, len(j.Records()), j.Report())
			}
			t.Fatalf("bit %d flipped: %v", at, err)
		}
		if ce.Record != 3 || ce.Offset != offs[3] || ce.Path != path {
			t.Fatalf("bit %d flipped: the error names record %d at %d: %v", at, ce.Record, ce.Offset, err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, bad) {
			t.Fatalf("bit %d flipped: Open changed the file", at)
		}
		if _, _, err := Inspect(nil, path); !errors.As(err, &ce) || ce.Record != 3 {
			t.Fatalf("Inspect: %v", err)
		}
	}
}

// TestJournalTornLastRecordIsCutAndReported: a last record whose checksum
// fails and that ends at the end of the file, a record cut short, and a
// zero-filled extension are torn tails: cut, reported, the rest kept.
func TestJournalTornLastRecordIsCutAndReported(t *testing.T) {
	path, orig, offs := tenRecords(t)
	for name, bad := range map[string][]byte{
		"checksum":    append(bytes.Clone(orig[:len(orig)-3]), orig[len(orig)-3]^1, orig[len(orig)-2], orig[len(orig)-1]),
		"cut short":   orig[:len(orig)-7],
		"zero-filled": append(bytes.Clone(orig[:offs[9]]), make([]byte, len(orig)-int(offs[9])+40)...),
		"header half": append(bytes.Clone(orig[:offs[9]+8]), make([]byte, 30)...),
	} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := j.Report()
		if r.Records != 9 || r.TornRecords != 1 || r.TornBytes != int64(len(bad))-offs[9] || r.Size != offs[9] {
			t.Fatalf("%s: report %+v", name, r)
		}
		j.Close()
		if after, _ := os.ReadFile(path); !bytes.Equal(after, orig[:offs[9]]) {
			t.Fatalf("%s: the tail was not cut to the last whole record", name)
		}
	}
}

func TestJournalReadsAndUpgradesVersion1(t *testing.T) {
	var v1 []byte
	for i := range 3 {
		body := []byte{byte(1 + i), 'x', byte(i)}
		v1 = binary.BigEndian.AppendUint32(v1, uint32(len(body)-1))
		v1 = append(v1, body...)
		v1 = binary.BigEndian.AppendUint32(v1, crc32.Checksum(body, castagnoli))
	}
	path := filepath.Join(t.TempDir(), "old")
	os.WriteFile(path, append(v1, 0, 0, 0), 0o600)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := j.Report()
	if r.Version != 1 || !r.Upgraded || r.Records != 3 || r.TornBytes != 3 {
		t.Fatalf("report %+v", r)
	}
	j.Close()
	rep, recs, err := Inspect(nil, path)
	if err != nil || rep.Version != Version || len(recs) != 3 || recs[2].Kind != 3 || string(recs[2].Data) != "x\x02" {
		t.Fatalf("after the upgrade: %+v %v %v", rep, recs, err)
	}
	// A header of an unknown version is a clear error.
	h := fileHeader()
	binary.BigEndian.PutUint16(h[8:], 9)
	binary.BigEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	os.WriteFile(path, h, 0o600)
	if _, err := Open(path); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 9: %v", err)
	}
}

// lastOfKind keeps the last record of each kind: the live state of a
// register that is overwritten.
func lastOfKind(recs []Record) []Record {
	last := map[byte]int{}
	for i, r := range recs {
		last[r.Kind] = i
	}
	var out []Record
	for i, r := range recs {
		if last[r.Kind] == i {
			out = append(out, r)
		}
	}
	return out
}

// TestJournalCompactionBoundsTheSize appends 20,000 overwrites of three
// registers: the file never exceeds its bound, and after reopening the last
// value of each is there.
func TestJournalCompactionBoundsTheSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	opts := Options{Live: lastOfKind, CompactMin: 4096}
	j, err := OpenWith(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	var peak int64
	for i := range 20000 {
		if err := j.Append(byte(1+i%3), binary.BigEndian.AppendUint64(nil, uint64(i)), i%10 == 9); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, j.Size())
	}
	if err := j.CompactErr(); err != nil {
		t.Fatal(err)
	}
	// Bound: CompactMin plus the records one sync adds before the check.
	if bound := opts.CompactMin + 10*29; peak > bound {
		t.Fatalf("journal grew to %d bytes, bound %d", peak, bound)
	}
	j.Close()
	j, err = OpenWith(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got := map[byte]uint64{}
	for k := byte(1); k <= 3; k++ {
		j.Each(k, func(b []byte) error { got[k] = binary.BigEndian.Uint64(b); return nil })
	}
	if got[1] != 19998 || got[2] != 19999 || got[3] != 19997 {
		t.Fatalf("after compactions: %v", got)
	}
	if st, err := os.Stat(path + compactSuffix); err == nil {
		t.Fatalf("a compaction file was left: %v", st.Name())
	}
	t.Logf("20000 appends, peak size %d bytes", peak)
}

// TestJournalInMemoryCompacts: a journal without a file (the demo at
// scale) compacts by the same bound, so its records follow the live state.
func TestJournalInMemoryCompacts(t *testing.T) {
	j, err := OpenWith("", Options{Live: lastOfKind, CompactMin: 4096})
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for i := range 5000 {
		j.Append(byte(1+i%3), binary.BigEndian.AppendUint64(nil, uint64(i)), true)
		most = max(most, len(j.Records()))
	}
	if most > 4096/29+1 {
		t.Fatalf("%d records held in memory", most)
	}
	var last uint64
	j.Each(3, func(b []byte) error { last = binary.BigEndian.Uint64(b); return nil })
	if last != 4997 {
		t.Fatalf("last value of kind 3: %d", last)
	}
}

// TestJournalWriteFailureLeavesNoGarbage: a write that fails half way (a
// full disk) is cut before the next append, so the file reopens clean.
func TestJournalWriteFailureLeavesNoGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Append(1, []byte("one"), true)
	good := j.f
	j.f = &halfFile{File: good.(*os.File)}
	if err := j.Append(1, bytes.Repeat([]byte("x"), 100), true); !errors.Is(err, ErrJournal) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v", err)
	}
	j.f = good
	if err := j.Append(1, []byte("two"), true); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var got []string
	j.Each(1, func(b []byte) error { got = append(got, string(b)); return nil })
	if len(got) != 2 || got[1] != "two" || j.Report().TornBytes != 0 {
		t.Fatalf("after a failed write: %q %+v", got, j.Report())
	}
}

type halfFile struct{ *os.File }

func (h *halfFile) WriteAt(p []byte, off int64) (int, error) {
	n, _ := h.File.WriteAt(p[:len(p)/2], off)
	return n, &os.PathError{Op: "write", Path: h.Name(), Err: syscall.ENOSPC}
}

// FuzzParse: any file content either parses or is a *CorruptError or
// ErrVersion, never a panic; what parses re-encodes to exactly the valid
// part of the file (a version-2 file), and the cut tail is the rest.
func FuzzParse(f *testing.F) {
	good := fileHeader()
	for i := range 3 {
		good = appendRecord(good, uint64(i+1), byte(i), bytes.Repeat([]byte{byte(i)}, i*7))
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good), 0, 0, 0))
	f.Add([]byte{0, 0, 0, 1, 1, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse("fuzz", data)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) && !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if s.good+s.tornBytes != int64(len(data)) {
			t.Fatalf("good %d + torn %d != %d bytes", s.good, s.tornBytes, len(data))
		}
		if s.version == Version && !s.fresh {
			re := fileHeader()
			for _, r := range s.recs {
				re = appendRecord(re, r.Seq, r.Kind, r.Data)
			}
			if !bytes.Equal(re, data[:s.good]) {
				t.Fatal("re-encoding the records does not give the valid part back")
			}
		}
	})
}

// TestJournalLargeAtOpenCompactsAtFirstAppend: a journal that grew without
// compaction (an older release) is compacted at the first durable append
// after it is opened with a live-record function.
func TestJournalLargeAtOpenCompactsAtFirstAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, _ := Open(path)
	for i := range 2000 {
		j.Append(byte(1+i%3), binary.BigEndian.AppendUint64(nil, uint64(i)), false)
	}
	j.Sync()
	j.Close()
	j, err := OpenWith(path, Options{Live: lastOfKind, CompactMin: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Append(1, binary.BigEndian.AppendUint64(nil, 2000), true); err != nil {
		t.Fatal(err)
	}
	if n := len(j.Records()); n != 3 || j.Size() != headerLen+3*29 {
		t.Fatalf("after the first append: %d records, %d bytes", n, j.Size())
	}
}
