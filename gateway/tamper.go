package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// Tamper events (UC9, spec/Tamper.tla) pass through the gateway as a
// durable store-and-forward cache: it collects a meter's signed events,
// queues them in a journal of their own, uploads them to the head-end and
// drops one only on the head-end's signed acknowledgement, which it relays
// to the meter. Every decision is a step of the gateway's generated Tamper
// machine for that meter (Collect, Upload, Uploaded, Restart, WanDown,
// WanBack); the gateway holds no key that could make or check an event.

// TamperUplink is the gateway's outbound path for tamper events: the
// head-end verifies a batch, stores it durably and answers with its signed
// acknowledgements (of the events that verified).
type TamperUplink interface {
	Tamper(ctx context.Context, gateway string, events protocol.TamperBatch) (protocol.TamperBatch, error)
}

// ErrTamperRefused marks a tamper event or acknowledgement the gateway
// could not read (it is counted in Refused and not queued).
var ErrTamperRefused = errors.New("gateway: tamper item refused")

// tamperMachine is the gateway's generated machine of spec/Tamper.tla for
// one meter: its queue of events (@persist) and its WAN link.
type tamperMachine = statemachine.Instance[tamperState, tamperEvent, tamperOutput]

// tamperMeter is one meter's machine with the signed bytes of its queue.
type tamperMeter struct {
	machine tamperMachine
	signed  map[int64][]byte // by event number: what Upload sends
	acks    [][]byte         // acknowledgements to relay to the meter (volatile: the meter resends until one arrives)
}

// tamperQueue is the gateway's tamper journal: per meter, one record
// (tqMeter) holding the meter's title and its queue as a TamperBatch, the
// last one of a meter being its queue.
type tamperQueue struct {
	j      *journal.Journal
	meters map[protocol.SystemTitle]*tamperMeter
	out    tamperOutput
	// collecting is the signed event of the Collect being stepped (what
	// the persisted record adds to the meter's queue).
	collecting []byte
	trace      *statemachine.TraceDir
}

const tqMeter byte = 1

// openTamper opens the tamper journal ("" keeps it in memory) and restores
// each meter's queue; a restored meter's machine steps the spec's Restart.
func openTamper(cfg Config) (*tamperQueue, error) {
	path := ""
	if cfg.Dir != "" {
		path = filepath.Join(cfg.Dir, "tamper")
	}
	j, err := journal.OpenWith(path, journal.Options{FS: cfg.fs, Live: liveTamper})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueue, err)
	}
	q := &tamperQueue{j: j, meters: map[protocol.SystemTitle]*tamperMeter{}, trace: cfg.Trace}
	q.out.Uploads = make([]tamperItem, 0, 1)
	last := map[protocol.SystemTitle][]byte{}
	var order []protocol.SystemTitle
	for _, r := range j.Records() {
		if r.Kind != tqMeter {
			continue
		}
		if len(r.Data) < protocol.SystemTitleLen {
			j.Close()
			return nil, fmt.Errorf("%w: tamper record %d", ErrQueue, r.Seq)
		}
		t := protocol.SystemTitle(r.Data[:protocol.SystemTitleLen])
		if _, ok := last[t]; !ok {
			order = append(order, t)
		}
		last[t] = r.Data[protocol.SystemTitleLen:]
	}
	for _, t := range order {
		m, err := q.meter(t)
		if err == nil {
			err = m.restore(t, last[t])
		}
		if err == nil {
			_, err = m.machine.Apply(0, tamperEvent{Kind: tamperRestart}, &q.out)
		}
		if err != nil {
			j.Close()
			return nil, err
		}
	}
	return q, nil
}

// liveTamper keeps each meter's last record, and none of a meter whose
// queue is empty.
func liveTamper(recs []journal.Record) []journal.Record {
	last := map[string]journal.Record{}
	var keep []journal.Record
	for _, r := range recs {
		if r.Kind != tqMeter || len(r.Data) < protocol.SystemTitleLen {
			keep = append(keep, r)
			continue
		}
		last[string(r.Data[:protocol.SystemTitleLen])] = r
	}
	for _, r := range last {
		if b, err := protocol.UnmarshalTamperBatch(r.Data[protocol.SystemTitleLen:]); err != nil || len(b.Items) > 0 {
			keep = append(keep, r)
		}
	}
	sortRecords(keep)
	return keep
}

func sortRecords(rs []journal.Record) {
	for i := 1; i < len(rs); i++ {
		for k := i; k > 0 && rs[k].Seq < rs[k-1].Seq; k-- {
			rs[k], rs[k-1] = rs[k-1], rs[k]
		}
	}
}

// meter returns the machine of a meter, creating it (empty queue, WAN up:
// the spec's Init) on first use.
func (q *tamperQueue) meter(t protocol.SystemTitle) (*tamperMeter, error) {
	if m, ok := q.meters[t]; ok {
		return m, nil
	}
	rec, err := q.trace.Recorder(fmt.Sprintf("tamper/%x/gateway", t[:]))
	if err != nil {
		return nil, err
	}
	p := &tamperParams{}
	m := &tamperMeter{signed: map[int64][]byte{}}
	m.machine = tamperMachine{Role: "gateway", Name: "gateway", Step: p.Step, State: p.Init(), Rec: rec,
		Action: func(o *tamperOutput) string { return o.Action },
		Persist: func(s *tamperState, o *tamperOutput) error {
			if !o.Persist {
				return nil
			}
			return q.j.Append(tqMeter, m.record(t, s, q.collecting), true)
		}}
	m.machine.Resume()
	q.meters[t] = m
	return m, nil
}

// record is the tqMeter record of the meter's queue in state s.
func (m *tamperMeter) record(t protocol.SystemTitle, s *tamperState, collecting []byte) []byte {
	b := protocol.TamperBatch{Items: make([][]byte, 0, s.Queue.Len())}
	for _, e := range s.Queue.Elems() {
		if sig, ok := m.signed[e.N]; ok {
			b.Items = append(b.Items, sig)
		} else {
			b.Items = append(b.Items, collecting)
		}
	}
	w, _ := b.Marshal() // items read by PeekEvent: well formed
	return append(append([]byte(nil), t[:]...), w...)
}

// restore reads a meter's queue record into its machine.
func (m *tamperMeter) restore(t protocol.SystemTitle, rec []byte) error {
	b, err := protocol.UnmarshalTamperBatch(rec)
	if err != nil {
		return fmt.Errorf("%w: tamper queue of %x: %w", ErrQueue, t, err)
	}
	for _, raw := range b.Items {
		it, err := peekTamper(t, raw)
		if err != nil {
			return fmt.Errorf("%w: tamper queue of %x: %w", ErrQueue, t, err)
		}
		if !m.machine.State.Queue.Insert(it, compareTamperItem) {
			return fmt.Errorf("%w: tamper queue of %x holds more than %d events", ErrQueue, t, statemachine.SetCap)
		}
		m.signed[it.N] = raw
	}
	return nil
}

// peekTamper is the spec's item of a meter's event as the gateway reads it
// (not verified: the gateway holds no meter key). It arrived from the
// meter on the authenticated channel, where the meter sends only what it
// signed (spec/Tamper.tla, Send), so it is the spec's signed item; one the
// gateway could not read is refused.
func peekTamper(t protocol.SystemTitle, raw []byte) (tamperItem, error) {
	e, err := protocol.PeekEvent(raw)
	if err != nil {
		return tamperItem{}, fmt.Errorf("%w: %w", ErrTamperRefused, err)
	}
	kind, err := protocol.TamperKind(e.Code)
	if err != nil {
		return tamperItem{}, fmt.Errorf("%w: %w", ErrTamperRefused, err)
	}
	if e.Meter != t || e.Counter == 0 || e.Counter > math.MaxInt64 {
		return tamperItem{}, fmt.Errorf("%w: event %d of %x from meter %x", ErrTamperRefused, e.Counter, e.Meter, t)
	}
	return tamperItem{N: int64(e.Counter), Kind: kind, Signed: true}, nil
}

// CollectTamper asks a meter for its unacknowledged tamper events
// (PDUTamperEvents) and queues durably each one not queued yet (the
// machine's Collect: e \notin queue). It returns how many it queued.
func (g *Gateway) CollectTamper(meter protocol.SystemTitle) (int, error) {
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUTamperEvents})
	if err != nil {
		return 0, err
	}
	if err := result(r); err != nil {
		return 0, err
	}
	if r.Kind != protocol.PDUData {
		return 0, fmt.Errorf("%w: answer of kind %d", ErrNoAnswer, r.Kind)
	}
	b, err := protocol.UnmarshalTamperBatch(r.Body)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTamperRefused, err)
	}
	q := g.tamper
	m, err := q.meter(meter)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, raw := range b.Items {
		it, err := peekTamper(meter, raw)
		if err != nil {
			g.Refused.add(err)
			continue
		}
		q.collecting = raw
		_, err = m.machine.Apply(b.Clock, tamperEvent{Kind: tamperCollect, E: it}, &q.out)
		q.collecting = nil
		if errors.Is(err, statemachine.ErrNotEnabled) {
			continue // queued already (Collect: e \notin queue): a resend
		}
		if err != nil {
			return queued, err
		}
		m.signed[it.N] = raw
		queued++
	}
	return queued, nil
}

// TamperQueued is the number of tamper events the gateway holds for the
// head-end, over all meters.
func (g *Gateway) TamperQueued() int {
	n := 0
	for _, m := range g.tamper.meters {
		n += m.machine.State.Queue.Len()
	}
	return n
}

// UploadTamper sends every queued tamper event to the head-end (the
// machine's Upload, while its WAN link is up), drops each event the
// head-end acknowledged (Uploaded, persisted) and keeps the
// acknowledgements to relay to their meters (RelayTamperAcks). A WAN
// failure is the spec's WanDown for the meters whose events were on the
// way; the next attempt starts with WanBack. It returns how many events
// were acknowledged.
func (g *Gateway) UploadTamper(ctx context.Context, up TamperUplink) (int, error) {
	q := g.tamper
	batch := protocol.TamperBatch{Items: [][]byte{}}
	var sending []*tamperMeter
	for _, m := range q.sorted() {
		if m.machine.State.Queue.Len() == 0 {
			continue
		}
		if len(batch.Items)+m.machine.State.Queue.Len() > protocol.MaxTamperList {
			break // the rest goes in the next batch
		}
		if !m.machine.State.WanUp {
			if _, err := m.machine.Apply(0, tamperEvent{Kind: tamperRecovery}, &q.out); err != nil {
				return 0, err
			}
		}
		for _, e := range m.machine.State.Queue.Elems() {
			now, err := m.machine.Apply(0, tamperEvent{Kind: tamperUpload, E: e}, &q.out)
			if err != nil {
				return 0, err
			}
			if m.machine.Rec != nil {
				batch.Clock = max(batch.Clock, now)
			}
			for _, u := range q.out.Uploads {
				batch.Items = append(batch.Items, m.signed[u.N])
			}
		}
		sending = append(sending, m)
	}
	if len(batch.Items) == 0 {
		return 0, nil
	}
	acks, err := up.Tamper(ctx, g.cfg.Name, batch)
	if err != nil {
		if errors.Is(err, ErrWANDown) {
			for _, m := range sending {
				if _, derr := m.machine.Apply(0, tamperEvent{Kind: tamperOutage}, &q.out); derr != nil {
					return 0, errors.Join(err, derr)
				}
			}
		}
		return 0, err
	}
	done := 0
	for _, raw := range acks.Items {
		a, err := protocol.PeekTamperAck(raw)
		if err != nil || a.Seq == 0 || a.Seq > math.MaxInt64 {
			g.Refused.add(fmt.Errorf("%w: acknowledgement: %w", ErrTamperRefused, err))
			continue
		}
		m, ok := q.meters[a.Meter]
		if !ok {
			g.Refused.add(fmt.Errorf("%w: acknowledgement for meter %x", ErrTamperRefused, a.Meter))
			continue
		}
		if _, err := m.machine.Apply(acks.Clock, tamperEvent{Kind: tamperUploadAck, N: int64(a.Seq)}, &q.out); err != nil {
			return done, err
		}
		delete(m.signed, int64(a.Seq))
		m.acks = append(m.acks, raw)
		done++
	}
	return done, nil
}

// sorted returns the meters' machines in title order (deterministic
// batches and traces).
func (q *tamperQueue) sorted() []*tamperMeter {
	ts := make([]protocol.SystemTitle, 0, len(q.meters))
	for t := range q.meters {
		ts = append(ts, t)
	}
	for i := 1; i < len(ts); i++ {
		for k := i; k > 0 && bytes.Compare(ts[k][:], ts[k-1][:]) < 0; k-- {
			ts[k], ts[k-1] = ts[k-1], ts[k]
		}
	}
	out := make([]*tamperMeter, len(ts))
	for i, t := range ts {
		out[i] = q.meters[t]
	}
	return out
}

// RelayTamperAcks sends the head-end's acknowledgements of a meter's
// events to the meter (PDUTamperAcks), which verifies each before it
// forgets the event. Relayed acknowledgements are not kept: one lost on
// the way makes the meter send the event again, and the head-end answers
// the duplicate with a new acknowledgement.
func (g *Gateway) RelayTamperAcks(meter protocol.SystemTitle) (int, error) {
	m, ok := g.tamper.meters[meter]
	if !ok || len(m.acks) == 0 {
		return 0, nil
	}
	b := protocol.TamperBatch{Items: m.acks}
	if m.machine.Rec != nil {
		b.Clock = m.machine.Clock.Now()
	}
	w, err := b.Marshal()
	if err != nil {
		return 0, err
	}
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUTamperAcks, Body: w})
	n := len(m.acks)
	m.acks = nil
	if err != nil {
		return 0, err
	}
	return n, result(r)
}

// Tamper posts a batch of tamper events to the head-end (POST /v1/tamper,
// CBOR protocol.TamperBatch both ways) and returns its acknowledgements,
// which it sends only after its durable commit. Errors are classified as
// for Ingest (ErrWANDown, ErrHeadEndBusy, ErrHeadEndRefused, ErrReply).
func (u *HTTPSUplink) Tamper(ctx context.Context, _ string, events protocol.TamperBatch) (protocol.TamperBatch, error) {
	body, err := events.Marshal()
	if err != nil {
		return protocol.TamperBatch{}, err
	}
	url := strings.TrimSuffix(u.url, "/v1/ingest") + "/v1/tamper"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return protocol.TamperBatch{}, err
	}
	req.Header.Set("Content-Type", "application/cbor")
	resp, err := u.client.Do(req)
	if err != nil {
		return protocol.TamperBatch{}, fmt.Errorf("%w: %w", ErrWANDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return protocol.TamperBatch{}, fmt.Errorf("%w: reading the answer: %w", ErrWANDown, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return protocol.TamperBatch{}, fmt.Errorf("%w: %s: %s", ErrHeadEndBusy, resp.Status, bytes.TrimSpace(b))
	case resp.StatusCode != http.StatusOK:
		return protocol.TamperBatch{}, fmt.Errorf("%w: %s: %s", ErrHeadEndRefused, resp.Status, bytes.TrimSpace(b))
	}
	acks, err := protocol.UnmarshalTamperBatch(b)
	if err != nil {
		return protocol.TamperBatch{}, fmt.Errorf("%w: %w", ErrReply, err)
	}
	return acks, nil
}
