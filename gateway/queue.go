package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/wan"
)

// ErrQueue marks a failure of the persisted queue. A corrupt queue journal
// is also a *journal.CorruptError naming the record (journal.ErrCorrupt):
// the gateway does not start on it.
var ErrQueue = errors.New("gateway: store-and-forward queue failed")

// Queue is the store-and-forward queue: items are appended durably when the
// gateway takes them from a meter and acknowledged when the head-end's
// durable commit confirmed them. After a restart every item after the last
// acknowledgement is sent again; the head-end's ingest is idempotent, so a
// resend after a crash between commit and acknowledgement is a duplicate,
// never a loss. The journal is compacted to the unacknowledged items when
// it outgrows them, so its size follows the backlog.
type Queue struct {
	j       *journal.Journal
	pending []queued // unacknowledged, oldest first
	// ids counts the pending items by meter and signed-data counter: the
	// gateway's Collection machine reads its @store queue through it.
	ids map[itemRef]int
	// depth is len(pending), for a metrics scrape from another goroutine.
	depth atomic.Int64
}

type queued struct {
	seq  uint64 // the item record's journal sequence number
	item wan.Item
	id   itemRef
	ok   bool // id was read from the item (a reading or a block)
}

// itemRef names a signed reading or block by its meter and signed-data
// counter: the spec's reading r of spec/Collection.tla, for one meter.
type itemRef struct {
	meter   protocol.SystemTitle
	counter uint64
}

// itemID reads the meter and counter of a reading or a block (unverified:
// the head-end verifies); events and unreadable items have none.
func itemID(it wan.Item) (itemRef, bool) {
	if it.Kind != wan.KindReading && it.Kind != wan.KindBlock {
		return itemRef{}, false
	}
	m, c, err := protocol.PeekData(it.Raw, it.Kind == wan.KindBlock)
	if err != nil {
		return itemRef{}, false
	}
	return itemRef{meter: m, counter: c}, true
}

// index adds a pending item to ids.
func (q *Queue) index(it *queued) {
	if it.id, it.ok = itemID(it.item); it.ok {
		q.ids[it.id]++
	}
}

// has reports whether a reading or block of meter with counter is pending
// (the gateway's Collection machine's queue, spec/Collection.tla).
func (q *Queue) has(meter protocol.SystemTitle, counter uint64) bool {
	return q.ids[itemRef{meter: meter, counter: counter}] > 0
}

// Journal record kinds of the queue.
const (
	qItem    byte = 1 // item kind byte, then the signed data
	qAck     byte = 2 // 8 bytes: items acknowledged so far, counted from the first record (journals before compaction)
	qAckUpTo byte = 3 // 8 bytes: every item whose record's sequence number is at most this is acknowledged
)

// DescribeQueueRecord names a record of the queue's journal and summarises
// it (verimeter journal dump); an unknown kind has an empty name.
func DescribeQueueRecord(kind byte, b []byte) (name, summary string) {
	switch kind {
	case qItem:
		if len(b) < 1 {
			return "item", "malformed"
		}
		return "item", fmt.Sprintf("kind %d, %d bytes signed", b[0], len(b)-1)
	case qAck, qAckUpTo:
		name = map[byte]string{qAck: "ack-count", qAckUpTo: "ack"}[kind]
		if len(b) != 8 {
			return name, "malformed"
		}
		if kind == qAck {
			return name, fmt.Sprintf("first %d items acknowledged", binary.BigEndian.Uint64(b))
		}
		return name, fmt.Sprintf("items up to record seq %d acknowledged", binary.BigEndian.Uint64(b))
	}
	return "", ""
}

// queueOptions configure where the queue's journal is written and when it
// is compacted.
type queueOptions struct {
	fs         journal.FS // nil: the operating system's
	compactMin int64      // 0: journal.DefaultCompactMin
}

// OpenQueue opens or creates the queue at path ("" keeps it in memory).
func OpenQueue(path string) (*Queue, error) { return openQueueWith(path, queueOptions{}) }

// openQueueWith opens or creates the queue at path with options. A torn
// tail of its journal is cut and reported (Report); a corrupt journal is a
// *journal.CorruptError and the file is left as it was.
func openQueueWith(path string, o queueOptions) (*Queue, error) {
	j, err := journal.OpenWith(path, journal.Options{FS: o.fs, Live: liveQueue, CompactMin: o.compactMin})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueue, err)
	}
	q := &Queue{j: j, ids: map[itemRef]int{}}
	all, err := scanQueue(j.Records())
	if err != nil {
		j.Close()
		return nil, err
	}
	for _, it := range all {
		if !it.acked {
			q.pending = append(q.pending, it.queued)
			q.index(&q.pending[len(q.pending)-1])
		}
	}
	q.depth.Store(int64(len(q.pending)))
	return q, nil
}

type scanned struct {
	queued
	acked bool
}

// scanQueue reads the queue's records: every item, and whether an
// acknowledgement covers it.
func scanQueue(recs []journal.Record) ([]scanned, error) {
	var items []scanned
	for _, r := range recs {
		switch r.Kind {
		case qItem:
			if len(r.Data) < 1 {
				return nil, fmt.Errorf("%w: empty item record %d", ErrQueue, r.Seq)
			}
			items = append(items, scanned{queued: queued{seq: r.Seq, item: wan.Item{Kind: wan.Kind(r.Data[0]), Raw: r.Data[1:]}}})
		case qAck, qAckUpTo:
			if len(r.Data) != 8 {
				return nil, fmt.Errorf("%w: ack record %d", ErrQueue, r.Seq)
			}
			v := binary.BigEndian.Uint64(r.Data)
			if r.Kind == qAck {
				if v > uint64(len(items)) {
					return nil, fmt.Errorf("%w: acknowledged %d of %d items", ErrQueue, v, len(items))
				}
				for i := range items[:v] {
					items[i].acked = true
				}
				continue
			}
			if v >= r.Seq {
				return nil, fmt.Errorf("%w: ack record %d acknowledges up to %d", ErrQueue, r.Seq, v)
			}
			for i := range items {
				if items[i].seq <= v {
					items[i].acked = true
				}
			}
		}
	}
	return items, nil
}

// liveQueue keeps the unacknowledged items: a compacted queue holds its
// backlog only. A journal it cannot read is kept whole.
func liveQueue(recs []journal.Record) []journal.Record {
	items, err := scanQueue(recs)
	if err != nil {
		return recs
	}
	acked := map[uint64]bool{}
	for _, it := range items {
		acked[it.seq] = it.acked
	}
	var out []journal.Record
	for _, r := range recs {
		if r.Kind == qItem && !acked[r.Seq] {
			out = append(out, r)
		}
	}
	return out
}

// Report is what opening the queue's journal found (a torn tail cut after
// a crash); `verimeter gateway run` logs it.
func (q *Queue) Report() journal.Report { return q.j.Report() }

// size is the queue journal's size in bytes.
func (q *Queue) size() int64 { return q.j.Size() }

// push adds items durably, all in one write and one fsync: when it
// returns nil every item is on disk; otherwise none is queued and the
// caller must not acknowledge them to the meter.
func (q *Queue) push(items ...wan.Item) error {
	data := make([][]byte, len(items))
	for i, it := range items {
		data[i] = append([]byte{byte(it.Kind)}, it.Raw...)
	}
	if err := q.j.AppendAll(qItem, data); err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	first := q.j.Seq() - uint64(len(items)) + 1
	for i, it := range items {
		q.pending = append(q.pending, queued{seq: first + uint64(i), item: it})
		q.index(&q.pending[len(q.pending)-1])
	}
	q.depth.Store(int64(len(q.pending)))
	return nil
}

// Pending returns up to n unacknowledged items, oldest first.
func (q *Queue) Pending(n int) []wan.Item {
	n = min(n, len(q.pending))
	out := make([]wan.Item, n)
	for i := range out {
		out[i] = q.pending[i].item
	}
	return out
}

// ack acknowledges the first n pending items, durably.
func (q *Queue) ack(n int) error {
	if n < 0 || n > len(q.pending) {
		return fmt.Errorf("%w: ack of %d with %d pending", ErrQueue, n, len(q.pending))
	}
	if n == 0 {
		return nil
	}
	if err := q.j.Append(qAckUpTo, binary.BigEndian.AppendUint64(nil, q.pending[n-1].seq), true); err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	for _, it := range q.pending[:n] {
		if it.ok {
			if q.ids[it.id]--; q.ids[it.id] <= 0 {
				delete(q.ids, it.id)
			}
		}
	}
	q.pending = q.pending[n:]
	q.depth.Store(int64(len(q.pending)))
	return nil
}

// All returns every item in the queue's journal, acknowledged or not
// (audits): everything since its last compaction, which keeps the
// unacknowledged ones only.
func (q *Queue) All() []wan.Item {
	var out []wan.Item
	q.j.Each(qItem, func(b []byte) error {
		out = append(out, wan.Item{Kind: wan.Kind(b[0]), Raw: b[1:]})
		return nil
	})
	return out
}

// Len is the number of unacknowledged items.
func (q *Queue) Len() int { return len(q.pending) }

// Close closes the journal.
func (q *Queue) Close() error { return q.j.Close() }
