package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestWakeUpReplayRefusedAfterRestart: an authentic wake-up makes the
// gateway call and flush; the same wake-up replayed is refused, also by
// the gateway reopened on its directory (the next `gateway run`), while a
// newer one is accepted. A wake-up signed by another key, of another kind
// or for another gateway never makes it call.
func TestWakeUpReplayRefusedAfterRestart(t *testing.T) {
	title := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 7}
	he, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	thief, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sign := func(c protocol.Command, k *ecdsa.PrivateKey) []byte {
		b, err := protocol.SignCommand(c, k, protocol.SubjectKeyID(&he.PublicKey), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	up := &fakeHeadEnd{stored: map[string]int{}}
	dir := t.TempDir()
	open := func() *Gateway {
		g, err := New(Config{Name: "gw-wake", Title: title, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	// Every wake-up finds an item queued, so an accepted one calls.
	queued := 0
	queue := func(g *Gateway) {
		t.Helper()
		queued++
		if err := g.Queue().push(wan.Item{Kind: wan.KindReading, Raw: []byte(fmt.Sprintf("signed reading %d", queued))}); err != nil {
			t.Fatal(err)
		}
	}
	// What a caller does: call out (Flush) only on an accepted wake-up.
	wakeUp := func(g *Gateway, signed []byte) error {
		if err := g.AcceptWakeUp(signed, &he.PublicKey); err != nil {
			return err
		}
		_, _, err := g.Flush(context.Background(), up, 500)
		return err
	}
	g := open()
	queue(g)
	wake5 := sign(protocol.Command{Meter: title, Counter: 5, Kind: protocol.CmdWakeUp}, he)
	if err := wakeUp(g, wake5); err != nil {
		t.Fatalf("authentic wake-up: %v", err)
	}
	if up.calls != 1 {
		t.Fatalf("an accepted wake-up made %d calls, want 1", up.calls)
	}
	refused := func(g *Gateway, name string, signed []byte) {
		t.Helper()
		queue(g)
		before := up.calls
		if err := wakeUp(g, signed); !errors.Is(err, ErrWakeUp) {
			t.Fatalf("%s: %v, want ErrWakeUp", name, err)
		}
		if up.calls != before {
			t.Fatalf("%s made the gateway call", name)
		}
	}
	refused(g, "replayed wake-up", wake5)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g = open()
	defer g.Close()
	refused(g, "wake-up replayed after a restart", wake5)
	refused(g, "forged wake-up", sign(protocol.Command{Meter: title, Counter: 9, Kind: protocol.CmdWakeUp}, thief))
	refused(g, "another gateway's wake-up", sign(protocol.Command{Meter: protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 8}, Counter: 9, Kind: protocol.CmdWakeUp}, he))
	refused(g, "a disconnect as wake-up", sign(protocol.Command{Meter: title, Counter: 9, Kind: protocol.CmdDisconnect}, he))
	before := up.calls
	if err := wakeUp(g, sign(protocol.Command{Meter: title, Counter: 6, Kind: protocol.CmdWakeUp}, he)); err != nil {
		t.Fatalf("newer wake-up after a restart: %v", err)
	}
	if up.calls != before+1 || g.Queue().Len() != 0 {
		t.Fatalf("the newer wake-up made %d calls and left %d items queued, want 1 call and none", up.calls-before, g.Queue().Len())
	}
}
