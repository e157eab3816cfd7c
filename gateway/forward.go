package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// Backoff paces the gateway's attempts to reach the head-end after a WAN
// fault: the n-th consecutive failure waits a random time in [0, min(Max,
// Min·2ⁿ)] ("full jitter", so that many gateways cut off by the same outage
// do not all call back at the same instant), and every batch that goes
// through starts the series again. The zero value is usable.
type Backoff struct {
	// Min and Max bound the wait; 0 means 50 ms and 10 s.
	Min, Max time.Duration
	// attempt bounds one batch's request, answer included (0: only the
	// uplink's own bound). A half-open connection, which never answers and
	// never closes, ends with ErrWANDown after this long.
	attempt time.Duration
	// For bounds the whole forwarding: after this long with items still
	// queued Forward gives up with the last fault (0: until ctx ends).
	For time.Duration
	// rand draws the jitter (tests seed it); nil uses math/rand/v2's
	// global source.
	rand *rand.Rand
}

// ErrGaveUp marks a Forward that ran out of time (Backoff.For or its
// context) before the head-end committed everything queued. It wraps the
// last fault; every item not committed is still in the queue.
var ErrGaveUp = errors.New("gateway: gave up forwarding for now")

// retryable reports whether a failed Flush may simply be tried again: the
// WAN failed (connect, send, answer lost, timeout) or the head-end could
// not commit now. The head-end's ingest is idempotent on (meter, counter),
// so sending a batch again whose first answer was lost is a duplicate it
// recognises, never a second copy. A batch the head-end refused is not
// retryable.
func retryable(err error) bool {
	return errors.Is(err, ErrWANDown) || errors.Is(err, ErrHeadEndBusy)
}

// Forwarded is what a Forward did: the items the head-end committed, its
// counts, and the faults it rode out on the way.
type Forwarded struct {
	Items  int
	Result wan.IngestResult
	// Faults counts failed attempts that were retried.
	Faults int
}

// Forward sends the whole queue to the head-end like Flush (each batch
// acknowledged only after the head-end's commit reply), and after a
// retryable fault waits as b says and tries again, until the queue is empty,
// a fault is not retryable, or time runs out (ErrGaveUp). Nothing is ever
// acknowledged without a commit reply, so giving up loses nothing: the
// items stay queued for the next call.
func (g *Gateway) Forward(ctx context.Context, up Uplink, batch int, b Backoff) (Forwarded, error) {
	if b.Min <= 0 {
		b.Min = 50 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	if b.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.For)
		defer cancel()
	}
	if b.attempt > 0 {
		up = attemptUplink{up: up, d: b.attempt}
	}
	var f Forwarded
	failures := 0
	for {
		n, res, err := g.Flush(ctx, up, batch)
		f.Items += n
		f.Result.Stored += res.Stored
		f.Result.Duplicates += res.Duplicates
		f.Result.Intervals += res.Intervals
		f.Result.Rejected = append(f.Result.Rejected, res.Rejected...)
		if err == nil {
			return f, nil
		}
		if !retryable(err) {
			return f, err
		}
		if n > 0 {
			failures = 0 // progress: the head-end is there, start again small
		}
		if ctx.Err() != nil {
			return f, fmt.Errorf("%w: %d items still queued: %w", ErrGaveUp, g.queue.Len(), err)
		}
		f.Faults++
		wait := b.wait(failures)
		failures++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return f, fmt.Errorf("%w: %d items still queued: %w", ErrGaveUp, g.queue.Len(), err)
		case <-t.C:
		}
	}
}

// wait is the pause after the n-th consecutive failure (n from 0).
func (b Backoff) wait(n int) time.Duration {
	ceil := b.Max
	if n < 32 && b.Min<<n < b.Max && b.Min<<n > 0 {
		ceil = b.Min << n
	}
	if b.rand != nil {
		return time.Duration(b.rand.Int64N(int64(ceil) + 1))
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// attemptUplink bounds each Ingest by its own deadline.
type attemptUplink struct {
	up Uplink
	d  time.Duration
}

func (a attemptUplink) Ingest(ctx context.Context, gateway string, items []wan.Item) (wan.IngestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, a.d)
	defer cancel()
	return a.up.Ingest(ctx, gateway, items)
}
