package headend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

// opServer serves f.he's handler on a loopback TLS listener (the head-end's
// own TLSConfig) and returns its base URL; check, when set, sees every
// answer with its request.
type opServer struct {
	t     *testing.T
	base  string
	check func(req *http.Request, resp *http.Response, body []byte)
}

func serveOperator(t *testing.T, f *fixture) *opServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(f.serverCert(t)))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.he.handler().ServeHTTP(w, r) }),
		ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &opServer{t: t, base: "https://" + ln.Addr().String()}
}

// serverCert is the head-end's TLS server certificate for 127.0.0.1 with
// its chain up to the root (a browser checks it).
func (f *fixture) serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	k := key(t)
	ca := f.subs["head-end-operator"]
	c, err := ca.Issue(protocol.Identity{CommonName: "head-end", Hosts: []string{"127.0.0.1"}}, []protocol.Role{protocol.RoleHeadEnd}, &k.PublicKey, f.t0.Add(-time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{c.Raw, ca.Cert.Raw}, PrivateKey: k, Leaf: c}
}

// do sends a request as cert and decodes a JSON answer into v (when not
// nil and the status is 2xx) or returns the refusal.
func (s *opServer) do(cert tls.Certificate, method, path string, body any, v any) (int, wan.OperatorError) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client(cert).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.check != nil {
		s.check(req, resp, raw)
	}
	var oe wan.OperatorError
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(raw, &oe); err != nil {
			s.t.Fatalf("%s %s: %s, not a JSON refusal: %q", method, path, resp.Status, raw)
		}
		return resp.StatusCode, oe
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			s.t.Fatalf("%s %s: %s: %v: %q", method, path, resp.Status, err, raw)
		}
	}
	return resp.StatusCode, oe
}

// operators issues the fixture's operators alice and bob as TLS client
// certificates under the head-end-operator sub-CA.
// approvals are the requester's and the approver's own signatures over
// pending command id's to_approve, as `verimeter operator sign` and
// `approve` make them with the operators' keys.
func (s *opServer) approvals(id int64, requester, approver tls.Certificate) wan.ApproveRequest {
	s.t.Helper()
	var oc wan.OperatorCommand
	if code, oe := s.do(approver, "GET", fmt.Sprintf("/v1/operator/commands/%d", id), nil, &oc); code != http.StatusOK {
		s.t.Fatalf("command %d: %d %+v", id, code, oe)
	}
	b, err := base64.StdEncoding.DecodeString(oc.ToApprove)
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := protocol.DecodeCommandToApprove(b)
	if err != nil {
		s.t.Fatal(err)
	}
	var req wan.ApproveRequest
	for _, who := range []tls.Certificate{requester, approver} {
		a, err := protocol.SignApproval(c, who.PrivateKey.(*ecdsa.PrivateKey), rand.Reader)
		if err != nil {
			s.t.Fatal(err)
		}
		ab, err := a.Marshal()
		if err != nil {
			s.t.Fatal(err)
		}
		req.Approvals = append(req.Approvals, base64.StdEncoding.EncodeToString(ab))
	}
	return req
}

func operators(t *testing.T, f *fixture) (alice, bob tls.Certificate) {
	return f.tlsCert(t, f.subs["head-end-operator"], "operator alice", protocol.RoleHeadEnd),
		f.tlsCert(t, f.subs["head-end-operator"], "operator bob", protocol.RoleHeadEnd)
}

// TestOperatorRoleCheck: only an operator's certificate reaches the
// operator routes; a gateway's, a participant's, the head-end's own TLS
// certificate and its command key's are refused with 403, and the refusal
// of a PKI member in another role is audited. Every operator call is in
// the audit log with the operator's name.
func TestOperatorRoleCheck(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	alice, _ := operators(t, f)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	sup := f.tlsCert(t, f.subs["market-participant"], "supplier A", protocol.RoleSupplier)
	grid := f.tlsCert(t, f.subs["market-participant"], "grid op", protocol.RoleGridOperator)
	k := key(t)
	serverCert, err := f.subs["head-end-operator"].Issue(protocol.Identity{CommonName: "head-end", Hosts: []string{"localhost"}}, []protocol.Role{protocol.RoleHeadEnd}, &k.PublicKey, f.t0.Add(-time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server := tls.Certificate{Certificate: [][]byte{serverCert.Raw}, PrivateKey: k, Leaf: serverCert}
	cmdKeyCert, err := f.subs["head-end-operator"].Issue(protocol.Identity{CommonName: "head-end commands"}, []protocol.Role{protocol.RoleHeadEnd}, &f.he.cfg.Key.PublicKey, f.t0.Add(-time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cmdKey := tls.Certificate{Certificate: [][]byte{cmdKeyCert.Raw}, PrivateKey: f.he.cfg.Key, Leaf: cmdKeyCert}
	for name, c := range map[string]tls.Certificate{"gateway": gw, "supplier": sup, "grid operator": grid, "head-end TLS server": server, "head-end command key": cmdKey} {
		for _, route := range [][2]string{{"GET", "/v1/operator/meters"}, {"GET", "/v1/operator/audit"}, {"POST", "/v1/operator/commands/1/approve"}} {
			if code, oe := s.do(c, route[0], route[1], nil, nil); code != http.StatusForbidden || oe.Class != wan.ClassForbidden {
				t.Errorf("%s on %s %s: %d %+v, want 403 forbidden", name, route[0], route[1], code, oe)
			}
		}
	}
	var meters []wan.OperatorMeter
	if code, oe := s.do(alice, "GET", "/v1/operator/meters", nil, &meters); code != http.StatusOK {
		t.Fatalf("operator: %d %+v", code, oe)
	}
	log, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	var calls, refusals int
	for _, e := range log {
		switch {
		case e.Action == "operator-call" && e.Actor == "operator alice" && e.Detail == "GET /v1/operator/meters":
			calls++
		case e.Action == "operator-refused" && (e.Actor == "gw-1" || e.Actor == "supplier A" || e.Actor == "grid op"):
			refusals++
		case e.Action == "operator-call":
			t.Errorf("a refused certificate's call in the log as served: %+v", e)
		}
	}
	if calls != 1 || refusals != 9 {
		t.Fatalf("audit log: %d calls of alice, %d refusals of the gateway and participants; want 1 and 9\n%+v", calls, refusals, log)
	}
}

// TestOperatorFourEyes: a command requested by one operator waits for a
// different one; the requester approving it is refused with
// ErrSameOperator (409 same-operator) and it stays pending; a second
// operator's approval has the head-end sign it (ready, the meter's next
// counter); approving it again is a conflict. The rows survive a restart
// of the head-end on the same database, and the counter goes on.
func TestOperatorFourEyes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ops.db")
	testFourEyes(t, func() (*Store, error) { return OpenStore(path) })
}

// TestOperatorFourEyesPostgres is TestOperatorFourEyes on PostgreSQL.
func TestOperatorFourEyesPostgres(t *testing.T) {
	dsn := startPostgres(t)
	openPostgres(t, dsn).Close()
	testFourEyes(t, func() (*Store, error) { return OpenPostgres(dsn) })
}

func testFourEyes(t *testing.T, open func() (*Store, error)) {
	f := newFixture(t)
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.he.cfg
	cfg.Store = st
	f.he, f.store = New(cfg), st
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, bob := operators(t, f)
	meter := fmt.Sprintf("%x", f.meter[:])

	var c wan.OperatorCommand
	if code, oe := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "tariff", Tariff: 2}, &c); code != http.StatusCreated || c.Status != wan.CommandPending || c.RequestedBy != "operator alice" {
		t.Fatalf("request: %d %+v %+v", code, oe, c)
	}
	approve := fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID)
	if code, oe := s.do(alice, "POST", approve, nil, nil); code != http.StatusConflict || oe.Class != wan.ClassSameOperator {
		t.Fatalf("the requester approving: %d %+v, want 409 same-operator", code, oe)
	}
	var pending []wan.OperatorCommand
	if s.do(bob, "GET", "/v1/operator/commands?status=pending", nil, &pending); len(pending) != 1 || pending[0].ID != c.ID || pending[0].Signed != "" {
		t.Fatalf("after the refused approval: %+v", pending)
	}
	var ready wan.OperatorCommand
	if code, oe := s.do(bob, "POST", approve, nil, &ready); code != http.StatusOK || ready.Status != wan.CommandReady || ready.ApprovedBy != "operator bob" || ready.Counter != 1 {
		t.Fatalf("second operator's approval: %d %+v %+v", code, oe, ready)
	}
	raw, _ := base64.StdEncoding.DecodeString(ready.Signed)
	heKey := &f.he.cfg.Key.PublicKey
	cmd, err := protocol.VerifyCommand(raw, f.meter, func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return heKey, func(protocol.CommandKind) bool { return true }, nil
	})
	if err != nil || cmd.Kind != protocol.CmdTariff || cmd.Tariff != 2 || cmd.Counter != 1 {
		t.Fatalf("signed command: %+v %v", cmd, err)
	}
	if code, oe := s.do(bob, "POST", approve, nil, nil); code != http.StatusConflict || oe.Class != wan.ClassConflict {
		t.Fatalf("approving a ready command: %d %+v", code, oe)
	}

	// A disconnect requested, then the head-end restarts on the same
	// database before the approval.
	var d wan.OperatorCommand
	if code, oe := s.do(bob, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "disconnect"}, &d); code != http.StatusCreated {
		t.Fatalf("request: %d %+v", code, oe)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = open(); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg.Store = st
	f.he, f.store = New(cfg), st
	var all []wan.OperatorCommand
	if s.do(alice, "GET", "/v1/operator/commands", nil, &all); len(all) != 2 || all[0].Status != wan.CommandReady || all[0].Signed != ready.Signed || all[1].Status != wan.CommandPending {
		t.Fatalf("after a restart: %+v", all)
	}
	if code, oe := s.do(bob, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", d.ID), nil, nil); code != http.StatusConflict || oe.Class != wan.ClassSameOperator {
		t.Fatalf("the requester approving after a restart: %d %+v", code, oe)
	}
	if code, oe := s.do(alice, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", d.ID), nil, nil); code != http.StatusUnprocessableEntity || oe.Class != wan.ClassRefused {
		t.Fatalf("a disconnect approved without the signed approvals: %d %+v", code, oe)
	}
	if code, oe := s.do(alice, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", d.ID), s.approvals(d.ID, bob, alice), &d); code != http.StatusOK || d.Status != wan.CommandReady || d.Counter != 2 {
		t.Fatalf("approval after a restart: %d %+v %+v", code, oe, d)
	}
	log, err := st.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	var requested, signed, sameRefused int
	for _, e := range log {
		switch e.Action {
		case "command-requested":
			requested++
		case "command":
			signed++
		case "command-approval-refused":
			sameRefused++
		}
	}
	if requested != 2 || signed != 2 || sameRefused != 2 {
		t.Fatalf("audit: %d requested, %d signed, %d same-operator refusals; want 2, 2, 2", requested, signed, sameRefused)
	}
}

// TestOperatorBadInput: malformed requests are refused with 400 (413 for a
// body over the bound) and a JSON body naming the class, and change
// nothing: the pending command stays as it was.
func TestOperatorBadInput(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, bob := operators(t, f)
	meter := fmt.Sprintf("%x", f.meter[:])
	var c wan.OperatorCommand
	if code, _ := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "reconnect"}, &c); code != http.StatusCreated {
		t.Fatal(code)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		code         int
	}{
		{"POST", "/v1/operator/commands", []byte(`{"meter":`), 400},
		{"POST", "/v1/operator/commands", []byte(`{"meter":"` + meter + `","kind":"reconnect","extra":1}`), 400},
		{"POST", "/v1/operator/commands", wan.CommandRequest{Meter: "xyz", Kind: "tariff"}, 400},
		{"POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "self-destruct"}, 400},
		{"POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "clock-set", ClockStep: 3600}, 400},
		{"POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "disconnect", Tariff: 3}, 400},
		{"POST", "/v1/operator/commands", []byte(`{"meter":"` + meter + `","kind":"` + strings.Repeat("x", wan.MaxOperatorBody) + `"}`), 413},
		{"POST", "/v1/operator/commands/abc/approve", nil, 400},
		{"POST", "/v1/operator/commands/999/approve", nil, 404},
		{"GET", "/v1/operator/commands?status=lost", nil, 400},
		{"GET", "/v1/operator/meters/" + meter + "/readings?from=yesterday&to=today", nil, 400},
		{"GET", "/v1/operator/meters/" + meter + "/readings?from=2026-11-01T00:00:00Z&to=2026-12-30T00:00:00Z", nil, 400},
		{"GET", "/v1/operator/meters/" + meter + "/readings/7/evidence", nil, 404},
		{"POST", "/v1/operator/meters/" + meter + "/supplier", wan.SupplierSwitch{Participant: "supplier B", From: "2026-12-01T00:00:00Z", Until: "2026-11-01T00:00:00Z"}, 400},
		{"POST", "/v1/operator/alarms/5/ack", nil, 404},
		{"GET", "/v1/operator/alarms?open=maybe", nil, 400},
		{"GET", "/v1/operator/audit?after=-1", nil, 400},
		{"POST", "/v1/operator/tree-head", nil, 409},
	} {
		if code, oe := s.do(bob, tc.method, tc.path, tc.body, nil); code != tc.code || oe.Class == "" || oe.Error == "" {
			t.Errorf("%s %s: %d %+v, want %d with a class and a message", tc.method, tc.path, code, oe, tc.code)
		}
	}
	var got wan.OperatorCommand
	if s.do(bob, "GET", fmt.Sprintf("/v1/operator/commands/%d", c.ID), nil, &got); got != c {
		t.Fatalf("the pending command after bad requests: %+v, was %+v", got, c)
	}
	var all []wan.OperatorCommand
	if s.do(bob, "GET", "/v1/operator/commands", nil, &all); len(all) != 1 {
		t.Fatalf("commands after bad requests: %+v", all)
	}
}

// TestOperatorTour: inventory, readings, evidence of a reading, a tree
// head on demand, contracts and a supplier switch, alarms and their
// acknowledgement, the audit-log export, each answer checked.
func TestOperatorTour(t *testing.T) { testTour(t, newFixture(t)) }

// TestOperatorTourPostgres is TestOperatorTour on PostgreSQL.
func TestOperatorTourPostgres(t *testing.T) {
	f := newFixture(t)
	st := openPostgres(t, startPostgres(t))
	t.Cleanup(func() { st.Close() })
	f.useStore(st)
	testTour(t, f)
}

func testTour(t *testing.T, f *fixture) {
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, bob := operators(t, f)
	ctx := context.Background()
	meter := fmt.Sprintf("%x", f.meter[:])
	block := f.block(t, 1, 0)
	if _, err := f.he.Ingest(ctx, "gw-1", []wan.Item{{Kind: wan.KindBlock, Raw: block}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.he.ingestTamper(ctx, "gw-1", protocol.TamperBatch{Items: [][]byte{f.tamperEvent(t, 1, protocol.EventCoverOpened)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var meters []wan.OperatorMeter
	if s.do(alice, "GET", "/v1/operator/meters", nil, &meters); len(meters) != 1 || meters[0].Meter != meter || meters[0].Items != 1 || meters[0].LastKind != "block" || len(meters[0].Suppliers) != 1 || meters[0].Suppliers[0] != "supplier A" {
		t.Fatalf("inventory: %+v", meters)
	}
	var items []wan.OperatorItem
	q := fmt.Sprintf("from=%s&to=%s", f.t0.Format(time.RFC3339), f.t0.Add(24*time.Hour).Format(time.RFC3339))
	if s.do(alice, "GET", "/v1/operator/meters/"+meter+"/readings?"+q, nil, &items); len(items) != 1 || len(items[0].Intervals) != 96 || items[0].Intervals[1].Start != f.t0.Add(15*time.Minute).Format(time.RFC3339) {
		t.Fatalf("readings: %+v", items)
	}
	// Evidence: none before a tree head, then the inclusion proof.
	if code, oe := s.do(alice, "GET", "/v1/operator/meters/"+meter+"/readings/1/evidence", nil, nil); code != http.StatusNotFound {
		t.Fatalf("evidence before a tree head: %d %+v", code, oe)
	}
	logKey := key(t)
	f.he.cfg.LogKey = logKey
	var th wan.TreeHeadReply
	if code, oe := s.do(bob, "POST", "/v1/operator/tree-head", nil, &th); code != http.StatusOK {
		t.Fatalf("tree head: %d %+v", code, oe)
	}
	var ev wan.OperatorEvidence
	if code, oe := s.do(alice, "GET", "/v1/operator/meters/"+meter+"/readings/1/evidence", nil, &ev); code != http.StatusOK {
		t.Fatalf("evidence: %d %+v", code, oe)
	}
	eb, _ := base64.StdEncoding.DecodeString(ev.Evidence)
	e, err := translog.UnmarshalEvidence(eb)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := protocol.UnmarshalSignedBlock(block)
	if err := e.TreeHead.Verify(&logKey.PublicKey); err != nil || e.VerifyLeaf(sb.Sign1) != nil {
		t.Fatalf("evidence does not prove the block: %v %v", err, e.VerifyLeaf(sb.Sign1))
	}
	// Supplier switch.
	at := f.t0.Add(10 * 24 * time.Hour)
	var contracts []wan.OperatorContract
	if code, oe := s.do(alice, "POST", "/v1/operator/meters/"+meter+"/supplier", wan.SupplierSwitch{Participant: "supplier B", From: at.Format(time.RFC3339), Until: at.Add(365 * 24 * time.Hour).Format(time.RFC3339)}, &contracts); code != http.StatusOK {
		t.Fatalf("switch: %d %+v", code, oe)
	}
	if len(contracts) != 2 || contracts[0].Participant != "supplier A" || contracts[0].To != at.Format(time.RFC3339) || contracts[1].Participant != "supplier B" {
		t.Fatalf("contracts after the switch: %+v", contracts)
	}
	// Alarms.
	var alarms []wan.OperatorAlarm
	if s.do(alice, "GET", "/v1/operator/alarms?open=true", nil, &alarms); len(alarms) != 1 || alarms[0].Meter != meter {
		t.Fatalf("alarms: %+v", alarms)
	}
	if code, oe := s.do(bob, "POST", fmt.Sprintf("/v1/operator/alarms/%d/ack", alarms[0].ID), nil, nil); code != http.StatusOK {
		t.Fatalf("ack: %d %+v", code, oe)
	}
	if code, _ := s.do(bob, "POST", fmt.Sprintf("/v1/operator/alarms/%d/ack", alarms[0].ID), nil, nil); code != http.StatusNotFound {
		t.Fatalf("second ack: %d", code)
	}
	if s.do(alice, "GET", "/v1/operator/alarms", nil, &alarms); len(alarms) != 1 || alarms[0].AckedBy != "operator bob" {
		t.Fatalf("alarms after the ack: %+v", alarms)
	}
	// The audit log: every call above, by name, and paging.
	var audit []wan.OperatorAuditEntry
	s.do(alice, "GET", "/v1/operator/audit", nil, &audit)
	seen := map[string]bool{}
	for _, e := range audit {
		if e.Action == "operator-call" {
			seen[e.Actor+" "+e.Detail] = true
		}
	}
	for _, want := range []string{"operator alice GET /v1/operator/meters", "operator bob POST /v1/operator/tree-head", "operator alice POST /v1/operator/meters/" + meter + "/supplier",
		fmt.Sprintf("operator bob POST /v1/operator/alarms/%d/ack", alarms[0].ID), "operator alice GET /v1/operator/alarms?open=true"} {
		if !seen[want] {
			t.Errorf("audit log lacks %q", want)
		}
	}
	var page []wan.OperatorAuditEntry
	if s.do(alice, "GET", fmt.Sprintf("/v1/operator/audit?after=%d&limit=2", audit[1].Seq), nil, &page); len(page) != 2 || page[0].Seq != audit[2].Seq {
		t.Fatalf("audit page: %+v", page)
	}
}

// TestOperatorConcurrentApprovals: of many approvals of one command at
// once, by different operators, exactly one has it signed; the others are
// conflicts, and one counter is used.
func TestOperatorConcurrentApprovals(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	alice, _ := operators(t, f)
	var c wan.OperatorCommand
	if code, _ := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: fmt.Sprintf("%x", f.meter[:]), Kind: "key-rotation"}, &c); code != http.StatusCreated {
		t.Fatal(code)
	}
	const n = 8
	codes := make(chan int, n)
	for i := range n {
		approver := f.tlsCert(t, f.subs["head-end-operator"], fmt.Sprintf("operator %d", i), protocol.RoleHeadEnd)
		go func() {
			code, _ := s.do(approver, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, nil)
			codes <- code
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-codes]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("answers to %d concurrent approvals: %v, want one 200 and the rest 409", n, count)
	}
	if issued, err := f.store.commandCounter(f.meter); err != nil || issued != 1 {
		t.Fatalf("command counter after the approvals: %d %v, want 1", issued, err)
	}
}

// TestGatewayPicksUpReadyCommands: a command two operators made ready is
// served to the gateway that forwarded its meter's data, to no other
// gateway and to no operator; the gateway's report of the meter's answer
// moves it to relayed (or failed, with the reason) once.
func TestGatewayPicksUpReadyCommands(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, bob := operators(t, f)
	gw1 := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	gw2 := f.tlsCert(t, f.subs["gateway-operator"], "gw-2", protocol.RoleGateway)
	if _, err := f.he.Ingest(context.Background(), "gw-1", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	meter := fmt.Sprintf("%x", f.meter[:])
	ready := func(kind string) wan.OperatorCommand {
		var c wan.OperatorCommand
		if code, oe := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: kind}, &c); code != http.StatusCreated {
			t.Fatalf("request: %d %+v", code, oe)
		}
		if code, oe := s.do(bob, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, &c); code != http.StatusOK {
			t.Fatalf("approve: %d %+v", code, oe)
		}
		return c
	}
	c1, c2 := ready("reconnect"), ready("key-rotation")
	var got []wan.GatewayCommand
	if s.do(gw2, "GET", "/v1/gateway/commands", nil, &got); len(got) != 0 {
		t.Fatalf("another gateway is given %+v", got)
	}
	if code, oe := s.do(alice, "GET", "/v1/gateway/commands", nil, nil); code != http.StatusForbidden || oe.Class != wan.ClassForbidden {
		t.Fatalf("an operator on the gateway route: %d %+v", code, oe)
	}
	if s.do(gw1, "GET", "/v1/gateway/commands", nil, &got); len(got) != 2 || got[0].ID != c1.ID || got[0].Signed != c1.Signed || got[1].ID != c2.ID {
		t.Fatalf("the meter's gateway is given %+v", got)
	}
	if code, oe := s.do(gw2, "POST", fmt.Sprintf("/v1/gateway/commands/%d/result", c1.ID), wan.CommandResult{OK: true}, nil); code != http.StatusNotFound {
		t.Fatalf("another gateway reporting: %d %+v", code, oe)
	}
	var c wan.OperatorCommand
	if code, oe := s.do(gw1, "POST", fmt.Sprintf("/v1/gateway/commands/%d/result", c1.ID), wan.CommandResult{OK: true}, &c); code != http.StatusOK || c.Status != wan.CommandRelayed {
		t.Fatalf("report: %d %+v %+v", code, oe, c)
	}
	if code, oe := s.do(gw1, "POST", fmt.Sprintf("/v1/gateway/commands/%d/result", c1.ID), wan.CommandResult{OK: false, Error: "late"}, nil); code != http.StatusConflict {
		t.Fatalf("a second report: %d %+v", code, oe)
	}
	if code, oe := s.do(gw1, "POST", fmt.Sprintf("/v1/gateway/commands/%d/result", c2.ID), wan.CommandResult{Error: "meter refused: no session"}, &c); code != http.StatusOK || c.Status != wan.CommandFailed || c.Reason != "meter refused: no session" {
		t.Fatalf("a failure report: %d %+v %+v", code, oe, c)
	}
	if s.do(gw1, "GET", "/v1/gateway/commands", nil, &got); len(got) != 0 {
		t.Fatalf("after the reports: %+v", got)
	}
	var relayed []wan.OperatorCommand
	if s.do(alice, "GET", "/v1/operator/commands?status=relayed", nil, &relayed); len(relayed) != 1 || relayed[0].ID != c1.ID {
		t.Fatalf("relayed: %+v", relayed)
	}
}

// TestOperatorStaleClaim: a command whose approving head-end died between
// its claim and its signature stays "signing"; an approval within
// staleClaim is a conflict, one after it takes the command over and signs
// it.
func TestOperatorStaleClaim(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := approver{Name: "operator alice", Cert: f.alice.Cert}
	c, err := f.he.requestCommand(ctx, alice, wan.CommandRequest{Meter: fmt.Sprintf("%x", f.meter[:]), Kind: "reconnect"})
	if err != nil {
		t.Fatal(err)
	}
	// The claim of a head-end that then died.
	if err := f.store.claimOperatorCommand(ctx, c.ID, "operator bob", f.now); err != nil {
		t.Fatal(err)
	}
	carol := approver{Name: "operator carol", Cert: f.carol.Cert}
	f.now = f.now.Add(staleClaim / 2)
	if _, err := f.he.approveCommand(ctx, c.ID, carol); !errors.Is(err, ErrCommandState) {
		t.Fatalf("approval while the claim is fresh: %v, want ErrCommandState", err)
	}
	f.now = f.now.Add(staleClaim)
	got, err := f.he.approveCommand(ctx, c.ID, carol)
	if err != nil || got.Status != wan.CommandReady || got.ApprovedBy != "operator carol" || got.Counter != 1 {
		t.Fatalf("approval after a stale claim: %+v %v", got, err)
	}
}

// BenchmarkOperatorRequestApprove is one command through the four-eyes
// workflow over the handler (no TLS): the request, the approval with its
// signature, each with its audit entries and transactions.
func BenchmarkOperatorRequestApprove(b *testing.B) {
	f := newFixture(b)
	h := f.he.handler()
	as := func(c *x509.Certificate, method, path string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	req := []byte(fmt.Sprintf(`{"meter":"%x","kind":"key-rotation"}`, f.meter[:]))
	b.ReportAllocs()
	for b.Loop() {
		w := as(f.alice.Cert, "POST", "/v1/operator/commands", req)
		var c wan.OperatorCommand
		if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &c) != nil {
			b.Fatalf("request: %d %s", w.Code, w.Body)
		}
		if w := as(f.bob.Cert, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil); w.Code != http.StatusOK {
			b.Fatalf("approve: %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkOperatorMeters is the inventory of one meter over the handler.
func BenchmarkOperatorMeters(b *testing.B) {
	f := newFixture(b)
	if _, err := f.he.Ingest(context.Background(), "gw-1", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(b, 1, 0)}}); err != nil {
		b.Fatal(err)
	}
	h := f.he.handler()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/v1/operator/meters", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{f.alice.Cert}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// TestOperatorWakeUp: an operator's wake-up for a gateway is signed with
// the head-end's command key for that gateway, a wake-up command a
// gateway verifies, its counter one above the previous wake-up's; it is
// audited; a malformed gateway title is a 400 and a grid operator's
// certificate a 403.
func TestOperatorWakeUp(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	alice, _ := operators(t, f)
	gw := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 3}
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		if !bytes.Equal(kid, protocol.SubjectKeyID(&f.he.cfg.Key.PublicKey)) {
			return nil, nil, errors.New("unknown signer")
		}
		return &f.he.cfg.Key.PublicKey, func(k protocol.CommandKind) bool { return k == protocol.CmdWakeUp }, nil
	}
	for want := uint64(1); want <= 2; want++ {
		var w wan.OperatorWakeUp
		if code, oe := s.do(alice, "POST", "/v1/operator/gateways/"+hex.EncodeToString(gw[:])+"/wake-up", nil, &w); code != http.StatusCreated {
			t.Fatalf("wake-up: %d %+v", code, oe)
		}
		signed, err := base64.StdEncoding.DecodeString(w.Signed)
		if err != nil {
			t.Fatal(err)
		}
		c, err := protocol.VerifyCommand(signed, gw, keys)
		if err != nil || c.Kind != protocol.CmdWakeUp || c.Counter != want || w.Counter != want || w.Gateway != hex.EncodeToString(gw[:]) {
			t.Fatalf("wake-up %d: %+v, command %+v, %v", want, w, c, err)
		}
	}
	if code, oe := s.do(alice, "POST", "/v1/operator/gateways/56475700/wake-up", nil, nil); code != http.StatusBadRequest || oe.Class != wan.ClassBadRequest {
		t.Fatalf("short gateway title: %d %+v, want 400", code, oe)
	}
	grid := f.tlsCert(t, f.subs["market-participant"], "grid op", protocol.RoleGridOperator)
	if code, _ := s.do(grid, "POST", "/v1/operator/gateways/"+hex.EncodeToString(gw[:])+"/wake-up", nil, nil); code != http.StatusForbidden {
		t.Fatalf("grid operator's wake-up: %d, want 403", code)
	}
	log, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	var issued int
	for _, e := range log {
		if e.Action == "command" && strings.Contains(e.Detail, fmt.Sprintf("kind %d meter %x", protocol.CmdWakeUp, gw)) {
			issued++
		}
	}
	if issued != 2 {
		t.Fatalf("%d wake-ups in the audit log, want 2", issued)
	}
}

// TestOperatorChangeThroughTheAPI: an operator change (kind trust-list)
// carries the list the trust-list signer signed from the request, where
// its version is shown, through the second operator's approval into the
// signed command, byte for byte; a list that does not parse, one for
// another meter, a list on another kind and a trust-list request without
// one are refused as bad input (400) and store nothing.
func TestOperatorChangeThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, bob := operators(t, f)
	meter := hex.EncodeToString(f.meter[:])
	signer := key(t)
	sign := func(tl protocol.TrustList) string {
		b, err := protocol.SignTrustList(tl, signer, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	spki, err := x509.MarshalPKIXPublicKey(&f.he.cfg.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	list := sign(protocol.TrustList{Version: 2, Meter: f.meter, Entries: []protocol.TrustEntry{{Role: protocol.RoleHeadEnd, SPKI: spki}}})
	for name, req := range map[string]wan.CommandRequest{
		"not a list":           {Meter: meter, Kind: "trust-list", TrustList: base64.StdEncoding.EncodeToString([]byte("not a list"))},
		"not base64":           {Meter: meter, Kind: "trust-list", TrustList: "%%%"},
		"no list":              {Meter: meter, Kind: "trust-list"},
		"another meter's list": {Meter: meter, Kind: "trust-list", TrustList: sign(protocol.TrustList{Version: 2, Meter: protocol.SystemTitle{1, 2, 3, 4, 5, 6, 7, 8}})},
		"a list on a tariff":   {Meter: meter, Kind: "tariff", Tariff: 1, TrustList: list},
	} {
		if code, oe := s.do(alice, "POST", "/v1/operator/commands", req, nil); code != http.StatusBadRequest || oe.Class != wan.ClassBadRequest {
			t.Errorf("%s: %d %+v, want 400 bad-request", name, code, oe)
		}
	}
	var pending []wan.OperatorCommand
	if s.do(bob, "GET", "/v1/operator/commands?status=pending", nil, &pending); len(pending) != 0 {
		t.Fatalf("refused requests stored: %+v", pending)
	}
	var c wan.OperatorCommand
	if code, oe := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "trust-list", TrustList: list}, &c); code != http.StatusCreated || c.Kind != "trust-list" || c.TrustListVersion != 2 {
		t.Fatalf("operator change: %d %+v %+v", code, oe, c)
	}
	var ready wan.OperatorCommand
	if code, oe := s.do(bob, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, &ready); code != http.StatusOK || ready.Status != wan.CommandReady || ready.TrustListVersion != 2 {
		t.Fatalf("approval: %d %+v %+v", code, oe, ready)
	}
	raw, _ := base64.StdEncoding.DecodeString(ready.Signed)
	cmd, err := protocol.VerifyCommand(raw, f.meter, func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return &f.he.cfg.Key.PublicKey, func(k protocol.CommandKind) bool { return k == protocol.CmdTrustList }, nil
	})
	want, _ := base64.StdEncoding.DecodeString(list)
	if err != nil || !bytes.Equal(cmd.Payload, want) {
		t.Fatalf("signed operator change: %+v %v", cmd, err)
	}
	if _, err := protocol.VerifyTrustList(cmd.Payload, &signer.PublicKey, f.meter, 1); err != nil {
		t.Fatalf("the relayed list no longer verifies: %v", err)
	}
}
