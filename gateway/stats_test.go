package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestStatsCountUploads: a failed upload is counted and leaves the queue
// as it was; a committed one moves its items from the queue's depth to the
// acknowledged count, and the items the head-end refused are counted too.
func TestStatsCountUploads(t *testing.T) {
	g, _ := queuedGateway(t, 12)
	defer g.Close()
	if s := g.Stats(); s.QueueDepth != 12 || s.Uploaded != 0 {
		t.Fatalf("before any upload: %+v", s)
	}
	down := &fakeHeadEnd{stored: map[string]int{}, fault: func(int) (bool, error) { return false, fmt.Errorf("%w: reset", ErrWANDown) }}
	if _, _, err := g.Flush(context.Background(), down, 5); !errors.Is(err, ErrWANDown) {
		t.Fatalf("flush to a head-end that is down: %v", err)
	}
	if s := g.Stats(); s.QueueDepth != 12 || s.Uploaded != 5 || s.Acknowledged != 0 || s.UploadFailures != 1 {
		t.Fatalf("after a failed upload: %+v", s)
	}
	up := &refusingHeadEnd{fakeHeadEnd{stored: map[string]int{}}}
	if _, _, err := g.Flush(context.Background(), up, 5); err != nil {
		t.Fatal(err)
	}
	s := g.Stats()
	if s.QueueDepth != 0 || s.Uploaded != 17 || s.Acknowledged != 12 || s.UploadFailures != 1 || s.HeadEndRejected != 3 {
		t.Fatalf("after the queue was flushed: %+v (want depth 0, 17 uploaded, 12 acknowledged, 1 failure, 3 refused by the head-end)", s)
	}
}

// refusingHeadEnd commits a batch and refuses its first item.
type refusingHeadEnd struct{ fakeHeadEnd }

func (r *refusingHeadEnd) Ingest(ctx context.Context, gw string, items []wan.Item) (wan.IngestResult, error) {
	res, err := r.fakeHeadEnd.Ingest(ctx, gw, items)
	if err == nil {
		res.Stored--
		res.Rejected = []error{protocol.ErrBadSignature}
	}
	return res, err
}

// TestRefusalsByClass: each refusal is counted in its class, whatever the
// error wraps it in.
func TestRefusalsByClass(t *testing.T) {
	var r Refusals
	r.add(fmt.Errorf("open: %w", protocol.ErrReplay))
	r.add(fmt.Errorf("%w: acknowledgement: %w", ErrTamperRefused, protocol.ErrBadSignature))
	r.add(fmt.Errorf("%w: 3 beyond 8 dropped", plc.ErrTooManyAnswers))
	r.add(errors.New("something new"))
	c := r.ByClass()
	if r.Total() != 4 || c[wan.RejectReplay] != 1 || c[wan.RejectSignature] != 1 || c[wan.RejectCapacity] != 1 || c[wan.RejectOther] != 1 {
		t.Fatalf("%d refusals, by class %v", r.Total(), c)
	}
}

// TestPLCCountsAirtime: the link's counters take each frame's bytes and
// its airtime on the profile.
func TestPLCCountsAirtime(t *testing.T) {
	var c plcCounters
	f := plc.Frame{Dest: plc.ServerAddr(1, 17), Src: plc.Addr1(1), Control: 0x93}
	n := f.EncodedLen()
	c.count(plc.SFSK, &f, true)
	c.count(plc.SFSK, &f, false)
	s := c.snapshot()
	if s.FramesSent != 1 || s.FramesReceived != 1 || s.BytesSent != uint64(n) || s.BytesReceived != uint64(n) || s.Airtime != 2*plc.SFSK.Airtime(n) || s.Airtime <= 0 {
		t.Fatalf("%+v for two frames of %d bytes (airtime %s each)", s, n, plc.SFSK.Airtime(n))
	}
}
