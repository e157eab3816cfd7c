package meter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// TestReadingKeptUntilGatewayAck: every signed item the meter hands out
// (blocks and an on-demand reading) is kept, through compactions and a
// power loss, until the gateway acknowledges it (the Collection machine's
// Acked); an acknowledged one is dropped, the others stay, and counters
// continue above every one signed.
func TestReadingKeptUntilGatewayAck(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	var ctrs []uint64
	for d := int64(20000); d < 20080; d++ { // beyond blockRetention: old blocks would be compacted away
		measureDay(t, m, d)
		r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: d})
		_, ctr, err := protocol.PeekData(r.Body, true)
		if err != nil {
			t.Fatal(err)
		}
		ctrs = append(ctrs, ctr)
	}
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	_, rc, err := protocol.PeekData(r.Body, false)
	if err != nil {
		t.Fatal(err)
	}
	ctrs = append(ctrs, rc)
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	if a := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUAck, Counter: ctrs[0]}); a.Status != protocol.StatusOK {
		t.Fatalf("ack: %+v", a)
	}
	m.Close()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	if m.kept(ctrs[0]) {
		t.Fatalf("item %d kept after the gateway's ack", ctrs[0])
	}
	for _, c := range ctrs[1:] {
		if !m.kept(c) {
			t.Fatalf("item %d dropped before the gateway's ack (%d kept)", c, m.unacknowledged())
		}
	}
	if got := m.coll.m.State.Taken; got != int64(rc) {
		t.Fatalf("taken %d after restart, last counter signed %d", got, rc)
	}
}

// TestRestartLogsTakesTheLogLacks: a meter killed after journaling a
// signed item and before its Take's log line restarts with the item kept;
// the restart logs that Take, so its Collection log stays a behaviour of
// spec/Collection.tla and the next Take follows it.
func TestRestartLogsTakesTheLogLacks(t *testing.T) {
	k := newKit(t, t.TempDir())
	traceDir := t.TempDir()
	open := func() *statemachine.TraceDir {
		td, err := statemachine.OpenTraceDir(traceDir)
		if err != nil {
			t.Fatal(err)
		}
		k.cfg.Trace = td
		return td
	}
	path := filepath.Join(traceDir, "collection", fmt.Sprintf("%x", k.cfg.Title[:]), "meter.ndjson")
	reading := func(m *Meter) {
		t.Helper()
		if r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading}); r.Status != protocol.StatusOK {
			t.Fatalf("reading: %+v", r)
		}
	}
	td := open()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	reading(m)
	reading(m)
	m.Close()
	if err := td.Close(); err != nil {
		t.Fatal(err)
	}
	// The kill came after the second item's journal record, before its
	// log line.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:len(lines)-2], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	td = open()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	reading(m)
	m.Close()
	if err := td.Close(); err != nil {
		t.Fatal(err)
	}
	steps, err := tracecheck.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var taken []string
	for _, s := range steps {
		taken = append(taken, s.Action+string(s.State))
	}
	want := `Take{"taken":1} Take{"taken":2} Take{"taken":3}`
	if got := strings.Join(taken, " "); got != want {
		t.Fatalf("log %s\nwant %s", got, want)
	}
	model, err := tracecheck.Load(filepath.Join(specDir, "Collection.tla"), filepath.Join(specDir, "trace", "Collection.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Check(steps, tracecheck.Options{MaxHidden: 1}); err != nil {
		t.Fatal(err)
	}
}
