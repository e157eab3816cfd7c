package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// fakeHeadEnd is an uplink whose faults a test chooses. It stores each
// item it commits once, by its bytes, as the head-end's idempotent ingest
// does on (meter, counter), and counts what arrived.
type fakeHeadEnd struct {
	stored   map[string]int
	received int // items that reached it, committed or not
	calls    int
	// fault, when set, decides the outcome of call n (from 0) after the
	// items arrived: commit says whether they are committed before err is
	// returned (an answer lost after the commit).
	fault func(n int) (commit bool, err error)
	// block, when set, makes a call wait for its context (a half-open
	// connection: no answer, no close).
	block func(n int) bool
}

func (f *fakeHeadEnd) Ingest(ctx context.Context, _ string, items []wan.Item) (wan.IngestResult, error) {
	n := f.calls
	f.calls++
	f.received += len(items)
	if f.block != nil && f.block(n) {
		<-ctx.Done()
		return wan.IngestResult{}, fmt.Errorf("%w: %w", ErrWANDown, ctx.Err())
	}
	commit, err := true, error(nil)
	if f.fault != nil {
		commit, err = f.fault(n)
	}
	var res wan.IngestResult
	if commit {
		for _, it := range items {
			if f.stored[string(it.Raw)] > 0 {
				res.Duplicates++
			} else {
				res.Stored++
			}
			f.stored[string(it.Raw)]++
		}
	}
	if err != nil {
		return wan.IngestResult{}, err
	}
	return res, nil
}

func queuedGateway(t *testing.T, n int) (*Gateway, string) {
	t.Helper()
	dir := t.TempDir()
	g, err := New(Config{Name: "gw-test", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := g.Queue().push(wan.Item{Kind: wan.KindReading, Raw: []byte(fmt.Sprintf("signed reading %03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	return g, dir
}

// TestFlushAcknowledgesOnlyAfterCommitReply: whatever goes wrong after the
// head-end received a batch and before the gateway holds its commit reply,
// the queue keeps every item, also across a restart of the gateway. Only a
// commit reply acknowledges, and only its own batch.
func TestFlushAcknowledgesOnlyAfterCommitReply(t *testing.T) {
	const items, batch = 12, 5
	cases := []struct {
		name  string
		fake  *fakeHeadEnd
		ctx   func() (context.Context, context.CancelFunc)
		isErr error
	}{
		{name: "connection lost after receiving", fake: &fakeHeadEnd{fault: func(int) (bool, error) { return false, fmt.Errorf("%w: connection reset by peer", ErrWANDown) }}, isErr: ErrWANDown},
		{name: "answer lost after the commit", fake: &fakeHeadEnd{fault: func(int) (bool, error) { return true, fmt.Errorf("%w: EOF in the answer", ErrWANDown) }}, isErr: ErrWANDown},
		{name: "head-end answers an error", fake: &fakeHeadEnd{fault: func(int) (bool, error) { return false, fmt.Errorf("%w: 503 store unavailable", ErrHeadEndBusy) }}, isErr: ErrHeadEndBusy},
		{name: "head-end refuses the batch", fake: &fakeHeadEnd{fault: func(int) (bool, error) { return false, fmt.Errorf("%w: 400", ErrHeadEndRefused) }}, isErr: ErrHeadEndRefused},
		{name: "no answer until the timeout", fake: &fakeHeadEnd{block: func(int) bool { return true }}, isErr: ErrWANDown,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fake.stored = map[string]int{}
			g, dir := queuedGateway(t, items)
			before := append([]wan.Item(nil), g.Queue().Pending(items)...)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if c.ctx != nil {
				ctx, cancel = c.ctx()
			}
			defer cancel()
			n, _, err := g.Flush(ctx, c.fake, batch)
			if !errors.Is(err, c.isErr) {
				t.Fatalf("Flush: %v, want %v", err, c.isErr)
			}
			if c.fake.received == 0 {
				t.Fatal("the fake head-end received nothing: the fault came too early to test anything")
			}
			if n != 0 || g.Queue().Len() != items {
				t.Fatalf("Flush reported %d sent, %d of %d items still queued after a batch without commit reply", n, g.Queue().Len(), items)
			}
			g.Close()
			// After a restart the same items are pending, in order.
			g2, err := New(Config{Name: "gw-test", Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer g2.Close()
			after := g2.Queue().Pending(items)
			if len(after) != len(before) {
				t.Fatalf("after restart %d items pending, want %d", len(after), len(before))
			}
			for i := range before {
				if string(after[i].Raw) != string(before[i].Raw) {
					t.Fatalf("after restart item %d is %q, want %q", i, after[i].Raw, before[i].Raw)
				}
			}
		})
	}
	t.Run("second batch fails", func(t *testing.T) {
		fake := &fakeHeadEnd{stored: map[string]int{}, fault: func(n int) (bool, error) {
			if n == 1 {
				return false, fmt.Errorf("%w: reset", ErrWANDown)
			}
			return true, nil
		}}
		g, _ := queuedGateway(t, items)
		defer g.Close()
		n, res, err := g.Flush(context.Background(), fake, batch)
		if !errors.Is(err, ErrWANDown) || n != batch || res.Stored != batch || g.Queue().Len() != items-batch {
			t.Fatalf("Flush: %v, %d sent, %d stored, %d queued; want the first batch of %d acknowledged, the rest queued", err, n, res.Stored, g.Queue().Len(), batch)
		}
		if p := g.Queue().Pending(1); string(p[0].Raw) != "signed reading 005" {
			t.Fatalf("first pending after a failed second batch: %q", p[0].Raw)
		}
	})
}

// TestForwardRetriesUntilCommitted: a run of WAN faults of every kind
// (connection lost, answer lost after the commit, head-end busy, no answer
// until the attempt times out) is ridden out with backoff; in the end every
// item is stored exactly once and the queue is empty, and the answers lost
// after a commit come back as duplicates.
func TestForwardRetriesUntilCommitted(t *testing.T) {
	const items, batch = 40, 3
	fake := &fakeHeadEnd{stored: map[string]int{}}
	fake.block = func(n int) bool { return n%7 == 3 }
	fake.fault = func(n int) (bool, error) {
		switch n % 7 {
		case 0:
			return false, fmt.Errorf("%w: reset after 300 bytes", ErrWANDown)
		case 2:
			return true, fmt.Errorf("%w: answer lost", ErrWANDown)
		case 5:
			return false, fmt.Errorf("%w: 503", ErrHeadEndBusy)
		}
		return true, nil
	}
	g, _ := queuedGateway(t, items)
	defer g.Close()
	f, err := g.Forward(context.Background(), fake, batch, Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond, attempt: 10 * time.Millisecond, For: 30 * time.Second, rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	if g.Queue().Len() != 0 || f.Items != items {
		t.Fatalf("%d items forwarded, %d still queued", f.Items, g.Queue().Len())
	}
	if len(fake.stored) != items {
		t.Fatalf("%d distinct items stored, want %d", len(fake.stored), items)
	}
	dups := 0
	for _, c := range fake.stored {
		dups += c - 1
	}
	// Every call is either a fault that was retried or a committed batch.
	batches := (items + batch - 1) / batch
	if f.Faults != fake.calls-batches || f.Faults < 4 {
		t.Fatalf("%d faults ridden out in %d calls for %d batches", f.Faults, fake.calls, batches)
	}
	// An answer lost after the commit leaves its items stored but not
	// acknowledged; their resend is answered as duplicates.
	if dups == 0 || f.Result.Duplicates != dups || f.Result.Stored+f.Result.Duplicates != items {
		t.Fatalf("%d resends met stored items; the head-end answered %d stored + %d duplicates; want every lost answer's items back as duplicates, %d in all", dups, f.Result.Stored, f.Result.Duplicates, items)
	}
}

// TestForwardStopsOnRefusalAndGivesUpInTime: a refused batch is not sent
// again; a WAN that stays down ends in ErrGaveUp once Backoff.For is over.
// Either way every item stays queued.
func TestForwardStopsOnRefusalAndGivesUpInTime(t *testing.T) {
	refuse := &fakeHeadEnd{stored: map[string]int{}, fault: func(int) (bool, error) { return false, fmt.Errorf("%w: 413", ErrHeadEndRefused) }}
	g, _ := queuedGateway(t, 4)
	defer g.Close()
	if _, err := g.Forward(context.Background(), refuse, 10, Backoff{Min: time.Millisecond, For: time.Second}); !errors.Is(err, ErrHeadEndRefused) || refuse.calls != 1 || g.Queue().Len() != 4 {
		t.Fatalf("refused batch: %v after %d calls, %d queued", err, refuse.calls, g.Queue().Len())
	}
	down := &fakeHeadEnd{stored: map[string]int{}, fault: func(int) (bool, error) { return false, fmt.Errorf("%w: connection refused", ErrWANDown) }}
	f, err := g.Forward(context.Background(), down, 10, Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond, For: 60 * time.Millisecond})
	if !errors.Is(err, ErrGaveUp) || !errors.Is(err, ErrWANDown) || g.Queue().Len() != 4 || f.Faults < 2 {
		t.Fatalf("WAN down: %v, %d faults, %d queued", err, f.Faults, g.Queue().Len())
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 300 * time.Millisecond, rand: rand.New(rand.NewPCG(3, 4))}
	for n := range 70 {
		ceil := b.Min
		for range n {
			if ceil = 2 * ceil; ceil >= b.Max {
				ceil = b.Max
				break
			}
		}
		for range 50 {
			if w := b.wait(n); w < 0 || w > ceil {
				t.Fatalf("wait after %d failures: %v, want within [0, %v]", n, w, ceil)
			}
		}
	}
}

// TestHTTPSUplinkClassifiesFaults: the real uplink against a head-end that
// answers 503, 400, garbage, or nothing at all: each failure carries the
// error that tells Forward whether to retry.
func TestHTTPSUplinkClassifiesFaults(t *testing.T) {
	var mode atomic.Value
	hang := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load().(string) {
		case "busy":
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		case "refused":
			http.Error(w, "batch malformed", http.StatusBadRequest)
		case "garbage":
			w.Write([]byte("<html>"))
		case "hang": // a half-open connection: no answer, no close
			<-hang
		case "cut": // the connection ends inside the answer
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(`{"stored":`))
		default:
			w.Write([]byte(`{"stored":1,"duplicates":0,"intervals":0}`))
		}
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	defer srv.Close() // after the hanging handler was released
	defer close(hang)
	up := NewHTTPSUplink(strings.TrimPrefix(srv.URL, "https://"), tls.Certificate{}, func(*x509.Certificate) error { return nil })
	up.SetTimeout(200 * time.Millisecond)
	items := []wan.Item{{Kind: wan.KindReading, Raw: []byte("r")}}
	for _, c := range []struct {
		mode string
		want error
	}{{"ok", nil}, {"busy", ErrHeadEndBusy}, {"refused", ErrHeadEndRefused}, {"garbage", ErrReply}, {"hang", ErrWANDown}, {"cut", ErrWANDown}} {
		mode.Store(c.mode)
		res, err := up.Ingest(context.Background(), "gw", items)
		if c.want == nil && (err != nil || res.Stored != 1) || c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("%s: %+v, %v; want %v", c.mode, res, err, c.want)
		}
		if c.want != nil && retryable(err) != (c.want == ErrWANDown || c.want == ErrHeadEndBusy) {
			t.Fatalf("%s: Retryable(%v) = %v", c.mode, err, retryable(err))
		}
	}
}

// TestHTTPSUplinkCarriesLamportClock: over HTTPS the batch carries the
// gateway's Lamport time (wan.ClockHeader) and the answer the head-end's
// (IngestReply.Clock), as the in-process uplink does through the context,
// so the traces of separate processes keep the head-end's Ingest after the
// gateway's Upload and the gateway's Uploaded after the Ingest.
func TestHTTPSUplinkCarriesLamportClock(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get(wan.ClockHeader))
		w.Write([]byte(`{"stored":1,"duplicates":0,"intervals":0,"clock":43}`))
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	defer srv.Close()
	up := NewHTTPSUplink(strings.TrimPrefix(srv.URL, "https://"), tls.Certificate{}, func(*x509.Certificate) error { return nil })
	items := []wan.Item{{Kind: wan.KindReading, Raw: []byte("r")}}
	res, err := up.Ingest(wan.WithClock(context.Background(), 42), "gw", items)
	if err != nil || res.Clock != 43 || got.Load() != "42" {
		t.Fatalf("sent clock %q, answer %+v, %v; want 42 sent and 43 back", got.Load(), res, err)
	}
	if _, err := up.Ingest(context.Background(), "gw", items); err != nil || got.Load() != "" {
		t.Fatalf("without a trace: sent clock %q, %v; want none", got.Load(), err)
	}
}
