package headend

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// campaignMeters are n system titles in rollout order.
func campaignMeters(n int) []protocol.SystemTitle {
	out := make([]protocol.SystemTitle, n)
	for i := range out {
		out[i] = protocol.SystemTitle{'V', 'M', 'C', 0, 0, 0, byte(i >> 8), byte(i)}
	}
	return out
}

// work returns the meters of campaign id the head-end offers to a gateway
// serving meters.
func work(t *testing.T, he *HeadEnd, id uint32, meters []protocol.SystemTitle) []string {
	t.Helper()
	jobs, err := he.FirmwareWork(context.Background(), "gw", meters)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Campaign == id {
			return j.Meters
		}
	}
	return nil
}

// report installs (or fails) each offered meter once, reporting it as a
// gateway does, and counts the installs per meter.
func report(t *testing.T, he *HeadEnd, id uint32, offered []string, installs map[string]int, fail func(string) bool) {
	t.Helper()
	for _, m := range offered {
		ok := !fail(m)
		if ok {
			installs[m]++
		}
		rec, err := he.FirmwareOutcome(context.Background(), "gw", wan.FirmwareOutcome{Campaign: id, Meter: m, Installed: ok})
		if err != nil || !rec {
			t.Fatalf("outcome of %s: %v %v", m, rec, err)
		}
	}
}

// TestCampaignSurvivesRestartMidStage: a campaign's stage, state and
// per-meter outcomes are in the store, so a head-end started again in the
// middle of a stage offers only the meters that have not reported; none
// is offered twice and none installs twice, and the campaign completes.
func TestCampaignSurvivesRestartMidStage(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "campaign.db")
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	f.useStore(st)
	testCampaignRestart(t, f, func() *Store {
		st, err := OpenStore(path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func testCampaignRestart(t *testing.T, f *fixture, reopen func() *Store) {
	meters := campaignMeters(20) // stages: 1, 5, 20 meters
	c, err := f.he.newCampaign(3, []byte("manifest"), []byte("image"), f.alice, f.bob, meters)
	if err != nil || c.State != campaignRunning || c.Stage != 0 || len(c.Meters) != 20 {
		t.Fatalf("new campaign: %+v, %v", c, err)
	}
	installs := map[string]int{}
	never := func(string) bool { return false }
	first := work(t, f.he, 3, meters)
	if len(first) != 1 {
		t.Fatalf("stage 1 offers %v, want 1 meter", first)
	}
	report(t, f.he, 3, first, installs, never)
	second := work(t, f.he, 3, meters)
	if len(second) != 4 {
		t.Fatalf("stage 2 offers %v, want 4 meters", second)
	}
	// Half of stage 2 reports, then the head-end stops.
	report(t, f.he, 3, second[:2], installs, never)
	f.useStore(reopen())
	resumed := work(t, f.he, 3, meters)
	if fmt.Sprint(resumed) != fmt.Sprint(second[2:]) {
		t.Fatalf("after the restart stage 2 offers %v, want the 2 meters that have not reported %v", resumed, second[2:])
	}
	// A gateway resending an outcome changes nothing.
	if rec, err := f.he.FirmwareOutcome(context.Background(), "gw", wan.FirmwareOutcome{Campaign: 3, Meter: second[0], Installed: false}); err != nil || rec {
		t.Fatalf("second outcome of %s: recorded %v, %v", second[0], rec, err)
	}
	// A meter of a stage not reached is not accepted.
	if _, err := f.he.FirmwareOutcome(context.Background(), "gw", wan.FirmwareOutcome{Campaign: 3, Meter: hex.EncodeToString(meters[19][:]), Installed: true}); !errors.Is(err, ErrCampaignMeter) {
		t.Fatalf("outcome of a meter of stage 3 during stage 2: %v", err)
	}
	report(t, f.he, 3, resumed, installs, never)
	for off := work(t, f.he, 3, meters); len(off) > 0; off = work(t, f.he, 3, meters) {
		report(t, f.he, 3, off, installs, never)
	}
	c, err = f.store.Campaign(3)
	if err != nil {
		t.Fatal(err)
	}
	inst, failed := c.Outcome()
	if c.State != campaignDone || inst != 20 || failed != 0 || len(installs) != 20 {
		t.Fatalf("campaign after the restart: %s; %d meters installed", c, len(installs))
	}
	for m, n := range installs {
		if n != 1 {
			t.Errorf("meter %s installed %d times", m, n)
		}
	}
	if c.Meters[0].Outcome != outcomeInstalled || c.Meters[0].Gateway != "gw" || c.Meters[0].Reported.IsZero() || c.Meters[19].Stage != 2 {
		t.Fatalf("per-meter outcome: %+v %+v", c.Meters[0], c.Meters[19])
	}
}

// TestCampaignStopRule: a stage whose failures exceed the limit stops the
// campaign; nothing more is offered.
func TestCampaignStopRule(t *testing.T) {
	f := newFixture(t)
	meters := campaignMeters(20)
	if _, err := f.he.newCampaign(4, []byte("manifest"), []byte("image"), f.alice, f.bob, meters); err != nil {
		t.Fatal(err)
	}
	installs := map[string]int{}
	report(t, f.he, 4, work(t, f.he, 4, meters), installs, func(string) bool { return false })
	stage2 := work(t, f.he, 4, meters)
	report(t, f.he, 4, stage2, installs, func(m string) bool { return m == stage2[0] || m == stage2[1] }) // 2 of 5 failed
	c, err := f.store.Campaign(4)
	if err != nil || c.State != campaignStopped || !c.Stopped || c.Reason != "2 of 5 meters failed" {
		t.Fatalf("campaign after a bad stage 2: %v, %v", c, err)
	}
	if off := work(t, f.he, 4, meters); off != nil {
		t.Fatalf("a stopped campaign offers %v", off)
	}
}

// TestCampaignPauseStopsPickUp: a paused campaign offers nothing, records
// the outcomes of transfers under way, and offers the rest when resumed,
// also by a head-end started again.
func TestCampaignPauseStopsPickUp(t *testing.T) {
	f := newFixture(t)
	meters := campaignMeters(4)
	if _, err := f.he.newCampaign(5, []byte("manifest"), []byte("image"), f.alice, f.bob, meters); err != nil {
		t.Fatal(err)
	}
	offered := work(t, f.he, 5, meters)
	if err := f.he.pauseCampaign(f.carol, 5); err != nil {
		t.Fatal(err)
	}
	if off := work(t, f.he, 5, meters); off != nil {
		t.Fatalf("a paused campaign offers %v", off)
	}
	if err := f.he.pauseCampaign(f.carol, 5); !errors.Is(err, ErrCampaignState) {
		t.Fatalf("pausing twice: %v", err)
	}
	report(t, f.he, 5, offered, map[string]int{}, func(string) bool { return false })
	f.he = New(f.he.cfg)
	if off := work(t, f.he, 5, meters); off != nil {
		t.Fatalf("a paused campaign offers %v after a restart", off)
	}
	if err := f.he.resumeCampaign(approver{Name: "supplier A", Cert: f.parts["supplier A"]}, 5); !errors.Is(err, ErrRole) {
		t.Fatalf("a supplier resuming a campaign: %v", err)
	}
	if err := f.he.resumeCampaign(f.carol, 5); err != nil {
		t.Fatal(err)
	}
	if off := work(t, f.he, 5, meters); len(off) != 3 {
		t.Fatalf("resumed campaign offers %v, want the 3 meters of stage 3", off)
	}
	if err := f.he.resumeCampaign(f.carol, 5); !errors.Is(err, ErrCampaignState) {
		t.Fatalf("resuming a running campaign: %v", err)
	}
}

// TestCampaignNeedsTwoApprovers: a request is released only by a second,
// different operator; one operator alone is refused in the audit log, and
// a non-operator may not approve.
func TestCampaignNeedsTwoApprovers(t *testing.T) {
	f := newFixture(t)
	meters := campaignMeters(3)
	if err := f.he.requestCampaign(f.alice, 6, []byte("m"), []byte("i"), meters); err != nil {
		t.Fatal(err)
	}
	if err := f.he.requestCampaign(f.bob, 6, []byte("m"), []byte("i"), meters); !errors.Is(err, ErrCampaignExists) {
		t.Fatalf("a second request of one id: %v", err)
	}
	if off := work(t, f.he, 6, meters); off != nil {
		t.Fatalf("an unapproved campaign offers %v", off)
	}
	if _, err := f.he.approveCampaign(f.alice, 6); !errors.Is(err, ErrApproval) {
		t.Fatalf("approved by its requester: %v", err)
	}
	if _, err := f.he.approveCampaign(approver{Name: "supplier A", Cert: f.parts["supplier A"]}, 6); !errors.Is(err, ErrRole) {
		t.Fatalf("approved by a supplier: %v", err)
	}
	c, err := f.he.approveCampaign(f.bob, 6)
	if err != nil || c.FirstApprover != "alice" || c.SecondApprover != "bob" || c.State != campaignRunning {
		t.Fatalf("approved by bob: %v, %v", c, err)
	}
	if _, err := f.he.approveCampaign(f.carol, 6); !errors.Is(err, ErrNoCampaign) {
		t.Fatalf("approved again: %v", err)
	}
	if off := work(t, f.he, 6, meters); len(off) != 1 {
		t.Fatalf("approved campaign offers %v", off)
	}
	entries, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range entries {
		if e.Action == "campaign-refused" {
			refused++
		}
	}
	if refused < 2 {
		t.Fatalf("%d refusals in the audit log, want 2 (the second request, the requester's approval): %+v", refused, entries)
	}
}

// TestCampaignHTTP drives the operator and gateway routes over TLS with
// certificates: operator A requests, A's approval is refused, B approves,
// a gateway picks up and reports, an operator pauses and reads progress.
func TestCampaignHTTP(t *testing.T) {
	f := newFixture(t)
	ops := f.subs["head-end-operator"]
	server := f.tlsCert(t, ops, "head-end", protocol.RoleHeadEnd)
	alice := f.tlsCert(t, ops, "alice", protocol.RoleHeadEnd)
	bob := f.tlsCert(t, ops, "bob", protocol.RoleHeadEnd)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	sup := f.tlsCert(t, f.subs["market-participant"], "supplier A", protocol.RoleSupplier)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(server))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.he.handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "https://" + ln.Addr().String()
	call := func(c tls.Certificate, method, path string, body any) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(method, base+path, r)
		resp, err := client(c).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	meters := campaignMeters(2)
	req := campaignRequestBody{ID: 9, Manifest: []byte("manifest"), Image: []byte("image"), Meters: []string{hex.EncodeToString(meters[0][:]), hex.EncodeToString(meters[1][:])}}
	if code, b := call(sup, "POST", "/v1/operator/campaigns", req); code != http.StatusForbidden {
		t.Fatalf("a supplier requesting a campaign: %d %s", code, b)
	}
	if code, b := call(alice, "POST", "/v1/operator/campaigns", req); code != http.StatusAccepted {
		t.Fatalf("request: %d %s", code, b)
	}
	if code, b := call(alice, "POST", "/v1/operator/campaigns/9/approve", nil); code != http.StatusForbidden || !strings.Contains(string(b), "second approver") {
		t.Fatalf("approved by its requester: %d %s", code, b)
	}
	if code, b := call(gw, "POST", "/v1/operator/campaigns/9/approve", nil); code != http.StatusForbidden {
		t.Fatalf("approved by a gateway: %d %s", code, b)
	}
	code, b := call(bob, "POST", "/v1/operator/campaigns/9/approve", nil)
	var rep campaignReply
	if code != http.StatusOK || json.Unmarshal(b, &rep) != nil || rep.State != campaignRunning || rep.SecondApprover != "bob" {
		t.Fatalf("approved by bob: %d %s", code, b)
	}
	q := "?meter=" + req.Meters[0] + "&meter=" + req.Meters[1]
	if code, b := call(alice, "GET", wan.FirmwarePath+q, nil); code != http.StatusForbidden {
		t.Fatalf("an operator picking up gateway work: %d %s", code, b)
	}
	code, b = call(gw, "GET", wan.FirmwarePath+q, nil)
	var w wan.FirmwareWork
	if code != http.StatusOK || json.Unmarshal(b, &w) != nil || len(w.Jobs) != 1 || string(w.Jobs[0].Image) != "image" || fmt.Sprint(w.Jobs[0].Meters) != "["+req.Meters[0]+"]" {
		t.Fatalf("pick-up: %d %s", code, b)
	}
	code, b = call(gw, "POST", wan.FirmwarePath, wan.FirmwareOutcome{Campaign: 9, Meter: req.Meters[0], Installed: true})
	if ack := (wan.FirmwareOutcomeReply{}); code != http.StatusOK || json.Unmarshal(b, &ack) != nil || !ack.Recorded {
		t.Fatalf("outcome: %d %s", code, b)
	}
	if code, b := call(bob, "POST", "/v1/operator/campaigns/9/pause", nil); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, b)
	}
	if code, b := call(gw, "GET", wan.FirmwarePath+q, nil); code != http.StatusOK || strings.Contains(string(b), req.Meters[1]) {
		t.Fatalf("pick-up while paused: %d %s", code, b)
	}
	code, b = call(alice, "GET", "/v1/operator/campaigns/9", nil)
	if code != http.StatusOK || json.Unmarshal(b, &rep) != nil || rep.State != campaignPaused || rep.Installed != 1 || rep.Pending != 1 || rep.Meters[0].Gateway != "gw-1" {
		t.Fatalf("progress: %d %s", code, b)
	}
	if code, b := call(alice, "POST", "/v1/operator/campaigns/9/resume", nil); code != http.StatusOK {
		t.Fatalf("resume: %d %s", code, b)
	}
	if code, b := call(alice, "GET", "/v1/operator/campaigns/77", nil); code != http.StatusNotFound {
		t.Fatalf("no such campaign: %d %s", code, b)
	}
	entries, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+" "+e.Action)
	}
	for _, want := range []string{"alice campaign-requested", "alice campaign-refused", "bob campaign", "bob campaign-paused", "alice campaign-read", "alice campaign-resumed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %q in the audit log: %v", want, actions)
		}
	}
}

// newCampaign is a campaign released as the operator API releases it:
// first requests it, second approves it.
func (h *HeadEnd) newCampaign(id uint32, manifest, image []byte, first, second approver, meters []protocol.SystemTitle) (*Campaign, error) {
	if err := h.requestCampaign(first, id, manifest, image, meters); err != nil {
		return nil, err
	}
	return h.approveCampaign(second, id)
}
