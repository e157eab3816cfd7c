package headend

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// What the head-end counts for its operators (the Prometheus collector of
// `verimeter headend serve -metrics` reads them): plain atomic counters, so
// the head-end package links no metrics library and a count costs one
// atomic add on the ingest path.

// ingestLatencyBounds are the upper bounds, in seconds, of the ingest
// latency histogram's buckets (request read to reply written): a batch of
// a few thousand interval values takes tens of milliseconds, a head-end
// under a group commit backlog seconds.
var ingestLatencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// latencyBuckets is len(ingestLatencyBounds)+1 (the +Inf bucket).
const latencyBuckets = 12

// stats are the head-end's live counters; nil when the head-end counts
// nothing (the benchmark's baseline).
type stats struct {
	batches, items, duplicates, intervals atomic.Uint64
	rejected                              [wan.NumRejectClasses]atomic.Uint64
	batchesRefused                        [wan.NumRejectClasses]atomic.Uint64
	tamperEvents, tamperRefused           atomic.Uint64
	fetches, fetchesRefused               atomic.Uint64
	storeErrors                           atomic.Uint64
	latency                               [latencyBuckets]atomic.Uint64 // per bucket of ingestLatencyBounds, +Inf last
	latencyCount, latencyNanos            atomic.Uint64
}

// Histogram is a snapshot of a latency histogram in the Prometheus model:
// Cumulative[i] observations took at most Bounds[i] seconds; Count in all,
// Sum seconds in all.
type Histogram struct {
	Bounds     []float64
	Cumulative []uint64
	Count      uint64
	Sum        float64
}

// Stats is a snapshot of the head-end's counters since it started, what its
// operators graph and alert on. Every field only grows.
type Stats struct {
	// Batches are the ingest batches acknowledged (durably committed).
	Batches uint64
	// Items are the new signed items stored, Duplicates the items resent
	// that were stored before, Intervals the interval values of the new
	// load-profile blocks.
	Items, Duplicates, Intervals uint64
	// Rejected counts refused items of acknowledged batches by class.
	Rejected [wan.NumRejectClasses]uint64
	// BatchesRefused counts batches refused whole (not decodable) by class.
	BatchesRefused [wan.NumRejectClasses]uint64
	// TamperEvents are the new tamper events stored (each raises an
	// alarm); TamperRefused the tamper events refused.
	TamperEvents, TamperRefused uint64
	// Fetches are the participants' fetches served, FetchesRefused those
	// refused (no valid certificate, no contract).
	Fetches, FetchesRefused uint64
	// StoreErrors are the operations (ingest, tamper ingest, fetch) that
	// failed in the database (ErrStore): a full disk, a lost connection.
	StoreErrors uint64
	// IngestLatency is the time from reading a batch's request to writing
	// its reply, for the batches answered over HTTP.
	IngestLatency Histogram
}

// Stats returns a snapshot of the counters. It is safe to call while the
// head-end serves (a metrics scrape); the fields are read one by one, so a
// batch being acknowledged may show in one and not yet in another.
func (h *HeadEnd) Stats() Stats {
	s := h.st
	if s == nil {
		return Stats{}
	}
	out := Stats{Batches: s.batches.Load(), Items: s.items.Load(), Duplicates: s.duplicates.Load(), Intervals: s.intervals.Load(),
		TamperEvents: s.tamperEvents.Load(), TamperRefused: s.tamperRefused.Load(),
		Fetches: s.fetches.Load(), FetchesRefused: s.fetchesRefused.Load(), StoreErrors: s.storeErrors.Load()}
	for i := range out.Rejected {
		out.Rejected[i] = s.rejected[i].Load()
		out.BatchesRefused[i] = s.batchesRefused[i].Load()
	}
	hist := Histogram{Bounds: ingestLatencyBounds, Cumulative: make([]uint64, len(ingestLatencyBounds))}
	var sum uint64
	for i := range ingestLatencyBounds {
		sum += s.latency[i].Load()
		hist.Cumulative[i] = sum
	}
	hist.Count = s.latencyCount.Load()
	hist.Sum = time.Duration(s.latencyNanos.Load()).Seconds()
	out.IngestLatency = hist
	return out
}

// LogSize is the number of leaves of the transparency log (every item
// stored) as this head-end's copy of it holds them: up to its last commit
// or tree head (with several head-ends on one PostgreSQL, the others'
// leaves since then show after its next one). It reads no database and
// waits at most for the commit under way, so an eager scraper does not
// slow ingest.
func (h *HeadEnd) LogSize(ctx context.Context) (uint64, error) {
	s := h.cfg.Store
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return s.tree.Size(), nil
}

// ingested counts an acknowledged batch.
func (s *stats) ingested(res wan.IngestResult, classes []wan.RejectClass) {
	if s == nil {
		return
	}
	s.batches.Add(1)
	s.items.Add(uint64(res.Stored))
	s.duplicates.Add(uint64(res.Duplicates))
	s.intervals.Add(uint64(res.Intervals))
	for _, c := range classes {
		s.rejected[c].Add(1)
	}
}

// refusedBatch counts a batch refused whole.
func (s *stats) refusedBatch(err error) {
	if s != nil {
		s.batchesRefused[wan.ClassOf(err)].Add(1)
	}
}

// answered records the latency of one ingest request.
func (s *stats) answered(d time.Duration) {
	if s == nil {
		return
	}
	i := 0
	for i < len(ingestLatencyBounds) && d.Seconds() > ingestLatencyBounds[i] {
		i++
	}
	s.latency[i].Add(1)
	s.latencyCount.Add(1)
	s.latencyNanos.Add(uint64(max(d, 0)))
}

// fetched counts a participant's fetch by its outcome.
func (s *stats) fetched(err error) {
	switch {
	case s == nil:
	case err == nil:
		s.fetches.Add(1)
	case errors.Is(err, ErrNotEntitled), errors.Is(err, ErrParticipant):
		s.fetchesRefused.Add(1)
	default:
		s.failed(err)
	}
}

// tampered counts the outcome of a tamper upload: new events stored,
// events refused, and a store failure.
func (s *stats) tampered(fresh, refused int, err error) {
	if s == nil {
		return
	}
	s.tamperEvents.Add(uint64(fresh))
	s.tamperRefused.Add(uint64(refused))
	s.failed(err)
}

// failed counts an operation that failed in the database.
func (s *stats) failed(err error) {
	if s != nil && errors.Is(err, ErrStore) {
		s.storeErrors.Add(1)
	}
}

// rejectClass is the class of an item Ingest refused: the head-end's own
// evidence rule, then the protocol error it wraps.
func rejectClass(err error) wan.RejectClass {
	if errors.Is(err, ErrLoggedAfterInvalidity) {
		return wan.RejectInvalidity
	}
	if errors.Is(err, ErrCounterReuse) {
		return wan.RejectReplay // a counter used again, with other content
	}
	return wan.ClassOf(err)
}
