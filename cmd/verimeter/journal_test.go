package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine/journal"
)

// TestJournalCommand: check says ok with the record count and notes a torn
// tail; a flipped bit in record 4 exits 10 naming it and leaves the file
// as it was; dump prints a line per record with its kind name.
func TestJournalCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "queue")
	// Nine blocks queued, the first three acknowledged (the gateway's
	// tests keep the fixture up to date).
	fixture, err := os.ReadFile("../../gateway/testdata/queue-9-acked-3")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"journal", "check", path}, &out, &errb); code != 0 || !strings.Contains(out.String(), "ok, 10 records") {
		t.Fatalf("check: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"journal", "dump", path}, &out, &errb); code != 0 {
		t.Fatalf("dump: %d %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "0\t16\tseq 1\titem\t5\tkind 2, 4 bytes signed") || !strings.Contains(lines[9], "\tack\t8\titems up to record seq 3 acknowledged") {
		t.Fatalf("dump:\n%s", out.String())
	}
	orig, _ := os.ReadFile(path)
	torn := append(bytes.Clone(orig), 0, 0, 0, 5, 0)
	os.WriteFile(path, torn, 0o600)
	out.Reset()
	if code := run([]string{"journal", "check", path}, &out, &errb); code != 0 || !strings.Contains(out.String(), "torn tail of 5 bytes") {
		t.Fatalf("torn tail: %d %s", code, out.String())
	}
	_, recs, _ := journal.Inspect(nil, path)
	bad := bytes.Clone(orig)
	bad[recs[3].Offset+19] ^= 1
	os.WriteFile(path, bad, 0o600)
	out.Reset()
	errb.Reset()
	if code := run([]string{"journal", "check", path}, &out, &errb); code != journalCorrupt || !strings.Contains(errb.String(), "record 3 at offset") {
		t.Fatalf("corrupt: %d %s %s", code, out.String(), errb.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, bad) {
		t.Fatal("check changed the file")
	}
	if code := run([]string{"journal", "check", filepath.Join(dir, "none")}, &out, &errb); code != journalUnreadable {
		t.Fatalf("missing file: %d", code)
	}
	if code := run([]string{"journal", "frob", path}, &out, &errb); code != journalUsage {
		t.Fatalf("bad verb: %d", code)
	}
}
