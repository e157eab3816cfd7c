package gateway

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// replaysRefused seals n APDUs as the meter and delivers each to g twice,
// then a copy with a flipped bit under a fresh counter and the genuine one
// after it: each genuine APDU opens once, a replay is refused as
// protocol.ErrReplay, a forgery as protocol.ErrAuthentication without
// blocking the genuine APDU of its counter (WindowOnlyAuthentic).
func replaysRefused(g *Gateway, meter protocol.SystemTitle, ms *protocol.Sender, n int) error {
	for i := range n {
		a, err := ms.Seal(nil, protocol.TagDataNotification, fmt.Appendf(nil, "reading %d", i))
		if err != nil {
			return err
		}
		if i%2 == 1 {
			forged := append([]byte(nil), a...)
			forged[len(forged)-1] ^= 1
			if err := g.openFromMeter(meter, forged); !errors.Is(err, protocol.ErrAuthentication) {
				return fmt.Errorf("forged APDU %d: %v", i, err)
			}
		}
		if err := g.openFromMeter(meter, a); err != nil {
			return fmt.Errorf("genuine APDU %d: %w", i, err)
		}
		if err := g.openFromMeter(meter, a); !errors.Is(err, protocol.ErrReplay) {
			return fmt.Errorf("replayed APDU %d: %v", i, err)
		}
	}
	return nil
}

// TestGatewayOpensThroughChannelMachine: the gateway's decisions on APDUs
// from a meter are the generated Channel machine's Receive (and a key
// agreement its Rekey): one Receive step per APDU whose counter is fresh,
// a refusal by its guard m.c \notin seen for each replay; and the guarantee
// comes from the machine: with a mutant of Step that lacks that guard, the
// same gateway code opens a replay, and the check says so.
func TestGatewayOpensThroughChannelMachine(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	run := func(step chStepFunc) (map[string]int, error) {
		mkeys, gkeys, _ := agreeKeys(t, meter, gwTitle)
		ms, err := protocol.NewSender(mkeys, protocol.NewMemStore())
		if err != nil {
			t.Fatal(err)
		}
		steps := map[string]int{}
		g := &Gateway{chStep: func(p *channelParams, s *channelState, ev channelEvent, out *channelOutput) error {
			err := step(p, s, ev, out)
			if err == nil {
				steps[out.Action]++
			} else if errors.Is(err, statemachine.ErrNotEnabled) {
				steps["refused"]++
			}
			return err
		}}
		c, err := g.rekey(meter, nil, gkeys, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.gkey() != 2 {
			t.Fatalf("epoch after the first key agreement: %d", c.gkey())
		}
		g.sessions = map[protocol.SystemTitle]*session{meter: {channel: c}}
		return steps, replaysRefused(g, meter, ms, 40)
	}
	steps, err := run(channelStep)
	if err != nil {
		t.Fatalf("the generated machine: %v", err)
	}
	// 40 genuine, 20 forged (fresh counters: a Receive that changes
	// nothing), 40 replays refused by the guard.
	if steps["Rekey"] != 1 || steps["Receive"] != 60 || steps["refused"] != 40 {
		t.Fatalf("steps %v, want 1 Rekey, 60 Receive, 40 refused", steps)
	}
	mutant := func(p *channelParams, s *channelState, ev channelEvent, out *channelOutput) error {
		if ev.Kind == channelReceive {
			q := *p
			q.Store = windowStore{} // m.c \notin seen always holds
			p = &q
		}
		return channelStep(p, s, ev, out)
	}
	if _, err := run(mutant); err == nil {
		t.Fatal("a Receive without its window guard went unnoticed: the gateway does not open through the machine")
	}
}

// BenchmarkOpenPathVsReceiver interleaves, in rounds of 64 APDUs of 128
// bytes from a meter, the gateway's open path on the generated Channel
// machine and protocol.Receiver's (the hand-written window it replaced),
// and reports each one's ns per APDU and their ratio. Both return the
// plaintext in a new slice, as the gateway does.
func BenchmarkOpenPathVsReceiver(b *testing.B) {
	const round, ring = 64, 4096
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mkeys, gkeys, _ := agreeKeys(b, meter, gwTitle)
	ms, _ := protocol.NewSender(mkeys, protocol.NewMemStore())
	apdus := make([][]byte, ring)
	for i := range apdus {
		apdus[i], _ = ms.Seal(nil, protocol.TagDataNotification, make([]byte, 128))
	}
	g := &Gateway{chStep: channelStep}
	var c *meterChannel
	var r *protocol.Receiver
	var next int
	var machine, receiver time.Duration
	b.ReportAllocs()
	for b.Loop() {
		if next+round > ring || c == nil {
			c, _ = g.rekey(meter, nil, gkeys, 0) // a fresh window: the same APDUs open again
			r, _ = protocol.NewReceiver(gkeys)
			next = 0
		}
		t0 := time.Now()
		for i := range round {
			if _, err := g.open(c, apdus[next+i]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for i := range round {
			if _, _, err := r.Open(nil, apdus[next+i]); err != nil {
				b.Fatal(err)
			}
		}
		t2 := time.Now()
		next += round
		machine, receiver = machine+t1.Sub(t0), receiver+t2.Sub(t1)
	}
	n := float64(b.N) * round
	b.ReportMetric(float64(machine.Nanoseconds())/n, "machine-ns/APDU")
	b.ReportMetric(float64(receiver.Nanoseconds())/n, "receiver-ns/APDU")
	b.ReportMetric(float64(machine)/float64(receiver), "machine/receiver")
}

// BenchmarkOpenPathVsRawGCM interleaves, in rounds of 64 APDUs of 128
// bytes from a meter, the gateway's open path (header parse, AES-GCM open,
// the generated Channel machine's Receive with the window as its seen) and
// raw AES-GCM open of the same ciphertexts (crypto/aes, crypto/cipher, the
// same nonces and tag size), both into a new plaintext slice as the gateway
// returns one, and reports each one's ns per APDU, the ratio of the sums
// and the median of the rounds' ratios.
func BenchmarkOpenPathVsRawGCM(b *testing.B) {
	const round, ring = 64, 4096
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mkeys, gkeys, _ := agreeKeys(b, meter, gwTitle)
	ms, _ := protocol.NewSender(mkeys, protocol.NewMemStore())
	apdus := make([][]byte, ring)
	type sealed struct{ nonce, aad, ct []byte }
	raws := make([]sealed, ring)
	blk, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCMWithTagSize(blk, protocol.TagLen)
	for i := range apdus {
		apdus[i], _ = ms.Seal(nil, protocol.TagDataNotification, make([]byte, 128))
		n := make([]byte, protocol.NonceLen)
		n[protocol.NonceLen-1], n[protocol.NonceLen-2] = byte(i), byte(i>>8)
		raws[i] = sealed{n, n[:10], gcm.Seal(nil, n, make([]byte, 128), n[:10])}
	}
	g := &Gateway{chStep: channelStep}
	var c *meterChannel
	var next int
	var path, raw time.Duration
	ratios := make([]float64, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		if next+round > ring || c == nil {
			c, _ = g.rekey(meter, nil, gkeys, 0) // a fresh window: the same APDUs open again
			next = 0
		}
		t0 := time.Now()
		for i := range round {
			if _, err := g.open(c, apdus[next+i]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for i := range round {
			r := raws[next+i]
			if _, err := gcm.Open(nil, r.nonce, r.ct, r.aad); err != nil {
				b.Fatal(err)
			}
		}
		t2 := time.Now()
		next += round
		path, raw = path+t1.Sub(t0), raw+t2.Sub(t1)
		if len(ratios) < cap(ratios) {
			ratios = append(ratios, float64(t1.Sub(t0))/float64(t2.Sub(t1)))
		}
	}
	b.StopTimer()
	slices.Sort(ratios)
	n := float64(b.N) * round
	b.ReportMetric(float64(path.Nanoseconds())/n, "gateway-ns/APDU")
	b.ReportMetric(float64(raw.Nanoseconds())/n, "raw-ns/APDU")
	b.ReportMetric(float64(path)/float64(raw), "gateway/raw")
	b.ReportMetric(ratios[len(ratios)/2], "median-gateway/raw")
}

// TestGatewayLogsChannelSteps: with a trace, the gateway logs its Channel
// machine's Rekey and the Receive of each authentic APDU, each with the
// spec's seen after the step; a replay (refused by the guard) and a
// forgery (a step that changes nothing) are not logged. A second key's
// machine continues the same log.
func TestGatewayLogsChannelSteps(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mkeys, gkeys, _ := agreeKeys(t, meter, gwTitle)
	ms, err := protocol.NewSender(mkeys, protocol.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	td, err := statemachine.NewTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{chStep: channelStep, cfg: Config{Trace: td}}
	c, err := g.rekey(meter, nil, gkeys, 0)
	if err != nil {
		t.Fatal(err)
	}
	a0, _ := ms.Seal(nil, protocol.TagDataNotification, []byte("reading 0"))
	a1, _ := ms.Seal(nil, protocol.TagDataNotification, []byte("reading 1"))
	forged := append([]byte(nil), a1...)
	forged[len(forged)-1] ^= 1
	for i, a := range [][]byte{a0, a0, forged, a1} {
		_, err := g.open(c, a)
		if ok := err == nil; ok != (i == 0 || i == 3) {
			t.Fatalf("APDU %d: %v", i, err)
		}
	}
	if _, err := g.rekey(meter, c, gkeys, 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "channel", fmt.Sprintf("%x", meter[:]), "gateway.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := statemachine.ReadTrace(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`Rekey {"gkey":2,"gopen":true,"seen":[]}`, `Receive {"gkey":2,"gopen":true,"seen":[0]}`,
		`Receive {"gkey":2,"gopen":true,"seen":[0,1]}`, `Rekey {"gkey":3,"gopen":true,"seen":[]}`}
	if len(lines) != len(want) {
		t.Fatalf("%d lines logged, want %d: %+v", len(lines), len(want), lines)
	}
	for i, l := range lines {
		if got := l.Action + " " + string(l.State); got != want[i] || l.Clock != uint64(i+1) || l.Role != "gateway" {
			t.Errorf("line %d: %s at %d, want %s at %d", i+1, got, l.Clock, want[i], i+1)
		}
	}
}

// TestGatewayLogsUnfinishedAgreements: when the meter's answer says it
// answered agreements the gateway's log lacks (an earlier incarnation was
// killed after the meter's Agree), the gateway logs their Rekeys before
// its own; a restarted gateway logs its Restart and continues the log's
// numbering; an answer too far ahead is refused.
func TestGatewayLogsUnfinishedAgreements(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	_, gkeys, _ := agreeKeys(t, meter, gwTitle)
	td, err := statemachine.NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{chStep: channelStep, cfg: Config{Trace: td}}
	c, err := g.rekey(meter, nil, gkeys, 2)
	if err != nil || c.gkey() != 2 {
		t.Fatalf("first agreement: epoch %v, %v", c, err)
	}
	// A new incarnation (prev nil) whose meter answered agreement 5.
	g2 := &Gateway{chStep: channelStep, cfg: Config{Trace: td}}
	if c, err = g2.rekey(meter, nil, gkeys, 5); err != nil || c.gkey() != 5 {
		t.Fatalf("after two unfinished agreements: %v, %v", c, err)
	}
	rec, _ := td.Recorder(fmt.Sprintf("channel/%x/gateway", meter[:]))
	if rec.LastClock() != 5 {
		t.Fatalf("%d steps logged, want a Rekey, a Restart and 3 Rekeys", rec.LastClock())
	}
	if _, err := g2.rekey(meter, c, gkeys, 5+maxUnfinished+2); !errors.Is(err, ErrEpochAhead) {
		t.Fatalf("an answer %d agreements ahead: %v", maxUnfinished+2, err)
	}
}
