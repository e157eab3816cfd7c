package sim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	crand "crypto/rand"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
	"github.com/verimeter/verimeter/wan"
)

// tamperWorld builds the demo's roles (PKI, one gateway, three meters with
// state on disk, the head-end) and commissions them, with the roles'
// steps logged under the returned trace directory.
func tamperWorld(t *testing.T) (*world, string) {
	t.Helper()
	dir := t.TempDir()
	w := &world{cfg: Config{Meters: 3, Gateways: 1, Days: 1, Seed: 9}, rng: rand.New(rand.NewPCG(9, 0xde70)), dir: dir,
		subs: map[string]*protocol.CA{}, parts: map[string]*x509.Certificate{}, partKey: map[string]*ecdsa.PrivateKey{}, wanDown: map[string]bool{}}
	w.t0 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	w.now = w.t0
	if err := w.setupPKI(); err != nil {
		t.Fatal(err)
	}
	traces := filepath.Join(dir, "spec-trace")
	w.cfg.SpecTrace = traces
	var err error
	if w.traces, err = statemachine.NewTraceDir(traces); err != nil {
		t.Fatal(err)
	}
	if err := w.setupRoles(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	if err := w.commission(&Report{}); err != nil {
		t.Fatal(err)
	}
	return w, traces
}

// TestTamperEndToEnd: meter → gateway → head-end in process. A meter loses
// power right after detecting (the event is in its journal); the gateway
// collects events, loses its WAN, restarts with them queued, uploads; the
// meters resend before the acknowledgements reach them, the gateway
// uploads again: every event is stored once with one alarm; the
// acknowledgements reach the meters, which forget the events (also after a
// restart). An altered event and an unsigned one are refused with typed
// errors. The roles' Tamper logs are a behaviour of spec/Tamper.tla.
func TestTamperEndToEnd(t *testing.T) {
	w, traces := tamperWorld(t)
	ctx := context.Background()
	g := w.gws[0]
	m0, m1 := w.meters[0], w.meters[1]
	if _, err := m0.m.Tamper(protocol.TamperCover, w.now); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.m.Tamper(protocol.TamperMagnetic, w.now); err != nil {
		t.Fatal(err)
	}
	// m1 loses power right after detecting.
	// (That the signed bytes survive unchanged is the meter's own test.)
	if err := w.restartMeter(m1); err != nil {
		t.Fatal(err)
	}
	if after := m1.m.Status().TamperPending; after != 1 {
		t.Fatalf("event lost at the meter's power loss: %d events pending", after)
	}
	w.wanDown[g.name] = true
	for _, n := range []*meterNode{m0, m1} {
		if q, err := g.g.CollectTamper(n.cfg.Title); err != nil || q != 1 {
			t.Fatalf("collect: %d, %v", q, err)
		}
		if q, err := g.g.CollectTamper(n.cfg.Title); err != nil || q != 0 {
			t.Fatalf("collect again: %d queued, %v (Collect needs e \\notin queue)", q, err)
		}
	}
	if _, err := g.g.UploadTamper(ctx, uplink{w}); !errors.Is(err, gateway.ErrWANDown) {
		t.Fatalf("upload with the WAN down: %v", err)
	}
	if err := w.restartGateway(g); err != nil {
		t.Fatal(err)
	}
	if q := g.g.TamperQueued(); q != 2 {
		t.Fatalf("%d events queued after the gateway's restart, want 2", q)
	}
	w.wanDown[g.name] = false
	if n, err := g.g.UploadTamper(ctx, uplink{w}); err != nil || n != 2 {
		t.Fatalf("upload: %d acknowledged, %v", n, err)
	}
	if q := g.g.TamperQueued(); q != 0 {
		t.Fatalf("%d events still queued after the head-end's acknowledgement", q)
	}
	// Resent before the meters saw an acknowledgement: duplicates.
	for _, n := range []*meterNode{m0, m1} {
		if _, err := g.g.CollectTamper(n.cfg.Title); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := g.g.UploadTamper(ctx, uplink{w}); err != nil || n != 2 {
		t.Fatalf("upload of the resent events: %d acknowledged, %v", n, err)
	}
	alarms, err := w.alice.alarms(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 2 || alarms[0].Meter != hexTitle(m0.cfg.Title) || alarms[0].Kind != protocol.TamperCover || alarms[1].Kind != protocol.TamperMagnetic {
		t.Fatalf("alarms %+v, want one per event", alarms)
	}
	for _, n := range []*meterNode{m0, m1} {
		if r, err := g.g.RelayTamperAcks(n.cfg.Title); err != nil || r != 2 {
			t.Fatalf("relay: %d, %v", r, err)
		}
		if p := n.m.Status().TamperPending; p != 0 {
			t.Fatalf("meter %x holds %d events after the acknowledgement", n.cfg.Title, p)
		}
	}
	if err := w.restartMeter(m0); err != nil {
		t.Fatal(err)
	}
	if p := m0.m.Status().TamperPending; p != 0 {
		t.Fatalf("an acknowledged event came back after a restart (%d)", p)
	}
	// The operator acknowledges an alarm through the operator API, once.
	if err := w.alice.ackAlarm(ctx, alarms[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := w.bob.ackAlarm(ctx, alarms[0].ID); !errors.Is(err, &APIError{Status: http.StatusNotFound, Class: wan.ClassNotFound}) || !errors.Is(err, headend.ErrAlarm) {
		t.Fatalf("second acknowledgement: %v, want 404 not-found naming ErrAlarm", err)
	}
	if open, _ := w.alice.alarms(ctx, true); len(open) != 1 || open[0].ID != alarms[1].ID || open[0].AckedBy != "" {
		t.Fatalf("open alarms %+v", open)
	}
	// A compromised gateway's altered event (signature byte) and a forged
	// one (signed by a key that is not the meter's) are refused.
	ev, err := w.signedEventOf(m0)
	if err != nil {
		t.Fatal(err)
	}
	altered := bytes.Clone(ev)
	altered[len(altered)-1] ^= 1
	forger, err := protocol.NewMeterSigner(m0.cfg.Title, key(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.SignEvent(protocol.Event{Meter: m0.cfg.Title, Counter: 7, Time: w.now.Unix(), Code: protocol.EventCoverOpened})
	if err != nil {
		t.Fatal(err)
	}
	// (The typed reasons are the head-end's own tests; here, as an
	// operator sees it: no acknowledgement, three refusals audited.)
	before, err := w.auditCount(ctx, "tamper-rejected", "")
	if err != nil {
		t.Fatal(err)
	}
	acks, err := w.he.Tamper(ctx, g.name, protocol.TamperBatch{Items: [][]byte{altered, forged, []byte("not an event")}})
	if err != nil {
		t.Fatal(err)
	}
	after, err := w.auditCount(ctx, "tamper-rejected", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(acks.Items) != 0 || after != before+3 {
		t.Fatalf("%d acknowledged, %d refusals audited; want 0 and 3", len(acks.Items), after-before)
	}
	if again, _ := w.alice.alarms(ctx, false); len(again) != 2 || again[0].AckedBy != "operator alice" {
		t.Fatalf("%d alarms after the forgeries, want 2", len(again))
	}
	// The logs of the three roles are a behaviour of spec/Tamper.tla.
	if err := w.traces.Close(); err != nil {
		t.Fatal(err)
	}
	res := tamperResult(t, traces)
	if res.Err != nil || res.Groups != 2 || res.Logs != 6 {
		t.Fatalf("Tamper traces: %+v", res)
	}
	t.Logf("Tamper: %d steps in %d logs of %d meters explained", res.Steps, res.Logs, res.Groups)
}

// tamperResult validates the Tamper logs under dir against
// spec/Tamper.tla, one group (meter) at a time, as the demo's trace
// validation does.
func tamperResult(t *testing.T, dir string) TraceResult {
	t.Helper()
	res := TraceResult{Module: "Tamper"}
	model, err := tracecheck.Load("../../spec/Tamper.tla", "../../spec/trace/Tamper.cfg")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := filepath.Glob(filepath.Join(dir, "tamper", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		paths, _ := filepath.Glob(filepath.Join(g, "*.ndjson"))
		var logs [][]tracecheck.Step
		for _, p := range paths {
			steps, err := tracecheck.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, steps)
		}
		steps, err := tracecheck.Merge(logs...)
		if err != nil {
			t.Fatal(err)
		}
		r, err := model.Check(steps, tracecheck.Options{MaxHidden: 0})
		if err != nil {
			res.Err = err
			return res
		}
		res.Groups++
		res.Logs += len(paths)
		res.Steps += r.Steps
	}
	return res
}
