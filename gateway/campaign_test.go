package gateway

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// firmwarePLC is a segment with one meter that accepts every firmware
// request except the manifest of campaign refuse.
type firmwarePLC struct {
	send     *protocol.Sender
	recv     *protocol.Receiver
	refuse   uint32
	requests int
}

func (f *firmwarePLC) Exchange(meter protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	f.requests++
	_, plain, err := f.recv.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	ans := protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}
	if p.Kind == protocol.PDUManifest && p.Campaign == f.refuse {
		ans.Status, ans.Detail = 1, "manifest rejected"
	}
	b, err := ans.Marshal()
	if err != nil {
		return nil, err
	}
	a, err := f.send.Seal(nil, protocol.TagDataNotification, b)
	return [][]byte{a}, err
}

func (f *firmwarePLC) Refused(protocol.SystemTitle) []error { return nil }

// campaignSource offers every campaign's meters until each reported, as
// the head-end does within a stage, and records the outcomes.
type campaignSource struct {
	offer    map[uint32][]string
	outcomes []wan.FirmwareOutcome
	asked    [][]protocol.SystemTitle
}

func (s *campaignSource) FirmwareWork(_ context.Context, _ string, meters []protocol.SystemTitle) ([]wan.FirmwareJob, error) {
	s.asked = append(s.asked, meters)
	var out []wan.FirmwareJob
	for id, ms := range s.offer {
		j := wan.FirmwareJob{Campaign: id, Manifest: []byte("manifest"), Image: []byte("image")}
		for _, m := range ms {
			if !slices.ContainsFunc(s.outcomes, func(o wan.FirmwareOutcome) bool { return o.Campaign == id && o.Meter == m }) {
				j.Meters = append(j.Meters, m)
			}
		}
		out = append(out, j)
	}
	return out, nil
}

func (s *campaignSource) FirmwareOutcome(_ context.Context, _ string, o wan.FirmwareOutcome) (bool, error) {
	s.outcomes = append(s.outcomes, o)
	return true, nil
}

// TestRunCampaignsReportsOutcomesOnly: a meter's install and a meter's
// refusal are reported once each; a meter the gateway cannot reach is not
// an outcome (not reported, so offered again later) and its error comes
// back; a meter of another gateway that the head-end names is not touched.
func TestRunCampaignsReportsOutcomesOnly(t *testing.T) {
	meter, absent, other, gwTitle := protocol.SystemTitle{'V', 'M', 'F', 1}, protocol.SystemTitle{'V', 'M', 'F', 2}, protocol.SystemTitle{'V', 'M', 'F', 3}, protocol.SystemTitle{'V', 'G', 'W', 4}
	mkeys, gkeys, _ := agreeKeys(t, meter, gwTitle)
	f := &firmwarePLC{refuse: 2}
	var err error
	if f.send, err = protocol.NewSender(mkeys, protocol.NewMemStore()); err != nil {
		t.Fatal(err)
	}
	if f.recv, err = protocol.NewReceiver(mkeys); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Name: "gw", Title: gwTitle, Segment: f})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	openSession(t, g, meter, gkeys)
	x := func(m protocol.SystemTitle) string { return hex.EncodeToString(m[:]) }
	src := &campaignSource{offer: map[uint32][]string{1: {x(meter), x(absent), x(other)}, 2: {x(meter)}}}
	var seen []CampaignResult
	n, err := g.RunCampaigns(context.Background(), src, []protocol.SystemTitle{meter, absent}, func(r CampaignResult) { seen = append(seen, r) })
	if !errors.Is(err, ErrNoSession) {
		t.Fatalf("the unreachable meter's error: %v", err)
	}
	slices.SortFunc(src.outcomes, func(a, b wan.FirmwareOutcome) int { return int(a.Campaign) - int(b.Campaign) })
	if n != 2 || len(seen) != 2 || len(src.outcomes) != 2 ||
		src.outcomes[0] != (wan.FirmwareOutcome{Campaign: 1, Meter: x(meter), Installed: true}) ||
		src.outcomes[1].Campaign != 2 || src.outcomes[1].Installed || src.outcomes[1].Detail == "" {
		t.Fatalf("%d reported: %+v", n, src.outcomes)
	}
	for _, a := range src.asked {
		if slices.Contains(a, other) {
			t.Fatalf("asked for another gateway's meter: %v", a)
		}
	}
}
