package headend

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestOnDemandReadThroughTheAPI: an operator's read request (UC3) is
// refused for a meter no gateway forwarded, and otherwise given to the
// gateway that forwarded the meter's newest item only. That gateway's
// report closes it only when the store holds the reading it names (a
// counter of no stored reading, or of a block, is refused and the request
// stays pending); the request then shows the reading's value, and a second
// report is a conflict. A meter's refusal closes a request as failed. Every
// answer is checked against openapi.json.
func TestOnDemandReadThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	validateAgainstOpenAPI(t, s)
	alice, _ := operators(t, f)
	gw1 := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	gw2 := f.tlsCert(t, f.subs["gateway-operator"], "gw-2", protocol.RoleGateway)
	meter := fmt.Sprintf("%x", f.meter[:])
	path := "/v1/operator/meters/" + meter + "/reads"
	if code, oe := s.do(alice, "POST", path, nil, nil); code != http.StatusNotFound || oe.Class != wan.ClassNotFound {
		t.Fatalf("a read of a meter no gateway forwarded: %d %+v", code, oe)
	}
	ctx := context.Background()
	if _, err := f.he.Ingest(ctx, "gw-1", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	var r wan.OperatorRead
	if code, oe := s.do(alice, "POST", path, nil, &r); code != http.StatusAccepted || r.Status != wan.ReadPending || r.RequestedBy != "operator alice" || r.Meter != meter {
		t.Fatalf("read request: %d %+v %+v", code, oe, r)
	}
	if code, oe := s.do(gw1, "POST", path, nil, nil); code != http.StatusForbidden {
		t.Fatalf("a gateway on the operator route: %d %+v", code, oe)
	}
	var got []wan.GatewayRead
	if s.do(gw2, "GET", wan.GatewayReadsPath, nil, &got); len(got) != 0 {
		t.Fatalf("another gateway is given %+v", got)
	}
	if s.do(gw1, "GET", wan.GatewayReadsPath, nil, &got); len(got) != 1 || got[0].ID != r.ID || got[0].Meter != meter {
		t.Fatalf("the meter's gateway is given %+v", got)
	}
	result := fmt.Sprintf("%s/%d/result", wan.GatewayReadsPath, r.ID)
	// Reports naming no stored reading: the reading was never forwarded,
	// the counter is a block's, or the report is empty or both at once.
	for _, bad := range []struct {
		res  wan.ReadResult
		code int
	}{{wan.ReadResult{Counter: 2}, http.StatusNotFound}, {wan.ReadResult{Counter: 1}, http.StatusNotFound},
		{wan.ReadResult{}, http.StatusBadRequest}, {wan.ReadResult{Counter: 2, Error: "x"}, http.StatusBadRequest}} {
		if code, oe := s.do(gw1, "POST", result, bad.res, nil); code != bad.code {
			t.Fatalf("report %+v: %d %+v, want %d", bad.res, code, oe, bad.code)
		}
	}
	reading, err := f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: 2, Time: f.t0.Unix() + 60, OBIS: protocol.ActiveEnergyImport, Value: 4242})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := f.he.Ingest(ctx, "gw-1", []wan.Item{{Kind: wan.KindReading, Raw: reading}}); err != nil || res.Stored != 1 {
		t.Fatalf("ingest of the reading: %+v %v", res, err)
	}
	if code, oe := s.do(gw2, "POST", result, wan.ReadResult{Counter: 2}, nil); code != http.StatusNotFound {
		t.Fatalf("another gateway reporting: %d %+v", code, oe)
	}
	if code, oe := s.do(gw1, "POST", result, wan.ReadResult{Counter: 2}, &r); code != http.StatusOK || r.Status != wan.ReadDone || r.Counter != 2 || r.Wh != 4242 || r.Gateway != "gw-1" {
		t.Fatalf("report: %d %+v %+v", code, oe, r)
	}
	if code, oe := s.do(gw1, "POST", result, wan.ReadResult{Counter: 2}, nil); code != http.StatusConflict || oe.Class != wan.ClassConflict {
		t.Fatalf("a second report: %d %+v", code, oe)
	}
	if s.do(alice, "GET", fmt.Sprintf("/v1/operator/reads/%d", r.ID), nil, &r); r.Status != wan.ReadDone || r.Wh != 4242 {
		t.Fatalf("the request after the report: %+v", r)
	}
	if s.do(gw1, "GET", wan.GatewayReadsPath, nil, &got); len(got) != 0 {
		t.Fatalf("after the report: %+v", got)
	}
	// A meter's refusal.
	s.do(alice, "POST", path, nil, &r)
	if code, oe := s.do(gw1, "POST", fmt.Sprintf("%s/%d/result", wan.GatewayReadsPath, r.ID), wan.ReadResult{Error: "meter refused: busy"}, &r); code != http.StatusOK || r.Status != wan.ReadFailed || r.Reason != "meter refused: busy" {
		t.Fatalf("a failure report: %d %+v %+v", code, oe, r)
	}
	if code, _ := s.do(alice, "GET", "/v1/operator/reads/999", nil, nil); code != http.StatusNotFound {
		t.Fatalf("an unknown read: %d", code)
	}
	log, err := f.he.cfg.Store.auditPage(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		if e.Action == "read-requested" || e.Action == "read-done" || e.Action == "read-failed" {
			actions = append(actions, e.Actor+" "+e.Action)
		}
	}
	if want := fmt.Sprint([]string{"operator alice read-requested", "gw-1 read-done", "operator alice read-requested", "gw-1 read-failed"}); fmt.Sprint(actions) != want {
		t.Fatalf("audit: %v, want %v", actions, want)
	}
}
