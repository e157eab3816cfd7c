package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/headend/api"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// ErrQueue marks a failure of the persisted queue.
var ErrQueue = errors.New("gateway: store-and-forward queue failed")

// Queue is the store-and-forward queue: items are appended durably when the
// gateway takes them from a meter and acknowledged when the head-end's
// durable commit confirmed them. After a restart every item after the last
// acknowledgement is sent again; the head-end's ingest is idempotent, so a
// resend after a crash between commit and acknowledgement is a duplicate,
// never a loss.
type Queue struct {
	j     *journal.Journal
	items []api.Item
	acked int // items[:acked] are acknowledged
}

// Journal record kinds of the queue.
const (
	qItem byte = 1 // item kind byte, then the signed data
	qAck  byte = 2 // 8 bytes: items acknowledged so far
)

// OpenQueue opens or creates the queue at path ("" keeps it in memory).
func OpenQueue(path string) (*Queue, error) {
	j, err := journal.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueue, err)
	}
	q := &Queue{j: j}
	if err := j.Each(qItem, func(b []byte) error {
		if len(b) < 1 {
			return fmt.Errorf("%w: empty item record", ErrQueue)
		}
		q.items = append(q.items, api.Item{Kind: api.Kind(b[0]), Raw: b[1:]})
		return nil
	}); err != nil {
		return nil, err
	}
	if err := j.Each(qAck, func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("%w: ack record", ErrQueue)
		}
		q.acked = max(q.acked, int(binary.BigEndian.Uint64(b)))
		return nil
	}); err != nil {
		return nil, err
	}
	if q.acked > len(q.items) {
		return nil, fmt.Errorf("%w: acknowledged %d of %d items", ErrQueue, q.acked, len(q.items))
	}
	return q, nil
}

// Append adds items durably (one fsync for the lot).
func (q *Queue) Append(items ...api.Item) error {
	for _, it := range items {
		if err := q.j.Append(qItem, append([]byte{byte(it.Kind)}, it.Raw...), false); err != nil {
			return fmt.Errorf("%w: %w", ErrQueue, err)
		}
	}
	if err := q.j.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	q.items = append(q.items, items...)
	return nil
}

// Pending returns up to n unacknowledged items, oldest first.
func (q *Queue) Pending(n int) []api.Item {
	end := min(len(q.items), q.acked+n)
	return q.items[q.acked:end]
}

// Ack acknowledges the first n pending items, durably.
func (q *Queue) Ack(n int) error {
	if n < 0 || q.acked+n > len(q.items) {
		return fmt.Errorf("%w: ack of %d with %d pending", ErrQueue, n, len(q.items)-q.acked)
	}
	if err := q.j.Append(qAck, binary.BigEndian.AppendUint64(nil, uint64(q.acked+n)), true); err != nil {
		return fmt.Errorf("%w: %w", ErrQueue, err)
	}
	q.acked += n
	return nil
}

// All returns every item ever queued, acknowledged or not (audits).
func (q *Queue) All() []api.Item { return append([]api.Item(nil), q.items...) }

// Len is the number of unacknowledged items.
func (q *Queue) Len() int { return len(q.items) - q.acked }

// Close closes the journal.
func (q *Queue) Close() error { return q.j.Close() }
