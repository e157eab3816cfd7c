package headend

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/wan"
)

// The head-end's part of spec/Collection.tla. A spec "reading" r is one
// signed item of a meter (a load-profile block or an on-demand reading)
// named by its meter and its signed-data counter: [r |-> counter, signed
// |-> outcome]. The spec's stored is the data table, keyed by (meter,
// counter): the machine keeps no copy of it (@store). Ingest verifies the
// meter's signature before Step, the outcome is the event's i.signed, and
// the machine's Ingest decides what is stored and acknowledged; the batch
// commits durably before the gateway gets its answer (the acknowledgement).
// Events (spec/Tamper.tla) are not Collection items and do not step it.

// ErrUnsigned refuses an item whose meter's signature did not verify: the
// Collection machine's Ingest is not enabled for it (SignedByMeter(i)).
// The refusal wraps the verification's cause and the machine's
// *statemachine.GuardError.
var ErrUnsigned = errors.New("headend: item not signed by its meter")

// collectionMachine is the head-end's machine of spec/Collection.tla for
// one meter, kept only while steps are recorded (its state is empty: stored
// is the database).
type collectionMachine = statemachine.Instance[collectionState, collectionEvent, collectionOutput]

// signatureOutcome implements collectionCrypto: the signature was verified
// before Step (verify) and the outcome is the event's i.signed, which
// SignedByMeter reads as the spec defines it (SignedByMeter(i) == i.signed).
type signatureOutcome struct{}

// SignedByMeter is the outcome of the signature check the event carries.
func (signatureOutcome) SignedByMeter(i collectionItem) bool { return i.Signed }

// storedItems is the machine's @store stored: the data table, for the
// meter of the item being stepped. Ingest reads no stored element in a
// guard; StoredHas answers from the table for any caller that does.
type storedItems struct {
	s     *Store
	meter *protocol.SystemTitle
}

// StoredHas reports whether the item is in the data table (an unsigned
// item never is). A failed query answers false.
func (st storedItems) StoredHas(x collectionItem) bool {
	if !x.Signed || x.R < 0 {
		return false
	}
	var n int
	err := st.s.db.QueryRowContext(context.Background(), st.s.rebind(`SELECT COUNT(*) FROM data WHERE meter = ? AND counter = ?`), st.meter[:], x.R).Scan(&n)
	return err == nil && n > 0
}

// collectionItemOf is the spec's item for a verified (or refused) item:
// r is the signed-data counter (as claimed when the signature did not
// verify; 0 when no counter could be read).
func collectionItemOf(counter uint64, signed bool) collectionItem {
	if counter > math.MaxInt64 {
		counter = 0
	}
	return collectionItem{R: int64(counter), Signed: signed}
}

// collectionStep runs the machine's Ingest for one item of a batch: it
// returns nil when the machine stores and acknowledges it, and the
// refusal (ErrUnsigned wrapping the verification's cause and the guard)
// otherwise. Step is pure and allocates nothing: one call per item.
func collectionStep(p *collectionParams, out *collectionOutput, it collectionItem, cause error) error {
	err := p.Step(&collectionState{}, collectionEvent{Kind: collectionIngest, I: it}, out)
	if err == nil {
		if len(out.StoredAdd) != 1 || out.StoredAdd[0] != it {
			return fmt.Errorf("headend: Ingest of %v did not store it", it)
		}
		return nil
	}
	if cause == nil {
		return err
	}
	return fmt.Errorf("%w: %w (%w)", ErrUnsigned, cause, err)
}

// recordCollection records the Ingest steps of a committed batch, one per
// stored item, in collection/<meter>/headend (when Config.Trace is set):
// after the commit, as statemachine.Instance records a step after its
// persistence. Each step observes the gateway's time remote (the batch's
// wan.WithClock); it returns the latest time, which the answer carries.
func (h *HeadEnd) recordCollection(remote uint64, items []verified) (uint64, error) {
	if h.cfg.Trace == nil {
		return 0, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out collectionOutput
	var last uint64
	for i := range items {
		v := &items[i]
		if v.kind != wan.KindReading && v.kind != wan.KindBlock {
			continue
		}
		m, err := h.collection(v.meter)
		if err != nil {
			return 0, err
		}
		now, err := m.Apply(remote, collectionEvent{Kind: collectionIngest, I: collectionItemOf(v.counter, true)}, &out)
		if err != nil {
			return 0, err
		}
		last = max(last, now)
	}
	return last, nil
}

// collection returns the meter's recorded Collection machine. Called
// with h.mu held.
func (h *HeadEnd) collection(meter protocol.SystemTitle) (*collectionMachine, error) {
	if m, ok := h.colls[meter]; ok {
		return m, nil
	}
	rec, err := h.cfg.Trace.Recorder(fmt.Sprintf("collection/%x/headend", meter[:]))
	if err != nil {
		return nil, err
	}
	p := &collectionParams{Crypto: signatureOutcome{}, Store: storedItems{s: h.cfg.Store, meter: &meter}}
	m := &collectionMachine{Role: "headend", Name: "headend", Step: p.Step, State: p.Init(), Rec: rec,
		Action: func(o *collectionOutput) string { return o.Action }}
	m.Resume()
	if len(h.colls) >= h.cfg.commandMachines {
		for k := range h.colls { // any one: its state is in the store
			delete(h.colls, k)
			break
		}
	}
	h.colls[meter] = m
	return m, nil
}
