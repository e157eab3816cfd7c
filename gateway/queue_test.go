package gateway

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
	"github.com/verimeter/verimeter/wan"
)

func item(i int) wan.Item {
	return wan.Item{Kind: wan.KindBlock, Raw: []byte("block " + strconv.Itoa(i))}
}

func itemIndex(it wan.Item) int {
	n, err := strconv.Atoi(strings.TrimPrefix(string(it.Raw), "block "))
	if err != nil {
		return -1
	}
	return n
}

// TestQueueBitFlipRefusesToStart: a flipped bit in record 4 of a 10-record
// queue journal stops the queue and the gateway with a
// *journal.CorruptError naming record index 3, and leaves the file byte
// for byte as it was; silent truncation would forget 7 queued items.
func TestQueueBitFlipRefusesToStart(t *testing.T) {
	fsys := crashfs.New()
	path := filepath.Join("/gw", "queue")
	q, err := openQueueWith(path, queueOptions{fs: fsys})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := q.push(item(i)); err != nil {
			t.Fatal(err)
		}
	}
	off := q.j.Records()[3].Offset
	q.Close()
	orig, _ := fsys.ReadFile(path)
	bad := bytes.Clone(orig)
	bad[off+18] ^= 0x80
	fsys.WriteFile(path, bad)
	for name, open := range map[string]func() error{
		"queue":   func() error { _, err := openQueueWith(path, queueOptions{fs: fsys}); return err },
		"gateway": func() error { _, err := New(Config{Name: "gw", Dir: "/gw", fs: fsys}); return err },
	} {
		err := open()
		var ce *journal.CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrQueue) || !errors.Is(err, journal.ErrCorrupt) || ce.Record != 3 || ce.Offset != off {
			t.Fatalf("%s on a queue with a flipped bit in record 4: %v", name, err)
		}
		if after, _ := fsys.ReadFile(path); !bytes.Equal(after, bad) {
			t.Fatalf("%s changed the corrupt queue", name)
		}
	}
}

// TestQueueTornTailIsReported: half an append at the end is cut and
// reported; every item before it is pending.
func TestQueueTornTailIsReported(t *testing.T) {
	fsys := crashfs.New()
	q, err := openQueueWith("/gw/queue", queueOptions{fs: fsys})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		q.push(item(i))
	}
	q.ack(2)
	q.Close()
	orig, _ := fsys.ReadFile("/gw/queue")
	fsys.WriteFile("/gw/queue", append(bytes.Clone(orig), 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 99))
	q, err = openQueueWith("/gw/queue", queueOptions{fs: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if r := q.Report(); r.TornBytes != 12 || r.TornRecords != 1 || q.Len() != 8 || itemIndex(q.Pending(1)[0]) != 2 {
		t.Fatalf("torn tail: %+v, %d pending", r, q.Len())
	}
}

// TestQueueCompactionBoundsTheJournal: 20,000 items queued and
// acknowledged in batches with a backlog of up to 50: the journal never
// exceeds its bound, and a restart has exactly the backlog.
func TestQueueCompactionBoundsTheJournal(t *testing.T) {
	fsys := crashfs.New()
	opts := queueOptions{fs: fsys, compactMin: 16 << 10}
	q, err := openQueueWith("/gw/queue", opts)
	if err != nil {
		t.Fatal(err)
	}
	var peak int64
	next := 0
	for next < 20000 {
		for range 7 {
			if err := q.push(item(next)); err != nil {
				t.Fatal(err)
			}
			next++
		}
		if q.Len() > 50 {
			if err := q.ack(q.Len() - 3); err != nil {
				t.Fatal(err)
			}
		}
		peak = max(peak, q.size())
	}
	itemLen := int64(len(item(19999).Raw) + 1 + 21)
	if bound := max(opts.compactMin, 2*(16+57*itemLen)) + 8*itemLen; peak > bound {
		t.Fatalf("queue journal grew to %d bytes, bound %d", peak, bound)
	}
	pending := q.Len()
	q.Close()
	q, err = openQueueWith("/gw/queue", opts)
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != pending || itemIndex(q.Pending(pending)[pending-1]) != next-1 {
		t.Fatalf("after compactions: %d pending of %d", q.Len(), pending)
	}
	t.Logf("20000 items: queue journal peak %d bytes", peak)
}

// TestQueueDiskFullAndReadOnly: with the disk full or read-only, an append
// fails with ErrQueue and the cause and queues nothing (the gateway does
// not take the meter's block), an acknowledgement fails and acknowledges
// nothing; when space returns both work and a restart shows exactly what
// succeeded.
func TestQueueDiskFullAndReadOnly(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EROFS} {
		t.Run(errno.Error(), func(t *testing.T) {
			fsys := crashfs.New()
			var fail error
			fsys.Fail = func(crashfs.OpKind, string) error { return fail }
			q, err := openQueueWith("/gw/queue", queueOptions{fs: fsys})
			if err != nil {
				t.Fatal(err)
			}
			q.push(item(0), item(1))
			fail = errno
			if err := q.push(item(2), item(3)); !errors.Is(err, ErrQueue) || !errors.Is(err, errno) || q.Len() != 2 {
				t.Fatalf("append on a failing disk: %v, %d pending", err, q.Len())
			}
			if err := q.ack(1); !errors.Is(err, ErrQueue) || !errors.Is(err, errno) || q.Len() != 2 {
				t.Fatalf("ack on a failing disk: %v, %d pending", err, q.Len())
			}
			fail = nil
			if err := q.push(item(4)); err != nil {
				t.Fatal(err)
			}
			if err := q.ack(1); err != nil {
				t.Fatal(err)
			}
			q.Close()
			q, err = openQueueWith("/gw/queue", queueOptions{fs: fsys})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, it := range q.Pending(10) {
				got = append(got, itemIndex(it))
			}
			if fmt.Sprint(got) != "[1 4]" || q.Report().TornBytes != 0 {
				t.Fatalf("after restart: %v pending, %s", got, q.Report())
			}
		})
	}
}

// queueEvent is what the queue had acknowledged once a number of
// filesystem operations were done.
type queueEvent struct {
	at       int
	appended []int // items queued: the gateway took them from the meter
	ackedTo  int   // with appended == nil: items up to here acknowledged by the head-end
}

// TestCrashPointsQueue records every durable step of the queue (appends,
// acknowledgements, compactions) and reopens it from the state a crash
// after each leaves, with the last unsynced write whole, torn, zero-filled
// or dropped: it always opens, every item taken from a meter and not
// acknowledged by the head-end is pending, in order (only an
// acknowledgement under way at the crash may have taken effect), nothing
// the head-end acknowledged is pending again, and nothing else appears.
// CRASHPOINTS=full runs 5,000 items (make crashpoints).
func TestCrashPointsQueue(t *testing.T) {
	n := 60
	if crashfs.Full() {
		n = 5000
	}
	fsys := crashfs.New()
	opts := queueOptions{fs: fsys, compactMin: 1024}
	fsys.Record()
	initial := fsys.Snapshot()
	q, err := openQueueWith("/gw/queue", opts)
	if err != nil {
		t.Fatal(err)
	}
	var events []queueEvent
	next, acked := 0, -1
	for step := 0; next < n; step++ {
		var batch []wan.Item
		var ids []int
		for range 1 + step%3 {
			batch = append(batch, item(next))
			ids = append(ids, next)
			next++
		}
		if err := q.push(batch...); err != nil {
			t.Fatal(err)
		}
		events = append(events, queueEvent{at: len(fsys.Ops()), appended: ids})
		if step%4 == 3 {
			k := q.Len() - 1
			if err := q.ack(k); err != nil {
				t.Fatal(err)
			}
			acked += k
			events = append(events, queueEvent{at: len(fsys.Ops()), ackedTo: acked})
		}
	}
	q.Close()
	ops := fsys.Ops()
	res := crashfs.Replay(initial, ops, func(fs *crashfs.MemFS, k int) error {
		q, err := openQueueWith("/gw/queue", queueOptions{fs: fs, compactMin: opts.compactMin})
		if err != nil {
			return fmt.Errorf("the queue does not open: %w", err)
		}
		defer q.Close()
		taken, ackedTo, mayBeGone := -1, -1, -1
		for _, e := range events {
			if e.at > k {
				if e.appended == nil && mayBeGone < 0 {
					// An acknowledgement under way: its record may have
					// landed before the crash.
					mayBeGone = e.ackedTo
				}
				continue
			}
			if e.appended != nil {
				taken = e.appended[len(e.appended)-1]
			} else {
				ackedTo = e.ackedTo
			}
		}
		prev := -1
		var pending []int
		for _, it := range q.Pending(q.Len()) {
			i := itemIndex(it)
			if i <= prev || i >= next {
				return fmt.Errorf("pending item %q after %d", it.Raw, prev)
			}
			if i <= ackedTo {
				return fmt.Errorf("item %d pending again, the head-end acknowledged up to %d", i, ackedTo)
			}
			prev = i
			pending = append(pending, i)
		}
		for i := ackedTo + 1; i <= taken; i++ {
			if i <= mayBeGone && (len(pending) == 0 || pending[0] != i) {
				continue
			}
			if len(pending) == 0 || pending[0] != i {
				return fmt.Errorf("item %d taken from the meter is lost (pending %v)", i, pending)
			}
			pending = pending[1:]
		}
		return nil
	})
	res.Report(t, "gateway-queue", ops, 50)
}

// blockMeter answers every request with a data PDU carrying a block.
type blockMeter struct {
	title protocol.SystemTitle
	send  *protocol.Sender
	recv  *protocol.Receiver
}

func (m *blockMeter) Exchange(_ protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	_, plain, err := m.recv.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	ans := protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Day: p.Day, Body: signedItem(m.title, uint64(p.Day-19999), p.Day)}
	if p.Kind == protocol.PDUAck {
		ans = protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}
	}
	b, err := ans.Marshal()
	if err != nil {
		return nil, err
	}
	a, err := m.send.Seal(nil, protocol.TagDataNotification, b)
	return [][]byte{a}, err
}

func (m *blockMeter) Refused(protocol.SystemTitle) []error { return nil }

// TestCollectOnFullDiskTakesNothing: with the gateway's disk full, a
// collected block the queue cannot hold makes CollectDay fail (the gateway
// does not take it from the meter) and nothing is queued; once space
// returns the same day is collected and survives a restart.
func TestCollectOnFullDiskTakesNothing(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 4}, protocol.SystemTitle{'V', 'G', 'W', 4}
	mkeys, gkeys, gk := agreeKeys(t, meter, gwTitle)
	bm := &blockMeter{title: meter}
	bm.send, _ = protocol.NewSender(mkeys, protocol.NewMemStore())
	bm.recv, _ = protocol.NewReceiver(mkeys)
	fsys := crashfs.New()
	var fail error
	fsys.Fail = func(crashfs.OpKind, string) error { return fail }
	cfg := Config{Name: "g4", Title: gwTitle, ChannelKey: gk, Rand: rand.Reader, Segment: bm, Dir: "/gw", fs: fsys}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	openSession(t, g, meter, gkeys)
	fail = syscall.ENOSPC
	if err := g.CollectDay(meter, 20000); !errors.Is(err, ErrQueue) || !errors.Is(err, syscall.ENOSPC) || g.Queue().Len() != 0 {
		t.Fatalf("collect on a full disk: %v, %d queued", err, g.Queue().Len())
	}
	fail = nil
	if err := g.CollectDay(meter, 20000); err != nil {
		t.Fatal(err)
	}
	g.Close()
	g, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if p := g.Queue().Pending(5); len(p) != 1 || !g.Queue().has(meter, 1) {
		t.Fatalf("after restart: %v", p)
	}
}
