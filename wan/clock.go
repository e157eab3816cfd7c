package wan

import "context"

// clockKey is the context key of the sender's Lamport time.
type clockKey struct{}

// WithClock returns ctx carrying the gateway's Lamport time of the steps
// that sent a batch (its Collection machines' Upload), so that the
// head-end's steps consuming the batch observe it (trace validation: a
// step orders after the steps it depends on). Only an in-process uplink
// carries it; over HTTP the head-end sees 0.
func WithClock(ctx context.Context, clock uint64) context.Context {
	return context.WithValue(ctx, clockKey{}, clock)
}

// ClockOf is the Lamport time ctx carries (WithClock), or 0.
func ClockOf(ctx context.Context) uint64 {
	c, _ := ctx.Value(clockKey{}).(uint64)
	return c
}
