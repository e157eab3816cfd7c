package headend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// The head-end's part of spec/Market.tla: which slots of a meter's data a
// supplier is served (S5). The generated Market machine decides it, one
// machine per meter and supplier switch; the contracts table says who the
// spec's suppliers are.
//
// Time. The spec's slots are the meter's market epochs, not clock ticks:
//
//	slot 1         the meter's data before its (latest) supplier switch S
//	               (all of it when the meter has had no switch);
//	slot 2=Switch  the data from S on;
//	slot 3=Invalid from the meter key's invalidity date D, once the head-end
//	               knows the CRL that names it (a log time only: a
//	               reading's claimed slot is never after its log slot).
//
// now is the slot of the head-end's clock: 1 until the clock reaches S,
// when the head-end steps Tick (now' = 2, switched' = TRUE); that is the
// switch being recorded; 3 once the CRL is known (Tick, then PublishCRL). S is the valid_from of the newest supplier
// contract that begins where another supplier's contract ends (what
// Store.switchSupplier writes). Supplier "A" is the participant whose
// supplier contract ends at S (with no switch: any participant holding a
// supplier contract of the meter), "B" the one whose contract begins at S.
// A fetch by A or B steps Fetch(p, t) for each slot t its request
// [from, to) touches, and is served, within its contracts, exactly the
// slots whose Fetch the machine took. The served set (@store served) is
// the fetch's audit entry, which names the slots.
//
// Ingest, PublishCRL and Serve, the evidence half of the module, are in
// marketevidence.go. The @stores accepted, logged and counted are the data
// table, the transparency log and the data table's key (meter, counter);
// flagged is the audit log's counter-reuse entries (Conflict, decided by
// the data table's key at commit: ErrCounterReuse); the machine's recorded copy of them (for the
// trace only) holds the spec readings its Ingest steps took.

// Market slots and constants, as the comment above maps them.
const (
	marketSlotBefore = 1 // before the meter's supplier switch
	marketSlotAfter  = 2 // from the switch on (Switch)
	marketInvalid    = 3 // from the key's invalidity date (Invalid)
	// marketNoRotation is the spec's Rotate for a meter with one signing
	// key: the slot after the last, so that its key k1 is never retired.
	// The head-end holds one certificate per meter (protocol.MeterDirectory);
	// a rotated key is a meter's certificate replaced, not yet a second one
	// kept beside the first.
	marketNoRotation = marketInvalid + 1
	// marketKey1 is the spec's key of a meter's only certificate.
	marketKey1 = "k1"
)

// marketCounter is the spec's counter of a spec reading of slot t and
// signer by: the meter numbers its reading of slot t with t (Ingest's
// r.c = r.t), and the head-end numbers what the log records from the
// invalidity date on (the spec's thief) apart from them, so that two
// different spec readings never share a counter. The data table's key
// (meter, counter) decides a real counter's reuse at commit
// (ErrCounterReuse); the spec's counters only name the spec's readings.
func marketCounter(t int64, by string) int64 {
	if by == "thief" {
		return marketInvalid + t
	}
	return t
}

// marketTracedStore implements marketStore for a recorded machine: its
// recorded copies of the stores, which hold what its own steps added.
type marketTracedStore struct{ m **marketMachine }

// AcceptedHas is the @store accepted as the machine's steps added to it.
func (t marketTracedStore) AcceptedHas(x marketEntry) bool {
	return slices.Contains((*t.m).State.Accepted, x)
}

// LoggedHas is the @store logged as the machine's steps added to it.
func (t marketTracedStore) LoggedHas(x marketReading) bool {
	return slices.Contains((*t.m).State.Logged, x)
}

// CountedHas is the @store counted as the machine's steps added to it.
func (t marketTracedStore) CountedHas(x int64) bool {
	return slices.Contains((*t.m).State.Counted, x)
}

// FlaggedHas is the @store flagged as the machine's steps added to it.
func (t marketTracedStore) FlaggedHas(x int64) bool {
	return slices.Contains((*t.m).State.Flagged, x)
}

// ServedHas is the @store served as the machine's steps added to it.
func (t marketTracedStore) ServedHas(x marketServed) bool {
	return slices.Contains((*t.m).State.Served, x)
}

// marketTraced is a Market machine's state with its @stores as the spec
// names them, as its own steps added to them: trace validation reads the
// head-end's whole state of spec/Market.tla in each line.
type marketTraced struct {
	marketState
	Accepted []marketEntry   `json:"accepted"`
	Logged   []marketReading `json:"logged"`
	Counted  []int64         `json:"counted"`
	Flagged  []int64         `json:"flagged"`
	Served   []marketServed  `json:"served"`
}

// marketMachine is the Market machine of one meter and switch.
type marketMachine = statemachine.Instance[marketTraced, marketEvent, marketOutput]

// marketKey names a Market machine: the meter and its switch time (0: none).
type marketKey struct {
	meter protocol.SystemTitle
	at    int64
}

// markets holds the head-end's Market machines. Their state follows from
// the clock and the contracts table, so a machine dropped from the map is
// rebuilt on the meter's next fetch.
type markets struct {
	mu  sync.Mutex
	ms  map[marketKey]*marketMachine
	out marketOutput
	// crl is the market_crl table (crlKnown per meter, with the
	// invalidity date), read once (loadMarketCRLs) and kept with it.
	crl map[protocol.SystemTitle]int64
}

// supplierSwitch is what the contracts table says of a meter's latest
// supplier switch: its time (0 when none) and the suppliers before and
// after it.
type supplierSwitch struct {
	at         int64
	old, newer []string // A and B; with no switch, every supplier is A
}

// party is the spec's supplier a participant is for this switch: "A",
// "B", or "" when it is neither (another role, or a supplier of an
// earlier switch).
func (sw supplierSwitch) party(name string) string {
	switch {
	case slices.Contains(sw.old, name):
		return "A"
	case slices.Contains(sw.newer, name):
		return "B"
	}
	return ""
}

// slotSpan is the time a slot of the switch covers, [lo, hi).
func (sw supplierSwitch) slotSpan(t int64) [2]int64 {
	const inf = 1 << 62
	switch {
	case sw.at == 0:
		return [2]int64{-inf, inf}
	case t == marketSlotBefore:
		return [2]int64{-inf, sw.at}
	}
	return [2]int64{sw.at, inf}
}

// marketSlots steps the meter's Market machine for a fetch by supplier
// party over [from, to): Tick when the clock has reached the switch, then
// Fetch(party, t) for each slot the request touches. It returns the spans
// of the slots the machine served and their names for the audit entry.
func (h *HeadEnd) marketSlots(ctx context.Context, meter protocol.SystemTitle, sw supplierSwitch, party string, from, to int64) ([][2]int64, string, error) {
	now := h.cfg.Now()
	known, inv, err := h.marketCRL(ctx, meter, now)
	if err != nil {
		return nil, "", err
	}
	mk := &h.market
	mk.mu.Lock()
	defer mk.mu.Unlock()
	m, err := h.marketMachine(ctx, marketKey{meter, sw.at})
	if err != nil {
		return nil, "", err
	}
	if err := mk.tickTo(m, marketSlotOf(now.Unix(), sw.at, inv.Unix(), known)); err != nil {
		return nil, "", err
	}
	var spans [][2]int64
	var names []string
	slots := []int64{marketSlotBefore}
	if sw.at != 0 {
		slots = append(slots, marketSlotAfter)
	}
	for _, t := range slots {
		s := sw.slotSpan(t)
		if max(s[0], from) >= min(s[1], to) {
			continue
		}
		_, err := m.Apply(0, marketEvent{Kind: marketFetch, P: party, T: t}, &mk.out)
		if errors.Is(err, statemachine.ErrNotEnabled) {
			continue // not this supplier's slot (S5), or not yet (t > now)
		}
		if err != nil {
			return nil, "", err
		}
		spans = append(spans, s)
		names = append(names, fmt.Sprintf("%s%d", party, t))
	}
	return spans, strings.Join(names, ","), nil
}

// marketMachine returns the Market machine of a meter and switch. A new
// one whose meter's CRL the head-end knows (market_crl) takes PublishCRL
// again at once, as the spec's head-end that restarts with crlKnown
// persisted. Called with h.market.mu held.
func (h *HeadEnd) marketMachine(ctx context.Context, k marketKey) (*marketMachine, error) {
	mk := &h.market
	if m, ok := mk.ms[k]; ok {
		return m, nil
	}
	if err := h.loadMarketCRLs(ctx); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("market/%x/headend", k.meter[:])
	if k.at != 0 {
		name = fmt.Sprintf("market/%x-%d/headend", k.meter[:], k.at)
	}
	rec, err := h.cfg.Trace.Recorder(name)
	if err != nil {
		return nil, err
	}
	pctx := context.WithoutCancel(ctx) // Persist outlives the call that made the machine
	var m *marketMachine
	p := &marketParams{Switch: marketSlotAfter, Invalid: marketInvalid, Rotate: marketNoRotation, Store: marketTracedStore{&m}}
	traced := rec != nil
	m = &marketMachine{Role: "headend", Name: "headend", Rec: rec,
		State:  marketTraced{marketState: p.Init(), Accepted: []marketEntry{}, Logged: []marketReading{}, Counted: []int64{}, Flagged: []int64{}, Served: []marketServed{}},
		Step:   func(s *marketTraced, ev marketEvent, o *marketOutput) error { return p.Step(&s.marketState, ev, o) },
		Action: func(o *marketOutput) string { return o.Action },
		Persist: func(s *marketTraced, o *marketOutput) error {
			if len(o.AcceptedRemove)+len(o.LoggedRemove)+len(o.CountedRemove)+len(o.FlaggedRemove)+len(o.ServedRemove) > 0 ||
				o.AcceptedClear || o.LoggedClear || o.CountedClear || o.FlaggedClear || o.ServedClear {
				return fmt.Errorf("%w: Market step %s removes from a store, which the head-end never does", ErrStore, o.Action)
			}
			if o.Action == "PublishCRL" {
				inv, _, err := h.cfg.Meters.InvalidFrom(k.meter)
				if err != nil {
					return err
				}
				if err := h.cfg.Store.saveMarketCRL(pctx, k.meter, inv, h.cfg.Now()); err != nil {
					return err
				}
				mk.crl[k.meter] = inv.Unix()
			}
			// accepted and logged are the data table and the log, which the
			// batch committed before its steps are taken here; served is the
			// fetch's audit entry. The recorded copies follow them.
			if traced {
				s.Accepted = union(s.Accepted, o.AcceptedAdd)
				s.Logged = union(s.Logged, o.LoggedAdd)
				s.Counted = union(s.Counted, o.CountedAdd)
				s.Flagged = union(s.Flagged, o.FlaggedAdd)
				s.Served = union(s.Served, o.ServedAdd)
			}
			return nil
		}}
	// A machine made again for a log that has steps (the head-end
	// restarted, or this process dropped the machine to bound its memory)
	// continues from the log's last state: a reading logged then is not
	// ingested a second time, the clock and the CRL are where they were.
	if raw := rec.LastState(); raw != nil {
		var last marketTraced
		if err := json.Unmarshal(raw, &last); err != nil {
			return nil, fmt.Errorf("headend: trace %s: last Market state: %w", name, err)
		}
		m.State = last
	}
	m.Resume()
	if mk.ms == nil {
		mk.ms = map[marketKey]*marketMachine{}
	}
	if len(mk.ms) >= h.cfg.commandMachines {
		for k := range mk.ms { // any one: its state follows from the clock and the contracts
			delete(mk.ms, k)
			break
		}
	}
	mk.ms[k] = m
	if _, ok := mk.crl[k.meter]; ok && !m.State.CrlKnown {
		if err := h.marketPublishCRL(m); err != nil {
			delete(mk.ms, k)
			return nil, err
		}
	}
	return m, nil
}

// union is a ∪ b for a recorded store: a new slice when b adds an element
// (the recorded states of earlier lines are not changed).
func union[T comparable](a, b []T) []T {
	out := a
	for _, x := range b {
		if !slices.Contains(out, x) {
			if len(out) == len(a) {
				out = slices.Clone(a)
			}
			out = append(out, x)
		}
	}
	return out
}

// supplierSwitch reads a meter's latest supplier switch from its supplier
// contracts: the newest contract that begins where another supplier's
// ends.
func (s *Store) supplierSwitch(ctx context.Context, meter protocol.SystemTitle) (sw supplierSwitch, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT participant, valid_from, valid_to FROM contracts WHERE role = ? AND meter = ?`), string(protocol.RoleSupplier), meter[:])
	if err != nil {
		return sw, storeErr("contracts", err)
	}
	defer closeRows(rows, "contracts", &err)
	type contract struct {
		who      string
		from, to int64
	}
	var cs []contract
	for rows.Next() {
		var c contract
		if err := rows.Scan(&c.who, &c.from, &c.to); err != nil {
			return sw, storeErr("contracts", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return sw, storeErr("contracts", err)
	}
	for _, n := range cs {
		for _, o := range cs {
			if o.to == n.from && o.who != n.who && n.from > sw.at {
				sw.at = n.from
			}
		}
	}
	for _, c := range cs {
		switch {
		case sw.at == 0:
			sw.old = append(sw.old, c.who)
		case c.to == sw.at:
			sw.old = append(sw.old, c.who)
		case c.from == sw.at:
			sw.newer = append(sw.newer, c.who)
		}
	}
	return sw, nil
}
