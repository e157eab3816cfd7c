package gateway

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/wan"
)

var writeFixture = flag.Bool("write-fixture", false, "rewrite testdata/queue-9-acked-3")

// queueFixture is a queue journal that other packages' tests read
// (`verimeter journal` and `verimeter inspect`): nine signed blocks queued
// one by one, the first three acknowledged.
const queueFixture = "testdata/queue-9-acked-3"

// buildQueueFixture writes the fixture's queue at path.
func buildQueueFixture(t *testing.T, path string) {
	t.Helper()
	q, err := OpenQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := range 9 {
		if err := q.push(wan.Item{Kind: wan.KindBlock, Raw: []byte{byte(i), 1, 2, 3}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.ack(3); err != nil {
		t.Fatal(err)
	}
}

// TestQueueFixtureUpToDate: the committed fixture is what the queue writes
// today for its story, and reads back as nine items with six pending.
func TestQueueFixtureUpToDate(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "queue")
	buildQueueFixture(t, fresh)
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if *writeFixture {
		if err := os.WriteFile(queueFixture, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(queueFixture)
	if err != nil {
		t.Fatalf("%v (run this test with -write-fixture)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run this test with -write-fixture", queueFixture)
	}
	cp := filepath.Join(t.TempDir(), "queue")
	if err := os.WriteFile(cp, got, 0o600); err != nil {
		t.Fatal(err)
	}
	q, err := OpenQueue(cp)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if len(q.All()) != 9 || q.Len() != 6 || q.Pending(1)[0].Raw[0] != 3 {
		t.Fatalf("fixture reads back as %d items, %d pending", len(q.All()), q.Len())
	}
}
