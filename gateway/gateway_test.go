package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

func TestQueueSurvivesRestartAndTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue")
	q, err := OpenQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := q.push(wan.Item{Kind: wan.KindBlock, Raw: []byte(fmt.Sprintf("block %d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.ack(4); err != nil {
		t.Fatal(err)
	}
	if err := q.ack(7); !errors.Is(err, ErrQueue) {
		t.Fatalf("ack beyond the queue: %v", err)
	}
	q.Close()
	// A torn record at the end (power lost during an append that never
	// returned) is cut on reopen; everything acknowledged stays acknowledged.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 0, 9, 1, 2, 'x'})
	f.Close()
	q, err = OpenQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.Len() != 6 {
		t.Fatalf("%d pending after restart, want 6", q.Len())
	}
	if p := q.Pending(1); string(p[0].Raw) != "block 4" || p[0].Kind != wan.KindBlock {
		t.Fatalf("first pending: %+v", p[0])
	}
	if err := q.push(wan.Item{Kind: wan.KindReading, Raw: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 7 {
		t.Fatalf("append after a torn tail: %d pending", q.Len())
	}
}

// FuzzOpenFromMeter: whatever arrives from the medium toward the gateway,
// only an APDU the meter sealed under the session opens, and only once.
func FuzzOpenFromMeter(f *testing.F) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mkeys, gkeys, _ := agreeKeys(f, meter, gwTitle)
	ms, _ := protocol.NewSender(mkeys, protocol.NewMemStore())
	g := &Gateway{chStep: channelStep}
	gc, err := g.rekey(meter, nil, gkeys, 0)
	if err != nil {
		f.Fatal(err)
	}
	g.sessions = map[protocol.SystemTitle]*session{meter: {channel: gc}}
	sealed := map[string]bool{}
	for _, p := range []string{"reading", "block"} {
		a, _ := ms.Seal(nil, protocol.TagDataNotification, []byte(p))
		sealed[string(a)] = true
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := g.openFromMeter(meter, b); err == nil {
			if !sealed[string(b)] {
				t.Fatalf("forged APDU opened: % x", b)
			}
			delete(sealed, string(b)) // a second time would be a replay
		}
	})
}

// agreeKeys runs a signed key agreement between a gateway and a meter and
// returns the meter's and the gateway's session keys and the gateway's key.
func agreeKeys(tb testing.TB, meter, gw protocol.SystemTitle) (mkeys, gkeys protocol.SessionKeys, gk *ecdsa.PrivateKey) {
	tb.Helper()
	mk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	gk, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	gka, init, err := protocol.StartKeyAgreement(protocol.Suite1, gw, meter, gk, nil, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	mka, resp, err := protocol.StartKeyAgreement(protocol.Suite1, meter, gw, mk, init.Ephemeral, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	if mkeys, err = mka.Finish(init, &gk.PublicKey); err != nil {
		tb.Fatal(err)
	}
	if gkeys, err = gka.Finish(resp, &mk.PublicKey); err != nil {
		tb.Fatal(err)
	}
	return mkeys, gkeys, gk
}

// openSession gives g a session with meter under keys already agreed
// (agreeKeys), as a key agreement leaves it.
func openSession(tb testing.TB, g *Gateway, meter protocol.SystemTitle, gkeys protocol.SessionKeys) {
	tb.Helper()
	s := &session{}
	var err error
	if s.sender, err = protocol.NewSender(gkeys, protocol.NewMemStore()); err != nil {
		tb.Fatal(err)
	}
	if s.channel, err = g.rekey(meter, nil, gkeys, 0); err != nil {
		tb.Fatal(err)
	}
	g.sessions[meter] = s
}
