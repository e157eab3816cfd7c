package wan

import "context"

// clockKey is the context key of the sender's Lamport time.
type clockKey struct{}

// WithClock returns ctx carrying the gateway's Lamport time of the steps
// that sent a batch (its Collection machines' Upload), so that the
// head-end's steps consuming the batch observe it (trace validation: a
// step orders after the steps it depends on). Over HTTP it travels in the
// ClockHeader of the request, and the head-end's time in the reply's
// clock field.
func WithClock(ctx context.Context, clock uint64) context.Context {
	return context.WithValue(ctx, clockKey{}, clock)
}

// ClockOf is the Lamport time ctx carries (WithClock), or 0.
func ClockOf(ctx context.Context) uint64 {
	c, _ := ctx.Value(clockKey{}).(uint64)
	return c
}

// ClockHeader is the HTTP header that carries the gateway's Lamport time
// (WithClock) with a batch, so that the head-end's trace of a separate
// process orders its Ingest steps after the gateway's Upload steps. It is
// trace metadata only: no decision depends on it.
const ClockHeader = "Verimeter-Clock"
