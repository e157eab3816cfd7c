package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/wan"
)

// The gateway's part of spec/Collection.tla, one machine per meter. A spec
// "reading" r is one signed item of the meter (a load-profile block or an
// on-demand reading) named by its signed-data counter; the spec's queue
// is the store-and-forward Queue (its journal), holding [r |-> counter,
// signed |-> TRUE] for each pending item of the meter: the machine keeps
// no copy of it (@store, read through queueStore). The machine decides:
// collect queues a reading durably (and acknowledges nothing to the meter:
// the meter keeps the item until the head-end's end-to-end
// acknowledgement), upload sends only what is queued, upload_ack drops an
// item only once the head-end's answer to its batch confirmed the durable
// commit, and a restart keeps the queue. The head-end's answer carries its
// signed acknowledgements (protocol.DataAck), which the gateway relays to
// each meter (RelayAcks, PDUAck) and cannot forge. The machine's ack_drop
// is the compromised gateway of the spec, which no code here takes.
// Events (spec/Tamper.tla) travel in the same queue but are not
// Collection items.

// ErrNotQueued refuses an upload of an item the Collection machine's
// queue does not hold (Upload: i \in queue).
var ErrNotQueued = errors.New("gateway: item not in the store-and-forward queue")

// collectionMachine is the gateway's machine of spec/Collection.tla for
// one meter. Its state is empty: the queue is the role's Queue.
type collectionMachine = statemachine.Instance[collectionState, collectionEvent, collectionOutput]

// queueStore is the machine's @store queue for one meter: the items of
// the Queue pending for it, by counter (every queued reading is signed as
// far as the gateway knows; the head-end verifies).
type queueStore struct {
	q     *Queue
	meter protocol.SystemTitle
}

// QueueHas reports whether the meter's item r is pending in the queue.
func (s *queueStore) QueueHas(x collectionItem) bool {
	return x.Signed && x.R >= 0 && s.q.has(s.meter, uint64(x.R))
}

// meterCollection is one meter's Collection machine with its store view.
type meterCollection struct {
	m     collectionMachine
	store queueStore
	p     collectionParams
}

// collection returns the meter's Collection machine of this gateway
// incarnation. When the trace already holds steps of an earlier one (the
// gateway restarted), the new one records the spec's Restart first: the
// queue is kept (it is durable), what was in flight is not.
func (g *Gateway) collection(meter protocol.SystemTitle) (*meterCollection, error) {
	if c, ok := g.colls[meter]; ok {
		return c, nil
	}
	rec, err := g.cfg.Trace.Recorder(fmt.Sprintf("collection/%x/gateway-%s", meter[:], g.cfg.Name))
	if err != nil {
		return nil, err
	}
	c := &meterCollection{store: queueStore{q: g.queue, meter: meter}}
	c.p.Store = &c.store
	c.m = collectionMachine{Role: "gateway", Name: "gateway-" + g.cfg.Name, Step: c.p.Step, State: c.p.Init(), Rec: rec,
		Action: func(o *collectionOutput) string { return o.Action }}
	if rec.LastClock() > 0 {
		c.m.Resume()
		if _, err := c.m.Apply(0, collectionEvent{Kind: collectionRestart}, &g.collOut); err != nil {
			return nil, err
		}
		if err := g.logUnloggedCollects(c, meter); err != nil {
			return nil, err
		}
	}
	g.colls[meter] = c
	return c, nil
}

// logUnloggedCollects continues the Collection log of an earlier
// incarnation after its Restart. A Collect appends the item to the durable
// queue before its log line, so a kill between the two leaves an item
// queued that the log never collected (and the meter unacknowledged); the
// restart logs that Collect, as the spec's step it was (the generated
// machine's, without persistence: the item is queued already), for each
// item of the meter pending in the queue that the log's Collect and
// Uploaded steps do not leave queued. This only writes the log.
func (g *Gateway) logUnloggedCollects(c *meterCollection, meter protocol.SystemTitle) error {
	f, err := os.Open(filepath.Join(g.cfg.Trace.Dir(), "collection", fmt.Sprintf("%x", meter[:]), "gateway-"+g.cfg.Name+".ndjson"))
	if err != nil {
		return nil
	}
	defer f.Close()
	lines, err := statemachine.ReadTrace(f)
	if err != nil {
		return nil
	}
	logged := map[int64]bool{}
	for _, l := range lines {
		var ev struct {
			R int64 `json:"r"`
			I struct {
				R int64 `json:"r"`
			} `json:"i"`
		}
		if json.Unmarshal(l.Event, &ev) != nil {
			continue
		}
		switch l.Action {
		case "Collect":
			logged[ev.R] = true
		case "Uploaded":
			delete(logged, ev.I.R)
		}
	}
	for _, it := range g.queue.pending {
		if !it.ok || it.id.meter != meter || it.id.counter > math.MaxInt64 || logged[int64(it.id.counter)] {
			continue
		}
		if _, err := c.m.Apply(0, collectionEvent{Kind: collectionCollect, R: int64(it.id.counter)}, &g.collOut); err != nil {
			return err
		}
		logged[int64(it.id.counter)] = true
	}
	return nil
}

// collect takes the machine's Collect for a signed item the meter sent
// (its answer's Lamport time in clock): the item is appended to the
// durable queue before the step counts (the machine's queue' = queue \cup
// {r}; an item already pending is not appended twice).
func (g *Gateway) collect(meter protocol.SystemTitle, it wan.Item, clock uint64) error {
	m, ctr, err := protocol.PeekData(it.Raw, it.Kind == wan.KindBlock)
	if err != nil {
		return err
	}
	if m != meter || ctr == 0 || ctr > math.MaxInt64 {
		return fmt.Errorf("%w: item %d of %x from %x", protocol.ErrMalformed, ctr, m, meter)
	}
	c, err := g.collection(meter)
	if err != nil {
		return err
	}
	out := &g.collOut
	c.m.Persist = func(_ *collectionState, o *collectionOutput) error {
		for _, x := range o.QueueAdd {
			if x.R != int64(ctr) || !x.Signed {
				return fmt.Errorf("gateway: Collect queued %v for item %d", x, ctr)
			}
			if !g.queue.has(meter, ctr) {
				if err := g.queue.push(it); err != nil {
					return err
				}
			}
		}
		return nil
	}
	_, err = c.m.Apply(clock, collectionEvent{Kind: collectionCollect, R: int64(ctr)}, out)
	c.m.Persist = nil
	return err
}

// CollectKept collects again every signed item the meter keeps until the
// head-end's end-to-end acknowledgement (PDUGetKept, from the lowest
// counter up), after relaying the acknowledgements it holds for the meter:
// what a gateway lost, or a compromised one acknowledged and dropped,
// reaches the queue again (spec/Collection.tla: the medium keeps what the
// meter sent and Collect takes it again). An item already queued is not
// queued twice. It returns how many items it collected.
func (g *Gateway) CollectKept(meter protocol.SystemTitle) (int, error) {
	g.relayPendingAcks(meter)
	n := 0
	for next := uint64(1); ; n++ {
		r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetKept, Counter: next})
		if err != nil {
			return n, err
		}
		if r.Kind == protocol.PDUResult && r.Status == protocol.StatusMissing {
			return n, nil
		}
		if err := result(r); err != nil {
			return n, err
		}
		if r.Kind != protocol.PDUData || r.Counter < next || r.Counter > math.MaxInt64 {
			return n, fmt.Errorf("%w: kept item %d of kind %d asked from %d", ErrNoAnswer, r.Counter, r.Kind, next)
		}
		kind := wan.KindReading
		switch r.Detail {
		case protocol.KeptBlock:
			kind = wan.KindBlock
		case protocol.KeptReading:
		default:
			return n, fmt.Errorf("%w: kept item of kind %q", protocol.ErrMalformed, r.Detail)
		}
		if err := g.collect(meter, wan.Item{Kind: kind, Raw: r.Body}, r.Clock); err != nil {
			return n, err
		}
		next = r.Counter + 1
	}
}

// maxDataAcks caps the acknowledgements kept for one meter until relayed:
// beyond it the oldest are dropped, and the meter hands out their items
// again when asked (the head-end acknowledges a duplicate again).
const maxDataAcks = 128 // 128 acknowledgements of about 160 bytes fit a PDU's body

// keepDataAcks keeps the head-end's acknowledgements of an answered batch
// for their meters, routed by what PeekDataAck reads (nothing of it is
// trusted: the meter verifies). One that does not parse is refused.
func (g *Gateway) keepDataAcks(acks [][]byte) {
	for _, raw := range acks {
		a, err := protocol.PeekDataAck(raw)
		if err != nil {
			g.Refused.add(fmt.Errorf("gateway: head-end acknowledgement: %w", err))
			continue
		}
		q := append(g.dataAcks[a.Meter], raw)
		if len(q) > maxDataAcks {
			q = q[len(q)-maxDataAcks:]
		}
		g.dataAcks[a.Meter] = q
	}
}

// RelayAcks sends the head-end's end-to-end acknowledgements of a meter's
// items to the meter (PDUAck), which verifies each before it forgets the
// item; it returns how many it relayed. Those not relayed (the meter
// unreachable) are kept for the next exchange. CollectDay and ReadNow
// relay first.
func (g *Gateway) RelayAcks(meter protocol.SystemTitle) (int, error) {
	acks := g.dataAcks[meter]
	if len(acks) == 0 {
		return 0, nil
	}
	b := protocol.TamperBatch{Items: acks}
	if c, ok := g.colls[meter]; ok && c.m.Rec != nil {
		b.Clock = c.m.Clock.Now()
	}
	w, err := b.Marshal()
	if err != nil {
		return 0, err
	}
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUAck, Body: w})
	if err != nil {
		return 0, err
	}
	delete(g.dataAcks, meter)
	return len(acks), result(r)
}

// relayPendingAcks relays a meter's acknowledgements before another
// exchange with it; a failure is recorded, not the exchange's.
func (g *Gateway) relayPendingAcks(meter protocol.SystemTitle) {
	if _, err := g.RelayAcks(meter); err != nil {
		g.Refused.add(fmt.Errorf("gateway: relaying acknowledgements: %w", err))
	}
}

// batchIDs are the Collection items of a batch about to be uploaded, and
// the latest Lamport time of their Upload steps (what the batch carries).
type batchIDs struct {
	ids   []itemRef
	ok    []bool
	clock uint64
}

// upload takes the machine's Upload for every reading and block of a
// batch before it is sent: each must be in its meter's queue.
func (g *Gateway) upload(items []queued, b *batchIDs) error {
	b.ids, b.ok, b.clock = b.ids[:0], b.ok[:0], 0
	for _, it := range items {
		b.ids, b.ok = append(b.ids, it.id), append(b.ok, it.ok)
		if !it.ok {
			continue
		}
		c, err := g.collection(it.id.meter)
		if err != nil {
			return err
		}
		ev := collectionEvent{Kind: collectionUpload, I: collectionItem{R: int64(it.id.counter), Signed: true}}
		now, err := c.m.Apply(0, ev, &g.collOut)
		if err != nil {
			if errors.Is(err, statemachine.ErrNotEnabled) {
				return fmt.Errorf("%w: %d of %x: %w", ErrNotQueued, it.id.counter, it.id.meter, err)
			}
			return err
		}
		b.clock = max(b.clock, now)
	}
	return nil
}

// uploaded takes the machine's Uploaded for every reading and block of a
// batch the head-end answered after its durable commit (at its time
// remote): the machine
// decides each removal (queue' = queue \ {i}), the queue's acknowledgement
// makes them durable, and then the steps are recorded. An item the
// head-end refused (it does not verify) is acknowledged with its batch:
// the spec's gateway queues only what the meter signed, and a refused item
// would be refused on every resend.
func (g *Gateway) uploaded(b *batchIDs, n int, remote uint64) error {
	for i, id := range b.ids[:n] {
		if !b.ok[i] {
			continue
		}
		c, err := g.collection(id.meter)
		if err != nil {
			return err
		}
		var st collectionState
		if err := c.p.Step(&st, uploadAck(id), &g.collOut); err != nil {
			return err
		}
		if len(g.collOut.QueueRemove) != 1 || g.collOut.QueueRemove[0].R != int64(id.counter) {
			return fmt.Errorf("gateway: Uploaded of %d did not remove it", id.counter)
		}
	}
	if err := g.queue.ack(n); err != nil {
		return err
	}
	for i, id := range b.ids[:n] {
		if !b.ok[i] {
			continue
		}
		c := g.colls[id.meter]
		if c.m.Rec == nil {
			continue // the step above was the decision; nothing to record
		}
		if _, err := c.m.Apply(remote, uploadAck(id), &g.collOut); err != nil {
			return err
		}
	}
	return nil
}

// uploadAck is the event of the head-end's acknowledgement of item id.
func uploadAck(id itemRef) collectionEvent {
	return collectionEvent{Kind: collectionUploadAck, I: collectionItem{R: int64(id.counter), Signed: true}}
}

// flushBatch uploads up to batch pending items and drops them from the
// queue once the head-end's answer confirmed their durable commit.
func (g *Gateway) flushBatch(ctx context.Context, up Uplink, batch int) (int, wan.IngestResult, error) {
	pend := g.queue.pending[:min(batch, len(g.queue.pending))]
	if err := g.upload(pend, &g.batch); err != nil {
		return 0, wan.IngestResult{}, err
	}
	items := g.queue.Pending(batch)
	if g.batch.clock > 0 {
		ctx = wan.WithClock(ctx, g.batch.clock)
	}
	g.stats.uploaded.Add(uint64(len(items)))
	res, err := up.Ingest(ctx, g.cfg.Name, items)
	if err != nil {
		g.stats.uploadFailures.Add(1)
		return 0, res, err
	}
	if err := g.uploaded(&g.batch, len(items), res.Clock); err != nil {
		return 0, res, err
	}
	g.keepDataAcks(res.Acks)
	g.stats.acknowledged.Add(uint64(len(items)))
	g.stats.rejected.Add(uint64(len(res.Rejected)))
	return len(items), res, nil
}
