package meter

import (
	"crypto/ecdsa"
	"crypto/rand"
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

// TestReadingKeptUntilHeadEndAck: every signed item the meter hands out
// (blocks and an on-demand reading) is kept, through compactions and a
// power loss, until the head-end's signed end-to-end acknowledgement
// (the Collection machine's EndToEndAcked); a gateway's own
// acknowledgement, one signed by another key or one for other bytes
// forgets nothing; an acknowledged item is dropped, the others stay, and
// counters continue above every one signed.
func TestReadingKeptUntilHeadEndAck(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	var ctrs []uint64
	var raws [][]byte
	for d := int64(20000); d < 20080; d++ { // beyond blockRetention: old blocks would be compacted away
		measureDay(t, m, d)
		r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: d})
		_, ctr, err := protocol.PeekData(r.Body, true)
		if err != nil {
			t.Fatal(err)
		}
		ctrs, raws = append(ctrs, ctr), append(raws, r.Body)
	}
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	_, rc, err := protocol.PeekData(r.Body, false)
	if err != nil {
		t.Fatal(err)
	}
	ctrs, raws = append(ctrs, rc), append(raws, r.Body)
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	// A gateway's own word, a forged signer, other bytes: all refused.
	if a := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUAck, Counter: ctrs[0]}); a.Status != protocol.StatusRejected {
		t.Fatalf("gateway's own ack taken: %+v", a)
	}
	if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, key(t), m, ctrs[0], raws[0])); a.Status != protocol.StatusRejected {
		t.Fatalf("ack signed by a key not in the trust list taken: %+v", a)
	}
	if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, k.heKey, m, ctrs[0], raws[1])); a.Status != protocol.StatusRejected {
		t.Fatalf("ack for other bytes taken: %+v", a)
	}
	if !m.kept(ctrs[0]) {
		t.Fatalf("item %d dropped without the head-end's ack", ctrs[0])
	}
	if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, k.heKey, m, ctrs[0], raws[0])); a.Status != protocol.StatusOK {
		t.Fatalf("head-end's ack: %+v", a)
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
		t.Fatalf("item %d kept after the head-end's ack", ctrs[0])
	}
	for _, c := range ctrs[1:] {
		if !m.kept(c) {
			t.Fatalf("item %d dropped before the head-end's ack (%d kept)", c, m.unacknowledged())
		}
	}
	if got := m.coll.m.State.Taken; got != int64(rc) {
		t.Fatalf("taken %d after restart, last counter signed %d", got, rc)
	}
	// After the restart the digests came back from the journal: the
	// head-end's ack of the reading is taken.
	k.agree(t, m)
	if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, k.heKey, m, rc, raws[len(raws)-1])); a.Status != protocol.StatusOK || m.kept(rc) {
		t.Fatalf("head-end's ack of the reading after restart: %+v (kept %v)", a, m.kept(rc))
	}
}

// dataAckPDU is the PDUAck a gateway relays: the end-to-end acknowledgement
// of item raw (counter ctr) of meter m, signed with key (the head-end's,
// k.heKey, or another).
func (k *kit) dataAckPDU(t *testing.T, key *ecdsa.PrivateKey, m *Meter, ctr uint64, raw []byte) protocol.PDU {
	t.Helper()
	a, err := protocol.SignDataAck(protocol.DataAck{Meter: m.title(), Counter: ctr, Digest: protocol.DataDigest(raw), Time: 1}, key, protocol.SubjectKeyID(&key.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w, err := (&protocol.TamperBatch{Items: [][]byte{a}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return protocol.PDU{Kind: protocol.PDUAck, Body: w}
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

// TestGatewayAckThenDropLosesNoReading: a compromised gateway takes a
// signed reading, acknowledges it to the meter on its own word (a PDUAck
// naming its counter) and drops it (spec/Collection.tla, AckDrop). The
// meter keeps it (mutant ack_then_drop forgets it here), through a power
// loss; the gateway is replaced, and the honest one collects it again
// (PDUGetKept: the same signed bytes), the head-end verifies and stores
// it and acknowledges it end to end, and only then does the meter forget
// it.
func TestGatewayAckThenDropLosesNoReading(t *testing.T) {
	k := newKit(t, "/m")
	k.cfg.fs = crashfs.New()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	_, ctr, err := protocol.PeekData(r.Body, false)
	if err != nil {
		t.Fatal(err)
	}
	taken := r.Body
	// The compromised gateway acknowledges and drops the reading.
	k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUAck, Counter: ctr})
	m.Close()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// The honest gateway replacing it collects what the meter keeps.
	k.agree(t, m)
	got := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetKept, Counter: 1})
	if got.Kind != protocol.PDUData || got.Counter != ctr || got.Detail != protocol.KeptReading || string(got.Body) != string(taken) {
		t.Fatalf("reading %d lost after the gateway acknowledged and dropped it: %+v", ctr, got)
	}
	// The head-end stores what verifies and acknowledges it end to end.
	stored, err := k.verifier.VerifyReading(got.Body)
	if err != nil || stored.Counter != ctr {
		t.Fatalf("head-end: reading %d: %+v %v", ctr, stored, err)
	}
	if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, k.heKey, m, ctr, got.Body)); a.Status != protocol.StatusOK {
		t.Fatalf("head-end's ack: %+v", a)
	}
	if m.kept(ctr) {
		t.Fatalf("reading %d kept after the head-end's ack", ctr)
	}
	if a := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetKept, Counter: 1}); a.Kind != protocol.PDUResult || a.Status != protocol.StatusMissing {
		t.Fatalf("an acknowledged reading handed out again: %+v", a)
	}
}
