package journal

import (
	"errors"
	"os"
	"path/filepath"
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
	f.Write([]byte{0, 0, 0, 3, 1, 9})
	f.Close()
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
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
