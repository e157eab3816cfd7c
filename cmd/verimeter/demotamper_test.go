//go:build !device

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	crand "crypto/rand"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// tamperWorld builds the demo's roles (PKI, one gateway, three meters with
// state on disk, the head-end) and commissions them, with the roles'
// steps logged under the returned trace directory.
func tamperWorld(t *testing.T) (*world, string) {
	t.Helper()
	dir := t.TempDir()
	w := &world{cfg: demoConfig{Meters: 3, Gateways: 1, Days: 1, Seed: 9}, rng: rand.New(rand.NewPCG(9, 0xde70)), dir: dir,
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
	if err := w.commission(&demoReport{}); err != nil {
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
	before := m1.m.TamperLog()
	if err := w.restartMeter(m1); err != nil {
		t.Fatal(err)
	}
	if after := m1.m.TamperLog(); len(after) != 1 || !bytes.Equal(after[0], before[0]) {
		t.Fatalf("event lost or changed at the meter's power loss: %d events", len(after))
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
	alarms, err := w.he.Alarms(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 2 || alarms[0].Meter != m0.cfg.Title || alarms[0].Kind != protocol.TamperCover || alarms[1].Kind != protocol.TamperMagnetic {
		t.Fatalf("alarms %+v, want one per event", alarms)
	}
	for _, n := range []*meterNode{m0, m1} {
		if r, err := g.g.RelayTamperAcks(n.cfg.Title); err != nil || r != 2 {
			t.Fatalf("relay: %d, %v", r, err)
		}
		if p := n.m.TamperPending(); p != 0 {
			t.Fatalf("meter %x holds %d events after the acknowledgement", n.cfg.Title, p)
		}
	}
	if err := w.restartMeter(m0); err != nil {
		t.Fatal(err)
	}
	if p := m0.m.TamperPending(); p != 0 {
		t.Fatalf("an acknowledged event came back after a restart (%d)", p)
	}
	// The operator acknowledges an alarm, once.
	if err := w.he.AcknowledgeAlarm(ctx, alarms[0].ID, "operator"); err != nil {
		t.Fatal(err)
	}
	if err := w.he.AcknowledgeAlarm(ctx, alarms[0].ID, "operator"); !errors.Is(err, headend.ErrAlarm) {
		t.Fatalf("second acknowledgement: %v, want ErrAlarm", err)
	}
	if open, _ := w.he.Alarms(ctx, true); len(open) != 1 || open[0].ID != alarms[1].ID {
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
	acks, rejected, err := w.he.IngestTamper(ctx, g.name, protocol.TamperBatch{Items: [][]byte{altered, forged, []byte("not an event")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(acks.Items) != 0 || len(rejected) != 3 {
		t.Fatalf("%d acknowledged, %d refused; want 0 and 3", len(acks.Items), len(rejected))
	}
	for i, err := range rejected {
		if !errors.Is(err, headend.ErrTamperEvent) {
			t.Fatalf("refusal %d: %v, want ErrTamperEvent", i, err)
		}
	}
	if !errors.Is(rejected[0], protocol.ErrBadSignature) || !errors.Is(rejected[0], statemachine.ErrNotEnabled) || !errors.Is(rejected[1], protocol.ErrBadSignature) {
		t.Fatalf("refusals %v, want the signature failure and the machine's guard e.signed", rejected[:2])
	}
	if again, _ := w.he.Alarms(ctx, false); len(again) != 2 {
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

func tamperResult(t *testing.T, dir string) traceCheckResult {
	t.Helper()
	results, _ := validateSpecTraces(dir)
	return results.module("Tamper")
}

// tamperLog is a role's Tamper log of meter 4 (gateway 0's third meter,
// which detects one event) in a demo with -spec-trace.
func tamperLog(t *testing.T, dir, role string) string {
	t.Helper()
	path := filepath.Join(dir, "tamper", "564d520000000004", role+".ndjson")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Tamper log: %v", err)
	}
	return path
}

// TestDemoTamperTracesAreExplained: the demo's tamper step leaves logs of
// its three meters that the demo validates.
func TestDemoTamperTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	res := tamperResult(t, dir)
	if res.Err != nil || res.Groups != 3 || res.Logs != 9 || res.Steps < 3*8 {
		t.Fatalf("Tamper %+v: want 3 groups of 3 logs, >= 24 steps", res)
	}
	t.Logf("Tamper: %d steps in %d logs of %d meters explained", res.Steps, res.Logs, res.Groups)
}

// TestDemoTamperedTamperTraceIsRejected: the head-end's log edited so that
// the duplicate's Ingest raises an alarm for an event it did not ingest is
// reported at that line.
func TestDemoTamperedTamperTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := tamperLog(t, dir, "headend")
	rewrite(t, path, 2, `"alarms":[1]`, `"alarms":[1,2]`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 2 || u.Step.Action != "Ingest" {
		t.Fatalf("err = %v, want the head-end's second Ingest at %s:2 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoReorderedTamperTraceIsRejected: the meter's log with its first
// Send moved before its Detect (an event sent before it was persisted) is
// rejected.
func TestDemoReorderedTamperTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := tamperLog(t, dir, "meter")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], `"action":"Detect"`) || !strings.Contains(lines[1], `"action":"Send"`) {
		t.Fatalf("%s does not start with Detect, Send:\n%s", path, src)
	}
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[0], lines[1]
	ca, cb := clock(a), clock(b)
	lines[0], lines[1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want a step of %s unexplained", err, path)
	}
	t.Log(err)
}
