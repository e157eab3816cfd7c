package headend

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// The evidence half of spec/Market.tla: Ingest (what the head-end accepts
// and logs), PublishCRL (the CRL of a meter's key reaching the head-end)
// and Serve (a stored item handed out as evidence), each decided by the
// generated Market machine.
//
// Time. The spec's slots for a log time (an entry's at, the head-end's
// now) are those of market.go, with Invalid from the key's invalidity date
// once the head-end knows it (marketSlotOf). A reading's claimed slot t is
// the key holder's word; it is the slot of its signing time, never after
// the log's. The spec's signer (r.by) is what the head-end can say of the
// key: "thief" for what the log records from the invalidity date on (from
// then on whoever stole the key may have signed it, and the spec's thief
// signs only from then on), "meter" before.
//
// Stores. accepted and logged are the data table (its rows, with their
// signing and ingest times) and the transparency log, which holds each
// stored item once. The head-end reads the rows a step needs before Step
// (marketRow): Serve's e \in accepted is the row just read; Ingest's
// r \notin logged is the table's set union at commit (ON CONFLICT DO
// NOTHING answers a duplicate as already stored), as Collection's stored.
// crlKnown is the market_crl table, one row per meter.

// ErrNotEvidence refuses to hand out a stored item as evidence: the Market
// machine's Serve is not enabled for it. The CRL of its meter's key is
// known and the log recorded the item at or after the key's invalidity
// date, so whoever stole the key may have signed it, whatever time it
// claims. It wraps the machine's *statemachine.GuardError.
var ErrNotEvidence = errors.New("headend: logged at or after the key's invalidity date, not evidence")

// marketSlotOf is the spec's slot of a log time ts (Unix seconds) for a
// meter whose supplier switch is at sw (0: none) and whose key's
// invalidity date inv the head-end knows when known is set.
func marketSlotOf(ts, sw, inv int64, known bool) int64 {
	switch {
	case known && ts >= inv:
		return marketInvalid
	case sw != 0 && ts >= sw:
		return marketSlotAfter
	}
	return marketSlotBefore
}

// marketSigner is the spec's signer of an item the log records at ts.
func marketSigner(ts, inv int64, known bool) string {
	if known && ts >= inv {
		return "thief"
	}
	return "meter"
}

// marketEntryOf is the spec's accepted entry of a stored item signed
// (claimed) at signedAt and logged at loggedAt.
func marketEntryOf(signedAt, loggedAt, sw, inv int64, known bool) marketEntry {
	at := marketSlotOf(loggedAt, sw, inv, known)
	t, by := min(marketSlotOf(signedAt, sw, 0, false), at), marketSigner(loggedAt, inv, known)
	return marketEntry{T: t, By: by, K: marketKey1, C: marketCounter(t, by), At: at}
}

// marketRow implements marketStore for one step the head-end decides on
// rows it read before Step: accepted holds the stored item the step is
// about (when its row was read), logged nothing the step's reading could
// duplicate (the data table's set union decides that at commit).
type marketRow struct {
	entry  marketEntry
	stored bool
}

// AcceptedHas is the @store accepted: the row read for the step.
func (r *marketRow) AcceptedHas(x marketEntry) bool { return r.stored && x == r.entry }

// LoggedHas is the @store logged: the log holds each item once, which the
// data table's key enforces at commit.
func (r *marketRow) LoggedHas(marketReading) bool { return false }

// CountedHas is the @store counted: the data table's key (meter, counter)
// decides at commit (a different item under a stored counter is refused
// with ErrCounterReuse and flagged, the stored one kept).
func (r *marketRow) CountedHas(int64) bool { return false }

// FlaggedHas is the @store flagged, which only Conflict reads.
func (r *marketRow) FlaggedHas(int64) bool { return false }

// ServedHas is the @store served, which Ingest and Serve do not read.
func (r *marketRow) ServedHas(marketServed) bool { return false }

// marketIngest runs the Market machine's Ingest for a verified signed item
// (a reading, a block or an event) that reaches the log at `at`: nil when the machine accepts it,
// ErrLoggedAfterInvalidity wrapping the guard when it refuses. The state
// is the head-end's for the meter at that time: its clock's slot and
// crlKnown (marketCRL, which steps PublishCRL first when it is due). Ingest
// reads no supplier switch, so the step needs no contracts. p's Store is
// row; Step allocates nothing.
func (h *HeadEnd) marketIngest(ctx context.Context, p *marketParams, out *marketOutput, v *verified, at time.Time) error {
	known, inv, err := h.marketCRL(ctx, v.meter, at)
	if err != nil {
		return err
	}
	ts, iv := at.Unix(), inv.Unix()
	s := marketState{Now: marketSlotOf(ts, 0, iv, known), CrlKnown: known}
	s.Switched = s.Now >= marketSlotAfter
	by := marketSigner(ts, iv, known)
	err = p.Step(&s, marketEvent{Kind: marketIngest, R: marketReading{T: marketSlotBefore, By: by, K: marketKey1, C: marketCounter(marketSlotBefore, by)}}, out)
	if err == nil {
		return nil
	}
	var g *statemachine.GuardError
	if !errors.As(err, &g) {
		return err
	}
	return fmt.Errorf("%w: meter %x item %d claims %s, reaches the log at %s, key invalid since %s (%w)", ErrLoggedAfterInvalidity, v.meter, v.counter,
		time.Unix(v.signedAt, 0).UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339), inv.UTC().Format(time.RFC3339), err)
}

// marketServe runs the Market machine's Serve for a stored item of meter,
// read with its signing and ingest times, at the head-end's time now: nil
// when the machine serves it, ErrNotEvidence wrapping the guard otherwise.
// Serve changes no state the head-end keeps (its only effect is on a
// history variable of the spec), so it is decided on the meter's state
// and not recorded.
func (h *HeadEnd) marketServe(ctx context.Context, meter protocol.SystemTitle, counter uint64, signedAt, ingestedAt int64, now time.Time) error {
	known, inv, err := h.marketCRL(ctx, meter, now)
	if err != nil {
		return err
	}
	iv := inv.Unix()
	row := &marketRow{entry: marketEntryOf(signedAt, ingestedAt, 0, iv, known), stored: true}
	p := marketParams{Switch: marketSlotAfter, Invalid: marketInvalid, Rotate: marketNoRotation, Store: row}
	s := marketState{Now: marketSlotOf(now.Unix(), 0, iv, known), CrlKnown: known}
	s.Switched = s.Now >= marketSlotAfter
	var out marketOutput
	if err := p.Step(&s, marketEvent{Kind: marketServe, E: row.entry}, &out); err != nil {
		return fmt.Errorf("%w: meter %x item %d logged at %s, key invalid since %s (%w)", ErrNotEvidence, meter, counter,
			time.Unix(ingestedAt, 0).UTC().Format(time.RFC3339), inv.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// marketCRL returns the head-end's crlKnown for the meter at time at and
// the key's invalidity date. When the meters' directory names one at or
// before at and the head-end has not taken PublishCRL for the meter, the
// meter's Market machine takes it now: its Persist writes market_crl
// before the step counts. A meter whose key has no invalidity date costs
// no lock and no query (the directory remembers it).
func (h *HeadEnd) marketCRL(ctx context.Context, meter protocol.SystemTitle, at time.Time) (bool, time.Time, error) {
	inv, found, err := h.cfg.Meters.InvalidFrom(meter)
	if err != nil || !found {
		return false, inv, err
	}
	mk := &h.market
	mk.mu.Lock()
	defer mk.mu.Unlock()
	if err := h.loadMarketCRLs(ctx); err != nil {
		return false, inv, err
	}
	if _, ok := mk.crl[meter]; ok {
		return true, inv, nil
	}
	if at.Before(inv) {
		return false, inv, nil // PublishCRL is not enabled before the date (now >= Invalid)
	}
	sw, err := h.cfg.Store.supplierSwitch(ctx, meter)
	if err != nil {
		return false, inv, err
	}
	m, err := h.marketMachine(ctx, marketKey{meter, sw.at})
	if err != nil {
		return false, inv, err
	}
	if err := h.marketPublishCRL(m); err != nil {
		return false, inv, err
	}
	return true, inv, nil
}

// marketPublishCRL brings the machine's clock to the invalidity date's slot
// and takes PublishCRL. Called with h.market.mu held.
func (h *HeadEnd) marketPublishCRL(m *marketMachine) error {
	mk := &h.market
	if err := mk.tickTo(m, marketInvalid); err != nil {
		return err
	}
	_, err := m.Apply(0, marketEvent{Kind: marketCrl}, &mk.out)
	return err
}

// tickTo steps Tick until the machine's clock is at slot (never back).
// Called with mk.mu held.
func (mk *markets) tickTo(m *marketMachine, slot int64) error {
	for m.State.Now < slot {
		if _, err := m.Apply(0, marketEvent{Kind: marketTick}, &mk.out); err != nil {
			return err
		}
	}
	return nil
}

// loadMarketCRLs reads the market_crl table once per process: the meters
// whose PublishCRL the head-end took. Called with h.market.mu held.
func (h *HeadEnd) loadMarketCRLs(ctx context.Context) error {
	mk := &h.market
	if mk.crl != nil {
		return nil
	}
	crl, err := h.cfg.Store.marketCRLs(ctx)
	if err != nil {
		return err
	}
	mk.crl = crl
	return nil
}

// recordMarket records the Market Ingest steps of a committed batch, one
// per stored item whose spec reading (slot, signer) the
// meter's machine has not logged yet (a further item of the same slot and
// signer is the same reading of the spec, a stutter), in
// market/<meter>[-<switch>]/headend (when Config.Trace is set): after the
// commit, as recordCollection. The machine's clock is brought to the log
// time's slot first.
func (h *HeadEnd) recordMarket(ctx context.Context, items []verified, at time.Time) error {
	if h.cfg.Trace == nil {
		return nil
	}
	switches := map[protocol.SystemTitle]supplierSwitch{}
	for i := range items {
		v := &items[i]
		known, inv, err := h.marketCRL(ctx, v.meter, at)
		if err != nil {
			return err
		}
		sw, ok := switches[v.meter]
		if !ok {
			if sw, err = h.cfg.Store.supplierSwitch(ctx, v.meter); err != nil {
				return err
			}
			switches[v.meter] = sw
		}
		if err := h.recordMarketIngest(ctx, v, sw.at, inv.Unix(), known, at.Unix()); err != nil {
			return err
		}
	}
	return nil
}

// recordMarketIngest takes Ingest for one stored item on the meter's
// recorded machine.
func (h *HeadEnd) recordMarketIngest(ctx context.Context, v *verified, sw, inv int64, known bool, at int64) error {
	mk := &h.market
	mk.mu.Lock()
	defer mk.mu.Unlock()
	m, err := h.marketMachine(ctx, marketKey{v.meter, sw})
	if err != nil {
		return err
	}
	if err := mk.tickTo(m, marketSlotOf(at, sw, inv, known)); err != nil {
		return err
	}
	e := marketEntryOf(v.signedAt, at, sw, inv, known)
	t := min(e.T, m.State.Now)
	r := marketReading{T: t, By: e.By, K: e.K, C: marketCounter(t, e.By)}
	for _, x := range m.State.Logged {
		if x == r {
			return nil
		}
	}
	_, err = m.Apply(0, marketEvent{Kind: marketIngest, R: r}, &mk.out)
	return err
}

// LearnCRL gives the head-end a CRL published while it runs (a CA's newer
// CRL): the validator of participants' and approvers' certificates and the
// meters' directory take it, and for each meter whose signing key it names
// invalid the meter's Market machine takes PublishCRL (persisted in
// market_crl) once the head-end's clock has reached the invalidity date.
// From then on what the log records from that date on is refused at
// ingest, and what it recorded from that date on is no longer served as
// evidence, items stored before the CRL arrived included (DESIGN.md S8).
// It returns the number of meters whose CRL became known.
func (h *HeadEnd) LearnCRL(ctx context.Context, crl *x509.RevocationList) (int, error) {
	if h.cfg.Validator != nil {
		if err := h.cfg.Validator.AddCRL(crl); err != nil {
			return 0, err
		}
	}
	meters, err := h.cfg.Meters.AddCRL(crl)
	if err != nil {
		return 0, err
	}
	now := h.cfg.Now()
	n := 0
	for _, m := range meters {
		known, _, err := h.marketCRL(ctx, m, now)
		if err != nil {
			return n, err
		}
		if known {
			n++
		}
	}
	if err := h.cfg.Store.appendAudit(now, "head-end", "crl", fmt.Sprintf("CRL %v of %s: %d meter keys newly invalid, %d known", crl.Number, crl.Issuer.CommonName, len(meters), n)); err != nil {
		return n, err
	}
	return n, nil
}

// marketCRLs reads the market_crl table: the meters whose Market machine
// took PublishCRL, with the invalidity date it named.
func (s *Store) marketCRLs(ctx context.Context) (out map[protocol.SystemTitle]int64, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT meter, invalid_from FROM market_crl`)
	if err != nil {
		return nil, storeErr("market_crl", err)
	}
	defer closeRows(rows, "market_crl", &err)
	out = map[protocol.SystemTitle]int64{}
	for rows.Next() {
		var b []byte
		var inv int64
		if err := rows.Scan(&b, &inv); err != nil {
			return nil, storeErr("market_crl", err)
		}
		var st protocol.SystemTitle
		if len(b) != len(st) {
			return nil, fmt.Errorf("%w: market_crl: meter of %d bytes", ErrStore, len(b))
		}
		copy(st[:], b)
		out[st] = inv
	}
	return out, rows.Err()
}

// saveMarketCRL writes a meter's crlKnown (PublishCRL's @persist).
func (s *Store) saveMarketCRL(ctx context.Context, meter protocol.SystemTitle, inv, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO market_crl (meter, invalid_from, known_at) VALUES (?,?,?) ON CONFLICT DO NOTHING`), meter[:], inv.Unix(), at.Unix()); err != nil {
		return storeErr("market_crl", err)
	}
	return nil
}

// itemTimes reads a stored item's signing and ingest times (Unix seconds).
func (s *Store) itemTimes(ctx context.Context, meter protocol.SystemTitle, counter uint64) (signedAt, ingestedAt int64, err error) {
	err = s.db.QueryRowContext(ctx, s.rebind(`SELECT signed_at, ingested_at FROM data WHERE meter = ? AND counter = ?`), meter[:], int64(counter)).Scan(&signedAt, &ingestedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("%w: meter %x item %d is not stored", ErrNotLogged, meter, counter)
	}
	if err != nil {
		return 0, 0, storeErr("data", err)
	}
	return signedAt, ingestedAt / int64(time.Second), nil // ingested_at is in nanoseconds
}
