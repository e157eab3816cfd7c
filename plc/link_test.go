package plc

import (
	"bytes"
	"errors"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"
)

type inflight struct {
	at   int // tick of arrival
	ord  int // tie breaker drawn at random: reordering among same-tick arrivals
	to   int // 0: A receives, 1: B receives
	wire []byte
}

// TestReassemblyUnderLossDuplicationReordering drives two link ends over a
// lossy medium that also duplicates and reorders frames (any frame may
// overtake another within the frame lifetime) and checks that every APDU is
// delivered exactly once and in order, or that the sender reports failure
// for everything not delivered.
func TestReassemblyUnderLossDuplicationReordering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const tick = 10 * time.Millisecond
		lifetimeTicks := rapid.IntRange(1, 6).Draw(t, "lifetime")
		cfg := func(local, remote Address) LinkConfig {
			return LinkConfig{
				Local: local, Remote: remote,
				MaxInfo:           rapid.IntRange(8, 128).Draw(t, "maxinfo"),
				Window:            rapid.IntRange(1, 7).Draw(t, "window"),
				RetransmitTimeout: time.Duration(2*lifetimeTicks+2) * tick,
				MaxRetries:        rapid.IntRange(1, 12).Draw(t, "retries"),
				FrameLifetime:     time.Duration(lifetimeTicks) * tick,
			}
		}
		ca := cfg(Addr1(0x10), ServerAddr(1, 5))
		ca.Role = Primary
		cb := ca
		cb.Local, cb.Remote, cb.Role = ca.Remote, ca.Local, Secondary
		// With SNRM/UA each end brings its own limits and the link must
		// settle on the smaller ones; without, both ends were configured
		// alike out of band.
		connect := rapid.Bool().Draw(t, "connect")
		if connect {
			cb.MaxInfo = rapid.IntRange(8, 128).Draw(t, "maxinfo b")
			cb.Window = rapid.IntRange(1, 7).Draw(t, "window b")
		}
		a, err := NewLink(ca)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewLink(cb)
		base := time.Unix(0, 0)
		if connect {
			if _, err := a.Connect(base); err != nil {
				t.Fatal(err)
			}
		}
		maxInfo := min(ca.MaxInfo, cb.MaxInfo)
		loss := rapid.Float64Range(0, 0.4).Draw(t, "loss")
		dup := rapid.Float64Range(0, 0.3).Draw(t, "dup")

		var sent [][]byte
		ids := map[uint64]int{}
		for i := range rapid.IntRange(1, 12).Draw(t, "apdus") {
			n := rapid.IntRange(1, 600).Draw(t, "len")
			p := bytes.Repeat([]byte{byte(i)}, n)
			p[0] = byte(n)
			id, err := a.Send(p)
			if err != nil {
				t.Fatal(err)
			}
			ids[id] = i
			sent = append(sent, p)
		}
		var delivered [][]byte
		failed := map[int]bool{}
		confirmed := map[int]bool{}
		var medium []inflight
		put := func(to int, frames []Frame, now int) {
			for _, f := range frames {
				if k, _, _, _ := ParseControl(f.Control); k == KindI && len(f.Info) > maxInfo {
					t.Fatalf("I frame with %d bytes of information, negotiated %d", len(f.Info), maxInfo)
				}
				w, err := f.Append(nil, 128)
				if err != nil {
					t.Fatal(err)
				}
				copies := 1
				if rapid.Float64Range(0, 1).Draw(t, "d") < dup {
					copies = 2
				}
				for range copies {
					if rapid.Float64Range(0, 1).Draw(t, "l") < loss {
						continue
					}
					medium = append(medium, inflight{at: now + rapid.IntRange(1, lifetimeTicks).Draw(t, "delay"), ord: rapid.Int().Draw(t, "ord"), to: to, wire: w})
				}
			}
		}
		note := func(ev LinkEvents) {
			for _, id := range ev.Failed {
				failed[ids[id]] = true
			}
			for _, id := range ev.Confirmed {
				confirmed[ids[id]] = true
			}
		}
		now := 0
		for ; now < 1_000_000 && !(a.Idle() && len(medium) == 0) && !a.Failed(); now++ {
			at := base.Add(time.Duration(now) * tick)
			sort.SliceStable(medium, func(i, j int) bool {
				if medium[i].at != medium[j].at {
					return medium[i].at < medium[j].at
				}
				return medium[i].ord < medium[j].ord
			})
			k := 0
			for k < len(medium) && medium[k].at <= now {
				k++
			}
			arriving := medium[:k:k]
			medium = append([]inflight(nil), medium[k:]...)
			for _, m := range arriving {
				f, err := DecodeFrame(m.wire, 128)
				if err != nil {
					t.Fatal(err)
				}
				end := a
				if m.to == 1 {
					end = b
				}
				ev, err := end.Receive(f, at)
				if err != nil && !errors.Is(err, ErrLinkFailed) {
					t.Fatal(err)
				}
				delivered = append(delivered, ev.Delivered...)
				note(ev)
			}
			fa, ev := a.Poll(at, nil)
			note(ev)
			put(1, fa, now)
			fb, ev := b.Poll(at, nil)
			note(ev)
			put(0, fb, now)
		}
		if connect && a.Connected() {
			want := Negotiated{MaxInfoTX: maxInfo, MaxInfoRX: maxInfo, WindowTX: min(ca.Window, cb.Window), WindowRX: min(ca.Window, cb.Window)}
			if a.Negotiated() != want || b.Negotiated() != want {
				t.Fatalf("negotiated %+v and %+v, want %+v on both ends", a.Negotiated(), b.Negotiated(), want)
			}
		}
		if now == 1_000_000 {
			t.Fatalf("link neither finished nor failed within %d ticks", now)
		}
		if len(delivered) > len(sent) {
			t.Fatalf("%d APDUs delivered, only %d sent", len(delivered), len(sent))
		}
		for i, d := range delivered {
			if !bytes.Equal(d, sent[i]) {
				t.Fatalf("delivery %d is not APDU %d (len %d vs %d): duplicate, loss or reorder", i, i, len(d), len(sent[i]))
			}
		}
		for i := len(delivered); i < len(sent); i++ {
			if !failed[i] {
				t.Fatalf("APDU %d neither delivered nor reported failed (failed link: %v)", i, a.Failed())
			}
			if confirmed[i] {
				t.Fatalf("APDU %d confirmed but never delivered", i)
			}
		}
		for i := range sent {
			if confirmed[i] && failed[i] {
				t.Fatalf("APDU %d both confirmed and failed", i)
			}
		}
	})
}

func TestLinkWithoutLossConfirmsEverything(t *testing.T) {
	now := time.Unix(0, 0)
	a, _ := NewLink(LinkConfig{Local: Addr1(1), Remote: Addr1(2), Role: Primary, RetransmitTimeout: time.Second, MaxRetries: 3})
	b, _ := NewLink(LinkConfig{Local: Addr1(2), Remote: Addr1(1), Role: Secondary, RetransmitTimeout: time.Second, MaxRetries: 3})
	apdu := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes: 8 segments
	if _, err := a.Send(apdu); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	confirmed := 0
	for i := 0; i < 20 && !(a.Idle() && len(got) == 1); i++ {
		fa, _ := a.Poll(now, nil)
		for _, f := range fa {
			ev, err := b.Receive(f, now)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Delivered...)
		}
		fb, _ := b.Poll(now, nil)
		for _, f := range fb {
			ev, _ := a.Receive(f, now)
			confirmed += len(ev.Confirmed)
		}
	}
	if len(got) != 1 || !bytes.Equal(got[0], apdu) || confirmed != 1 {
		t.Fatalf("delivered %d, confirmed %d", len(got), confirmed)
	}
}

func TestLinkRejectsForeignAndUnnumberedFrames(t *testing.T) {
	a, _ := NewLink(LinkConfig{Local: Addr1(1), Remote: Addr1(2), Role: Primary, RetransmitTimeout: time.Second, MaxRetries: 3})
	if _, err := a.Receive(Frame{Dest: Addr1(1), Src: Addr1(9), Control: RRControl(0, true)}, time.Time{}); !errors.Is(err, ErrAddress) {
		t.Fatalf("foreign source: %v", err)
	}
	if _, err := a.Receive(Frame{Dest: Addr1(1), Src: Addr1(2), Control: UControl(KindFRMR, true)}, time.Time{}); !errors.Is(err, ErrControl) {
		t.Fatalf("FRMR: %v", err)
	}
	if _, err := NewLink(LinkConfig{Local: Addr1(1), Remote: Addr1(2), Role: Primary, Window: 8, RetransmitTimeout: time.Second, MaxRetries: 1}); !errors.Is(err, ErrBadParameter) {
		t.Fatalf("window 8: %v", err)
	}
}

// TestConnectWithoutAnswerFails: an SNRM nobody answers is repeated once per
// retransmission timeout, the link fails after MaxRetries repetitions and
// reports the APDUs queued meanwhile as failed; Connect starts it over.
func TestConnectWithoutAnswerFails(t *testing.T) {
	cfg := LinkConfig{Local: Addr1(16), Remote: ServerAddr(1, 17), Role: Primary, RetransmitTimeout: time.Second, MaxRetries: 2}
	gw, _ := NewLink(cfg)
	now := time.Unix(0, 0)
	gw.Connect(now)
	id, _ := gw.Send([]byte{0xC0, 0x01})
	snrms := 0
	var failed []uint64
	for i := 0; i < 10 && !gw.Failed(); i++ {
		frames, ev := gw.Poll(now, nil)
		failed = append(failed, ev.Failed...)
		for _, f := range frames {
			if k, _, _, _ := ParseControl(f.Control); k != KindSNRM {
				t.Fatalf("%v frame before the UA", k)
			}
			snrms++
		}
		now = now.Add(cfg.RetransmitTimeout)
	}
	if !gw.Failed() || snrms != 1+cfg.MaxRetries || len(failed) != 1 || failed[0] != id {
		t.Fatalf("failed %v after %d SNRMs, failed APDUs %v", gw.Failed(), snrms, failed)
	}
	if _, err := gw.Send([]byte{1}); !errors.Is(err, ErrLinkFailed) {
		t.Fatalf("send on a failed link: %v", err)
	}
	if _, err := gw.Connect(now); err != nil || gw.Failed() || gw.Connected() {
		t.Fatalf("reconnect: %v, failed %v connected %v", err, gw.Failed(), gw.Connected())
	}
	mt, _ := NewLink(LinkConfig{Local: cfg.Remote, Remote: cfg.Local, Role: Secondary, RetransmitTimeout: time.Second, MaxRetries: 2})
	if _, err := mt.Connect(now); !errors.Is(err, ErrControl) {
		t.Fatalf("secondary sent SNRM: %v", err)
	}
	if _, err := gw.Receive(Frame{Dest: cfg.Local, Src: cfg.Remote, Control: UControl(KindSNRM, true)}, now); !errors.Is(err, ErrControl) {
		t.Fatalf("SNRM to the primary: %v", err)
	}
	bad := Frame{Dest: cfg.Remote, Src: cfg.Local, Control: UControl(KindSNRM, true), Info: []byte{0x81, 0x80, 0x01, 0x05}}
	if _, err := mt.Receive(bad, now); !errors.Is(err, ErrParameters) || !mt.Idle() {
		t.Fatalf("malformed SNRM: %v, idle %v", err, mt.Idle())
	}
}
