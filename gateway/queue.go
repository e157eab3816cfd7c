package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/verimeter/verimeter/headend/api"
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
	f       *os.File
	off     int64
	items   []api.Item
	acked   int // items[:acked] are acknowledged
	pending int // items reported by Pending but not yet acknowledged
}

const (
	qItem byte = 1
	qAck  byte = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenQueue opens or creates the queue at path ("" keeps it in memory).
func OpenQueue(path string) (*Queue, error) {
	q := &Queue{}
	if path == "" {
		return q, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueue, err)
	}
	q.f = f
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueue, err)
	}
	off := 0
	for off+10 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off:]))
		if n > 1<<20 || off+10+n > len(data) {
			break
		}
		body := data[off+4 : off+6+n]
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(data[off+6+n:]) {
			break
		}
		switch body[0] {
		case qItem:
			q.items = append(q.items, api.Item{Kind: api.Kind(body[1]), Raw: append([]byte(nil), body[2:]...)})
		case qAck:
			if len(body) != 2+8 {
				return nil, fmt.Errorf("%w: ack record", ErrQueue)
			}
			q.acked = max(q.acked, int(binary.BigEndian.Uint64(body[2:])))
		}
		off += 10 + n
	}
	q.off = int64(off)
	if off != len(data) {
		if err := f.Truncate(q.off); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrQueue, err)
		}
	}
	if q.acked > len(q.items) {
		return nil, fmt.Errorf("%w: acknowledged %d of %d items", ErrQueue, q.acked, len(q.items))
	}
	return q, nil
}

func (q *Queue) write(kind, sub byte, data []byte) error {
	if q.f == nil {
		return nil
	}
	buf := make([]byte, 10+len(data))
	binary.BigEndian.PutUint32(buf, uint32(len(data)))
	buf[4], buf[5] = kind, sub
	copy(buf[6:], data)
	binary.BigEndian.PutUint32(buf[6+len(data):], crc32.Checksum(buf[4:6+len(data)], castagnoli))
	if _, err := q.f.WriteAt(buf, q.off); err != nil {
		return fmt.Errorf("%w: %v", ErrQueue, err)
	}
	if err := q.f.Sync(); err != nil {
		return fmt.Errorf("%w: %v", ErrQueue, err)
	}
	q.off += int64(len(buf))
	return nil
}

// Append adds items durably (one fsync for the lot).
func (q *Queue) Append(items ...api.Item) error {
	if q.f != nil {
		var buf []byte
		for _, it := range items {
			rec := make([]byte, 10+len(it.Raw))
			binary.BigEndian.PutUint32(rec, uint32(len(it.Raw)))
			rec[4], rec[5] = qItem, byte(it.Kind)
			copy(rec[6:], it.Raw)
			binary.BigEndian.PutUint32(rec[6+len(it.Raw):], crc32.Checksum(rec[4:6+len(it.Raw)], castagnoli))
			buf = append(buf, rec...)
		}
		if _, err := q.f.WriteAt(buf, q.off); err != nil {
			return fmt.Errorf("%w: %v", ErrQueue, err)
		}
		if err := q.f.Sync(); err != nil {
			return fmt.Errorf("%w: %v", ErrQueue, err)
		}
		q.off += int64(len(buf))
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
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(q.acked+n))
	if err := q.write(qAck, 0, b[:]); err != nil {
		return err
	}
	q.acked += n
	return nil
}

// All returns every item ever queued, acknowledged or not (audits).
func (q *Queue) All() []api.Item { return append([]api.Item(nil), q.items...) }

// Len is the number of unacknowledged items.
func (q *Queue) Len() int { return len(q.items) - q.acked }

// Close closes the file.
func (q *Queue) Close() error {
	if q.f == nil {
		return nil
	}
	return q.f.Close()
}
