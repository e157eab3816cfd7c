package headend

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestStatsCountWhatTheStoreHolds: after a stored batch, a resend and a
// batch with a forged reading and a tampered block, the head-end's counters
// equal what its store and log hold, and each refusal is in its class.
func TestStatsCountWhatTheStoreHolds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	blk := f.block(t, 1, 0)
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}}); err != nil {
		t.Fatal(err)
	}
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignReading(protocol.Reading{Meter: f.meter, Counter: 9, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindReading, Raw: forged}, {Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}, {Kind: wan.KindBlock, Raw: []byte{1, 2, 3}}})
	if err != nil || len(res.Rejected) != 2 {
		t.Fatalf("mixed batch: %+v %v", res, err)
	}
	s := f.he.Stats()
	items, ivs, err := f.store.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if s.Batches != 3 || s.Items != uint64(items) || s.Intervals != uint64(ivs) || s.Duplicates != 1 {
		t.Errorf("stats %d batches, %d items, %d intervals, %d duplicates; store holds %d items, %d intervals (want 3 batches, 1 duplicate)",
			s.Batches, s.Items, s.Intervals, s.Duplicates, items, ivs)
	}
	if s.Rejected[wan.RejectSignature] != 1 || s.Rejected[wan.RejectMalformed] != 1 {
		t.Errorf("rejected by class %v, want one signature and one malformed", s.Rejected)
	}
	n, err := f.he.LogSize(ctx)
	if err != nil || n != uint64(items) {
		t.Errorf("log size %d (%v), store holds %d items", n, err, items)
	}
}

// TestStatsOfTheHTTPFace: a batch answered over HTTP is in the latency
// histogram, and a batch that does not decode is refused whole in its
// class.
func TestStatsOfTheHTTPFace(t *testing.T) {
	f := newFixture(t)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw", protocol.RoleGateway)
	leaf := gw.Leaf
	post := func(body []byte) int {
		r := httptest.NewRequest("POST", "https://head-end/v1/ingest", bytes.NewReader(body))
		r.TLS.PeerCertificates = append(r.TLS.PeerCertificates, leaf)
		w := httptest.NewRecorder()
		f.he.handler().ServeHTTP(w, r)
		io.Copy(io.Discard, w.Result().Body)
		return w.Code
	}
	body, _ := wan.EncodeBatch([]wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}})
	if c := post(body); c != http.StatusOK {
		t.Fatalf("batch: %d", c)
	}
	if c := post(append(body, 0)); c != http.StatusBadRequest {
		t.Fatalf("batch with a trailing byte: %d", c)
	}
	s := f.he.Stats()
	h := s.IngestLatency
	if h.Count != 1 || h.Cumulative[len(h.Cumulative)-1] > 1 || h.Sum <= 0 || h.Sum > time.Minute.Seconds() {
		t.Errorf("latency histogram %+v, want one observation", h)
	}
	if s.BatchesRefused[wan.RejectMalformed] != 1 || s.Batches != 1 {
		t.Errorf("%d batches, refused whole by class %v: want 1 and one malformed", s.Batches, s.BatchesRefused)
	}
}
