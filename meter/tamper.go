package meter

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// tamperMachine is the meter's generated machine of spec/Tamper.tla (UC9):
// it numbers a detected event and asks for it to be persisted in the same
// step (Detect), says which events may be sent (Send: those in its log) and
// forgets an event only on the head-end's acknowledgement (ReceiveAck).
type tamperMachine = statemachine.Instance[tamperState, tamperEvent, tamperOutput]

// Errors of the meter's tamper flow.
var (
	// ErrTamperAck refuses an acknowledgement that does not acknowledge
	// one of the meter's own unacknowledged events: not signed by a
	// head-end key of the trust list, for another meter, or for bytes the
	// meter did not sign. The event stays in the log and is sent again.
	ErrTamperAck = errors.New("meter: tamper acknowledgement refused")
	// ErrTamperState is a tamper record in the journal that does not fit
	// the machine (an event the meter could not have signed).
	ErrTamperState = errors.New("meter: tamper record inconsistent")
	// errAcked: a valid acknowledgement of an event no longer in the log.
	errAcked = errors.New("meter: event acknowledged before")
)

// tamperLog is the meter's tamper event log around its machine: the
// machine's mlog holds the spec's items, signed holds the COSE_Sign1 of
// each (by number), and one journal record (recTamper) holds both, so a
// detection is signed and durable in the same record before anything else
// (spec/Tamper.tla, Detect; the mutant event_not_persisted shows why).
type tamperLog struct {
	machine tamperMachine
	out     tamperOutput
	signed  map[int64][]byte
	// detecting is the signed event of the Detect being stepped, which
	// persist writes with the log.
	detecting []byte
}

// initTamper builds the machine and restores its durable part (seq and the
// unacknowledged events) from the last recTamper record. A restart of a
// meter that ever detected an event is the spec's Crash.
func (m *Meter) initTamper(rec *statemachine.Recorder) error {
	t := &m.tamper
	p := &tamperParams{}
	t.signed = map[int64][]byte{}
	t.out.Plc = make([]tamperItem, 0, 1)
	t.machine = tamperMachine{Role: "meter", Name: "meter", Step: p.Step, State: p.Init(),
		Action: func(o *tamperOutput) string { return o.Action }, Rec: rec,
		Persist: func(s *tamperState, o *tamperOutput) error {
			if !o.Persist {
				return nil
			}
			return m.store.Append(recTamper, t.record(s), true)
		}}
	t.machine.Resume()
	var last []byte
	if err := m.store.Each(recTamper, func(b []byte) error { last = b; return nil }); err != nil {
		return err
	}
	if last == nil {
		return nil
	}
	if err := t.restore(last, m.cfg.Title); err != nil {
		return err
	}
	_, err := t.machine.Apply(0, tamperEvent{Kind: tamperPowerLoss}, &t.out)
	return err
}

// record is the recTamper record of state s: seq, then the signed events
// of mlog as a TamperBatch. The event being detected is in s.Mlog but not
// yet in signed: it is taken from detecting.
func (t *tamperLog) record(s *tamperState) []byte {
	b := tamperBatchOf(s, func(n int64) []byte {
		if sig, ok := t.signed[n]; ok {
			return sig
		}
		return t.detecting
	})
	w, _ := b.Marshal() // the items are the meter's own signed events: well formed
	return append(binary.BigEndian.AppendUint64(nil, uint64(s.Seq)), w...)
}

// tamperBatchOf lists the signed events of a state's mlog in number order.
func tamperBatchOf(s *tamperState, signed func(n int64) []byte) protocol.TamperBatch {
	b := protocol.TamperBatch{Items: make([][]byte, 0, s.Mlog.Len())}
	for _, e := range s.Mlog.Elems() {
		b.Items = append(b.Items, signed(e.N))
	}
	return b
}

// restore reads a recTamper record into the machine's state.
func (t *tamperLog) restore(rec []byte, title protocol.SystemTitle) error {
	if len(rec) < 8 || binary.BigEndian.Uint64(rec) > math.MaxInt64 {
		return fmt.Errorf("%w: %w: record of %d bytes", ErrStore, ErrTamperState, len(rec))
	}
	seq := int64(binary.BigEndian.Uint64(rec))
	b, err := protocol.UnmarshalTamperBatch(rec[8:])
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrStore, ErrTamperState, err)
	}
	s := tamperState{Seq: seq}
	for _, raw := range b.Items {
		it, err := tamperItemOf(raw, title)
		if err != nil || it.N > seq {
			return fmt.Errorf("%w: %w: event %d of %d (%v)", ErrStore, ErrTamperState, it.N, seq, err)
		}
		if !s.Mlog.Insert(it, compareTamperItem) {
			return fmt.Errorf("%w: %w: more than %d events", ErrStore, ErrTamperState, statemachine.SetCap)
		}
		t.signed[it.N] = raw
	}
	t.machine.State = s
	return nil
}

// tamperItemOf is the spec's item of one of the meter's signed events.
func tamperItemOf(raw []byte, title protocol.SystemTitle) (tamperItem, error) {
	e, err := protocol.PeekEvent(raw)
	if err != nil {
		return tamperItem{}, err
	}
	kind, err := protocol.TamperKind(e.Code)
	if err != nil {
		return tamperItem{}, err
	}
	if e.Meter != title || e.Counter == 0 || e.Counter > math.MaxInt64 {
		return tamperItem{}, fmt.Errorf("%w: event %d of meter %x", protocol.ErrMalformed, e.Counter, e.Meter)
	}
	return tamperItem{N: int64(e.Counter), Kind: kind, Signed: true}, nil
}

// Tamper is the meter's tamper sensor firing (a cover opened, a magnetic
// field: kind as protocol.TamperCover, protocol.TamperMagnetic): the
// machine's Detect numbers the event, the meter signs it with its
// metrological key, and one synced journal record holds it before Tamper
// returns; nothing is sent before that. It returns the event's number.
func (m *Meter) Tamper(kind string, now time.Time) (uint64, error) {
	code, err := protocol.TamperCode(kind)
	if err != nil {
		return 0, err
	}
	t := &m.tamper
	n := t.machine.State.Seq + 1
	if n <= 0 {
		return 0, fmt.Errorf("%w: event numbers exhausted", ErrTamperState)
	}
	sig, err := m.signer.SignEvent(protocol.Event{Meter: m.cfg.Title, Counter: uint64(n), Time: now.Unix() + m.clockOff, Code: code})
	if err != nil {
		return 0, err
	}
	t.detecting = sig
	_, err = t.machine.Apply(0, tamperEvent{Kind: tamperTamper, K: kind}, &t.out)
	t.detecting = nil
	if err != nil {
		return 0, err
	}
	t.signed[n] = sig
	return uint64(n), nil
}

// tamperPending is the number of the meter's events the head-end has not
// acknowledged yet (Status).
func (m *Meter) tamperPending() int { return m.tamper.machine.State.Mlog.Len() }

// tamperSeq is the number of the last tamper event the meter detected.
func (m *Meter) tamperSeq() uint64 { return uint64(m.tamper.machine.State.Seq) }

// tamperEvents answers the gateway's PDUTamperEvents: every event of the
// log is sent (again) through the machine's Send, until its
// acknowledgement; the batch carries the last step's Lamport time.
func (m *Meter) tamperEvents(p protocol.PDU) (*protocol.PDU, error) {
	t := &m.tamper
	var b protocol.TamperBatch
	b.Items = [][]byte{}
	for _, e := range t.machine.State.Mlog.Elems() {
		now, err := t.machine.Apply(0, tamperEvent{Kind: tamperSend, E: e}, &t.out)
		if err != nil {
			return nil, err
		}
		b.Clock = now
		for _, sent := range t.out.Plc {
			b.Items = append(b.Items, t.signed[sent.N])
		}
	}
	if t.machine.Rec == nil {
		b.Clock = 0
	}
	w, err := b.Marshal()
	if err != nil {
		return nil, err
	}
	return &protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Body: w}, nil
}

// tamperAcks takes the head-end's acknowledgements relayed by the gateway
// (PDUTamperAcks). Each is verified before the machine sees it: signed by a
// head-end key of the trust list, for this meter, for the exact bytes of an
// event in the log; only then is it the spec's ack(n) and the event
// forgotten (ReceiveAck, persisted). The answer is a PDUResult; a refused
// acknowledgement makes it StatusRejected with the first reason, and the
// others are still taken.
func (m *Meter) tamperAcks(p protocol.PDU) (*protocol.PDU, error) {
	b, err := protocol.UnmarshalTamperBatch(p.Body)
	if err != nil {
		return nil, err
	}
	t := &m.tamper
	var first error
	for _, raw := range b.Items {
		n, err := m.verifyTamperAck(raw)
		if errors.Is(err, errAcked) {
			continue // acknowledged before (a resent acknowledgement): nothing to forget
		}
		if err == nil {
			_, err = t.machine.Apply(b.Clock, tamperEvent{Kind: tamperAck, N: n}, &t.out)
		}
		if err != nil {
			first = cmpFirst(first, err)
			continue
		}
		delete(t.signed, n)
	}
	if first != nil {
		return nil, first
	}
	return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}, nil
}

func cmpFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// verifyTamperAck is the cryptography before the machine's ReceiveAck: the
// acknowledgement verifies under a head-end key of the trust list and names
// an event of the log by its number and the digest of its signed bytes.
func (m *Meter) verifyTamperAck(raw []byte) (int64, error) {
	a, err := protocol.VerifyTamperAck(raw, m.cfg.Title, m.headEndKey)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTamperAck, err)
	}
	if a.Seq == 0 || a.Seq > math.MaxInt64 {
		return 0, fmt.Errorf("%w: event %d", ErrTamperAck, a.Seq)
	}
	sig, ok := m.tamper.signed[int64(a.Seq)]
	if !ok {
		return 0, errAcked
	}
	if protocol.EventDigest(sig) != a.Digest {
		return 0, fmt.Errorf("%w: event %d acknowledged for other bytes", ErrTamperAck, a.Seq)
	}
	return int64(a.Seq), nil
}

// headEndKey is the head-end key of the trust list that kid names, for
// the head-end's signed acknowledgements (tamper events and data).
func (m *Meter) headEndKey(kid []byte) (*ecdsa.PublicKey, error) {
	for _, pub := range m.trustedKey(protocol.RoleHeadEnd) {
		if bytes.Equal(protocol.SubjectKeyID(pub), kid) {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("%w: acknowledgement signer %x not in the trust list", ErrUntrusted, kid)
}

// tamperLog returns the signed events not yet acknowledged, in number
// order (the tests read it).
func (m *Meter) tamperLog() [][]byte {
	ns := make([]int64, 0, len(m.tamper.signed))
	for n := range m.tamper.signed {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	out := make([][]byte, len(ns))
	for i, n := range ns {
		out[i] = m.tamper.signed[n]
	}
	return out
}
