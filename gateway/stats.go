package gateway

import (
	"sync/atomic"
	"time"

	"github.com/verimeter/verimeter/plc"
)

// What a gateway counts for its operators (the Prometheus collector of
// `verimeter gateway run -metrics` reads them): atomic counters, so the
// gateway links no metrics library (a device build stays small) and a
// scrape from another goroutine reads them while the owner drives the
// gateway.

// uploadStats count the batches a gateway uploads to the head-end.
type uploadStats struct {
	uploaded, acknowledged, uploadFailures, rejected atomic.Uint64
}

// Stats is a snapshot of a gateway's counters since it started. The counts
// only grow; QueueDepth goes up with collection and down with
// acknowledgements.
type Stats struct {
	// QueueDepth is the number of items in the store-and-forward queue not
	// yet acknowledged by the head-end.
	QueueDepth int
	// Uploaded are the items sent to the head-end (every attempt, a resend
	// after a WAN fault counted again); Acknowledged those the head-end
	// answered after its durable commit and that left the queue.
	Uploaded, Acknowledged uint64
	// UploadFailures are the batches whose upload failed (WAN down, head-end
	// busy or refusing, no answer): they stay queued.
	UploadFailures uint64
	// HeadEndRejected are the acknowledged items the head-end refused (an
	// item that does not verify is refused on every resend, so it leaves
	// the queue with its batch).
	HeadEndRejected uint64
}

// Stats returns a snapshot of the gateway's counters. It is safe to call
// from another goroutine while the gateway's owner drives it.
func (g *Gateway) Stats() Stats {
	return Stats{
		QueueDepth:      int(g.queue.depth.Load()),
		Uploaded:        g.stats.uploaded.Load(),
		Acknowledged:    g.stats.acknowledged.Load(),
		UploadFailures:  g.stats.uploadFailures.Load(),
		HeadEndRejected: g.stats.rejected.Load(),
	}
}

// PLCStats is what a gateway's PLC link carried since it started: HDLC
// frames and their bytes each way, and the airtime they take on the
// channel of the link's profile (plc.SFSK): PLC airtime is the
// segment's scarce resource (plc.Profile), and a meter that makes the
// gateway retransmit shows here first.
type PLCStats struct {
	FramesSent, FramesReceived uint64
	BytesSent, BytesReceived   uint64
	// Airtime is the channel time of the frames both ways, by
	// plc.Profile.Airtime (one hop, no repeaters).
	Airtime time.Duration
}

// plcCounters are a link's live counts (SocketPLC).
type plcCounters struct {
	framesSent, framesReceived, bytesSent, bytesReceived atomic.Uint64
	airtime                                              atomic.Int64
}

func (c *plcCounters) count(p plc.Profile, f *plc.Frame, sent bool) {
	n := f.EncodedLen()
	if sent {
		c.framesSent.Add(1)
		c.bytesSent.Add(uint64(n))
	} else {
		c.framesReceived.Add(1)
		c.bytesReceived.Add(uint64(n))
	}
	c.airtime.Add(int64(p.Airtime(n)))
}

func (c *plcCounters) snapshot() PLCStats {
	return PLCStats{FramesSent: c.framesSent.Load(), FramesReceived: c.framesReceived.Load(),
		BytesSent: c.bytesSent.Load(), BytesReceived: c.bytesReceived.Load(), Airtime: time.Duration(c.airtime.Load())}
}
