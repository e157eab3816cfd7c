package meter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// The meter's part of spec/Collection.tla. A spec "reading" r is one item
// of signed data the meter hands out (a day's load-profile block or an
// on-demand reading), numbered by its signed-data counter: the machine's
// Take decides the counter (taken + 1), and the item is signed under it
// and journaled in one synced record (recTaken) before it leaves, so
// taken and the item survive a power loss together and no counter is
// signed twice. The spec's meterBuf, the items kept until the head-end's
// end-to-end acknowledgement, is the set of recTaken records no recAcked
// record follows (@store: the machine keeps no copy; unackedStore holds
// their counters and the digests of their signed bytes). The head-end
// signs a protocol.DataAck for each item it stored and the gateway relays
// it in a PDUAck: each that verifies under a head-end key of the trust
// list and names the digest of a kept item is the machine's EndToEndAcked.
// A gateway's own acknowledgement makes the meter forget nothing (a
// compromised gateway acknowledges and drops: spec/Collection.tla,
// AckDrop). A compaction keeps every unacknowledged item (liveRecords).

// Journal records of the Collection machine (meter/store.go lists the
// others).
const (
	recTaken byte = 11 // counter (8), kind (1), day (8), the signed item: taken and kept until acknowledged
	recAcked byte = 12 // counter (8): the head-end acknowledged the item end to end
)

// Kinds of a taken item (recTaken).
const (
	takenReading byte = 1
	takenBlock   byte = 2
)

// collectionMachine is the meter's machine of spec/Collection.tla.
type collectionMachine = statemachine.Instance[collectionState, collectionEvent, collectionOutput]

// unackedStore is the machine's @store meterBuf: the counters of the
// items taken and not yet acknowledged by the head-end, each with the
// digest of its signed bytes (what a DataAck must name).
type unackedStore struct {
	set map[int64]keptItem
	// adding is the item a Take adds (set by its persist).
	adding keptItem
}

// keptItem is a signed item kept until the head-end's acknowledgement:
// handed out again when the gateway asks (PDUGetKept), and the digest a
// DataAck must name.
type keptItem struct {
	kind   byte
	day    int64
	raw    []byte
	digest protocol.Hash
}

// MeterBufHas reports whether item x is kept until the head-end's ack.
func (u *unackedStore) MeterBufHas(x int64) bool {
	_, ok := u.set[x]
	return ok
}

// apply makes the store changes of a persisted step.
func (u *unackedStore) apply(o *collectionOutput) {
	if o.MeterBufClear {
		clear(u.set)
	}
	for _, x := range o.MeterBufRemove {
		delete(u.set, x)
	}
	for _, x := range o.MeterBufAdd {
		u.set[x] = u.adding
	}
}

// taking is the item a Take is about to sign: what the Persist hook
// signs under the counter the machine decided (the I/O of the step, not
// an input of its decision).
type taking struct {
	kind   byte
	day    int64
	sign   func(counter uint64) ([]byte, error)
	signed []byte // set by persist
}

// collection is the meter's Collection machine with its store.
type collection struct {
	m       collectionMachine
	p       collectionParams
	unacked unackedStore
	out     collectionOutput
	taking  taking
}

// initCollection builds the machine from the journal: taken is the
// highest counter ever signed (or reserved by the counter store before
// counters were journaled with their items), meterBuf the items no ack
// followed.
func (m *Meter) initCollection(rec *statemachine.Recorder) error {
	c := &m.coll
	c.unacked.set = map[int64]keptItem{}
	c.p.Store = &c.unacked
	c.out = collectionOutput{Plc: make([]int64, 0, 1), MeterBufAdd: make([]int64, 0, 1), MeterBufRemove: make([]int64, 0, 1)}
	c.m = collectionMachine{Role: "meter", Name: "meter", Step: c.p.Step, State: c.p.Init(), Rec: rec,
		Action: func(o *collectionOutput) string { return o.Action }, Persist: m.persistCollection}
	reserved, err := m.counters.Reserved(dataCounterKey)
	if err != nil {
		return err
	}
	if reserved > math.MaxInt64 {
		return fmt.Errorf("%w: data counter %d", ErrStore, reserved)
	}
	c.m.State.Taken = int64(reserved)
	if err := m.store.Each(recTaken, func(b []byte) error {
		if len(b) < 17 || binary.BigEndian.Uint64(b) > math.MaxInt64 || (b[8] != takenReading && b[8] != takenBlock) {
			return fmt.Errorf("%w: taken record", ErrStore)
		}
		ctr := int64(binary.BigEndian.Uint64(b))
		c.m.State.Taken = max(c.m.State.Taken, ctr)
		raw := append([]byte(nil), b[17:]...)
		c.unacked.set[ctr] = keptItem{kind: b[8], day: int64(binary.BigEndian.Uint64(b[9:])), raw: raw, digest: protocol.DataDigest(raw)}
		if b[8] == takenBlock {
			m.blocks[int64(binary.BigEndian.Uint64(b[9:]))] = append([]byte(nil), b[17:]...)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.store.Each(recAcked, func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("%w: ack record", ErrStore)
		}
		delete(c.unacked.set, int64(binary.BigEndian.Uint64(b)))
		return nil
	}); err != nil {
		return err
	}
	if rec != nil {
		c.m.Resume()
		return c.logUnloggedTakes()
	}
	return nil
}

// logUnloggedTakes continues the Collection log of an earlier incarnation
// (a meter killed and started again). A Take is journaled (the signed
// item, recTaken) before its log line, so a kill between the two leaves a
// taken item the log lacks; the restart logs that Take, from the log's
// last taken up to the journal's, as the spec's step it was (the
// generated machine's, without persistence: the item is journaled
// already). An acknowledgement the log lacks needs nothing: the meter's
// buffer is its journal (@store), not logged. This only writes the log;
// whatever it finds, the meter restarts from its journal, and a log these
// steps do not bring to the journal's state is left for the trace check
// to reject.
func (c *collection) logUnloggedTakes() error {
	raw := c.m.Rec.LastState()
	if raw == nil {
		return nil
	}
	var last collectionState
	if err := json.Unmarshal(raw, &last); err != nil {
		return nil
	}
	durable := c.m.State
	if last.Taken >= durable.Taken || durable.Taken-last.Taken > maxUnlogged {
		return nil
	}
	persist := c.m.Persist
	c.m.Persist, c.m.State = nil, last
	defer func() { c.m.Persist, c.m.State = persist, durable }()
	for c.m.State.Taken < durable.Taken {
		if _, err := c.m.Apply(0, collectionEvent{Kind: collectionMeasure}, &c.out); err != nil {
			if errors.Is(err, statemachine.ErrNotEnabled) {
				return nil
			}
			return err
		}
	}
	return nil
}

// persistCollection makes a step durable before it counts: a Take signs
// the item under the counter the machine decided and journals it with
// that counter in one synced record; an EndToEndAcked journals the ack.
func (m *Meter) persistCollection(s *collectionState, o *collectionOutput) error {
	if !o.Persist {
		return nil
	}
	switch o.Action {
	case "Take":
		t := &m.coll.taking
		if t.sign == nil || len(o.Plc) != 1 || o.Plc[0] != s.Taken {
			return fmt.Errorf("meter: Take of %v with nothing to sign", o.Plc)
		}
		w, err := t.sign(uint64(s.Taken))
		if err != nil {
			return err
		}
		rec := binary.BigEndian.AppendUint64(make([]byte, 0, 17+len(w)), uint64(s.Taken))
		rec = append(rec, t.kind)
		rec = binary.BigEndian.AppendUint64(rec, uint64(t.day))
		if err := m.store.Append(recTaken, append(rec, w...), true); err != nil {
			return err
		}
		t.signed = w
		m.coll.unacked.adding = keptItem{kind: t.kind, day: t.day, raw: w, digest: protocol.DataDigest(w)}
	case "EndToEndAcked":
		for _, r := range o.MeterBufRemove {
			if !m.coll.unacked.MeterBufHas(r) {
				continue // acknowledged before: nothing kept to drop
			}
			if err := m.store.Append(recAcked, binary.BigEndian.AppendUint64(nil, uint64(r)), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// take runs the machine's Take for an item that sign signs under the
// counter Take decides, and returns the signed item once it is journaled.
func (m *Meter) take(kind byte, day int64, clock uint64, sign func(counter uint64) ([]byte, error)) ([]byte, error) {
	c := &m.coll
	c.taking = taking{kind: kind, day: day, sign: sign}
	defer func() { c.taking = taking{} }()
	if _, err := c.m.Apply(clock, collectionEvent{Kind: collectionMeasure}, &c.out); err != nil {
		return nil, err
	}
	c.unacked.apply(&c.out)
	return c.taking.signed, nil
}

// ErrDataAck refuses an acknowledgement that does not acknowledge one of
// the meter's own kept items: not a DataAck signed by a head-end key of
// the trust list, for another meter, or for bytes the meter did not hand
// out. The item stays kept and is handed out again when asked for.
var ErrDataAck = errors.New("meter: data acknowledgement refused")

// ack takes the head-end's acknowledgements the gateway relays (PDUAck, a
// TamperBatch of DataAcks): each is verified before the machine sees it,
// and only then is it the spec's e2e_ack and the item forgotten
// (EndToEndAcked, journaled). A gateway's own word (a PDUAck that names a
// Counter and carries no signed acknowledgement) forgets nothing. The
// answer is a PDUResult; a refused acknowledgement makes it
// StatusRejected with the first reason, and the others are still taken.
func (m *Meter) ack(p protocol.PDU) (*protocol.PDU, error) {
	if len(p.Body) == 0 {
		return nil, fmt.Errorf("%w: no head-end acknowledgement (a gateway's own acknowledgement of %d)", ErrDataAck, p.Counter)
	}
	b, err := protocol.UnmarshalTamperBatch(p.Body)
	if err != nil {
		return nil, err
	}
	c := &m.coll
	var first error
	for _, raw := range b.Items {
		r, err := m.verifyDataAck(raw)
		if errors.Is(err, errAcked) {
			continue // acknowledged before (a resent acknowledgement): nothing to forget
		}
		if err == nil {
			_, err = c.m.Apply(b.Clock, collectionEvent{Kind: collectionE2eAck, I: collectionItem{R: r, Signed: true}}, &c.out)
		}
		if err != nil {
			first = cmpFirst(first, err)
			continue
		}
		c.unacked.apply(&c.out)
	}
	if first != nil {
		return nil, first
	}
	return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}, nil
}

// verifyDataAck is the cryptography before the machine's EndToEndAcked:
// the acknowledgement verifies under a head-end key of the trust list and
// names a kept item by its counter and the digest of its signed bytes.
func (m *Meter) verifyDataAck(raw []byte) (int64, error) {
	a, err := protocol.VerifyDataAck(raw, m.cfg.Title, m.headEndKey)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrDataAck, err)
	}
	if a.Counter == 0 || a.Counter > math.MaxInt64 {
		return 0, fmt.Errorf("%w: item %d", ErrDataAck, a.Counter)
	}
	it, ok := m.coll.unacked.set[int64(a.Counter)]
	if !ok {
		return 0, errAcked
	}
	if it.digest != a.Digest {
		return 0, fmt.Errorf("%w: item %d acknowledged for other bytes", ErrDataAck, a.Counter)
	}
	return int64(a.Counter), nil
}

// getKept answers a gateway's PDUGetKept: the kept item with the lowest
// counter at or above p.Counter, with the same signed bytes as when it was
// taken (the spec's medium keeps what the meter sent: a gateway that lost
// or dropped an item collects it again), or StatusMissing when none is.
func (m *Meter) getKept(p protocol.PDU) (*protocol.PDU, error) {
	best := int64(-1)
	for ctr := range m.coll.unacked.set {
		if ctr >= 0 && uint64(ctr) >= p.Counter && (best < 0 || ctr < best) {
			best = ctr
		}
	}
	if best < 0 {
		return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request, Status: protocol.StatusMissing, Detail: fmt.Sprintf("no kept item from %d", p.Counter)}, nil
	}
	it := m.coll.unacked.set[best]
	out := &protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Counter: uint64(best), Body: it.raw, Detail: protocol.KeptReading}
	if it.kind == takenBlock {
		out.Day, out.Detail = it.day, protocol.KeptBlock
	}
	return out, nil
}

// unacknowledged is the number of signed items the meter keeps until the
// head-end's acknowledgement (the spec's meterBuf), for tests and display.
func (m *Meter) unacknowledged() int { return len(m.coll.unacked.set) }

// kept reports whether the item with counter is kept until the head-end's
// acknowledgement.
func (m *Meter) kept(counter uint64) bool {
	return counter <= math.MaxInt64 && m.coll.unacked.MeterBufHas(int64(counter))
}
