package plc

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func genParam(t *rapid.T, label string, window bool) Param {
	if !rapid.Bool().Draw(t, label+" present") {
		return Param{}
	}
	n := rapid.SampledFrom([]uint8{1, 2, 4}).Draw(t, label+" len")
	hi := MaxInfoLimit
	if window {
		hi = maxWindow
	}
	if n == 1 {
		hi = min(hi, 0xFF)
	}
	return Param{Value: uint32(rapid.IntRange(1, hi).Draw(t, label)), Len: n}
}

func genLinkParams(t *rapid.T) LinkParams {
	return LinkParams{
		MaxInfoTX: genParam(t, "tx", false), MaxInfoRX: genParam(t, "rx", false),
		WindowTX: genParam(t, "wtx", true), WindowRX: genParam(t, "wrx", true),
	}
}

// TestLinkParamsRoundTrip: marshal then parse is the identity on every valid
// field, widths included, and every proper prefix of an encoding is refused.
func TestLinkParamsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genLinkParams(t)
		enc, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshal %+v: %v", p, err)
		}
		got, err := ParseLinkParams(enc)
		if err != nil {
			t.Fatalf("parse % X: %v", enc, err)
		}
		if got != p {
			t.Fatalf("round trip %+v -> % X -> %+v", p, enc, got)
		}
		for i := range len(enc) {
			if _, err := ParseLinkParams(enc[:i]); !errors.Is(err, ErrParameters) {
				t.Fatalf("prefix % X: %v", enc[:i], err)
			}
		}
	})
}

// TestLinkParamsStrict lists malformed fields and what each must fail with.
func TestLinkParamsStrict(t *testing.T) {
	for _, c := range []struct{ name, hex string }{
		{"empty", ""},
		{"wrong format identifier", "82 80 03 05 01 80"},
		{"wrong group identifier", "81 81 03 05 01 80"},
		{"group length too long", "81 80 04 05 01 80"},
		{"group length too short", "81 80 02 05 01 80"},
		{"trailing byte", "81 80 03 05 01 80 00"},
		{"unknown parameter", "81 80 03 09 01 80"},
		{"repeated parameter", "81 80 06 05 01 80 05 01 80"},
		{"out of order", "81 80 06 06 01 80 05 01 80"},
		{"three-byte value", "81 80 05 05 03 00 00 80"},
		{"zero-length value", "81 80 02 05 00"},
		{"value truncated", "81 80 03 05 02 00"},
		{"header truncated", "81 80 01 05"},
		{"information length 0", "81 80 03 05 01 00"},
		{"information length over the frame", "81 80 04 05 02 08 00"},
		{"window 0", "81 80 06 07 04 00 00 00 00"},
		{"window 8", "81 80 06 08 04 00 00 00 08"},
		{"window in the high bytes", "81 80 06 07 04 01 00 00 01"},
	} {
		if p, err := ParseLinkParams(unhex(t, c.hex)); !errors.Is(err, ErrParameters) {
			t.Errorf("%s: %+v, %v; want ErrParameters", c.name, p, err)
		}
	}
	if p, err := ParseLinkParams(unhex(t, "81 80 00")); err != nil || p != (LinkParams{}) {
		t.Errorf("empty group: %+v, %v", p, err)
	}
	for _, bad := range []LinkParams{
		{MaxInfoTX: Param{Value: 300, Len: 1}},
		{WindowRX: Param{Value: 9, Len: 4}},
		{MaxInfoRX: Param{Value: 128, Len: 3}},
	} {
		if b, err := bad.Marshal(); !errors.Is(err, ErrParameters) {
			t.Errorf("marshal %+v: % X, %v", bad, b, err)
		}
	}
}

// TestNegotiation checks both halves against hand-computed answers: each
// end ends with the minimum of its own limit and the peer's offer for the
// other direction, the defaults (128, 1) standing in for absent parameters.
func TestNegotiation(t *testing.T) {
	server := Negotiated{MaxInfoTX: 100, MaxInfoRX: 200, WindowTX: 3, WindowRX: 7}
	ua, use := Answer(LinkParams{MaxInfoTX: InfoParam(150), MaxInfoRX: InfoParam(90), WindowTX: WindowParam(5), WindowRX: WindowParam(2)}, server)
	if want := (Negotiated{MaxInfoTX: 90, MaxInfoRX: 150, WindowTX: 2, WindowRX: 5}); use != want {
		t.Fatalf("server uses %+v, want %+v", use, want)
	}
	if want := (LinkParams{MaxInfoTX: InfoParam(90), MaxInfoRX: InfoParam(150), WindowTX: WindowParam(2), WindowRX: WindowParam(5)}); ua != want {
		t.Fatalf("UA %+v, want %+v", ua, want)
	}
	client := Negotiated{MaxInfoTX: 150, MaxInfoRX: 90, WindowTX: 5, WindowRX: 2}
	if got := Accept(client, ua); got != (Negotiated{MaxInfoTX: 150, MaxInfoRX: 90, WindowTX: 5, WindowRX: 2}) {
		t.Fatalf("client uses %+v", got)
	}
	// An SNRM without parameters proposes the defaults.
	if _, use := Answer(LinkParams{}, server); use != (Negotiated{MaxInfoTX: 100, MaxInfoRX: 128, WindowTX: 1, WindowRX: 1}) {
		t.Fatalf("answer to a bare SNRM: %+v", use)
	}
	// A UA without parameters grants the defaults.
	if got := Accept(Negotiated{MaxInfoTX: 512, MaxInfoRX: 64, WindowTX: 7, WindowRX: 7}, LinkParams{}); got != (Negotiated{MaxInfoTX: 128, MaxInfoRX: 64, WindowTX: 1, WindowRX: 1}) {
		t.Fatalf("accepting a bare UA: %+v", got)
	}
}

// TestLinkFollowsCapturedUA connects our gateway end to the UA a Landis+Gyr
// E650 sent (jDLMS HdlcFrameTest decode1: transmit 128, receive 62, windows
// 1) and checks that the link then cuts APDUs into 62-byte segments (LLC
// header included) and keeps one frame outstanding.
func TestLinkFollowsCapturedUA(t *testing.T) {
	gw, err := NewLink(LinkConfig{Local: Addr1(48), Remote: Addr1(1), Role: Primary, RetransmitTimeout: time.Second, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	gw.Connect(now)
	if _, err := gw.Send(bytes.Repeat([]byte{0xC0}, 200)); err != nil {
		t.Fatal(err)
	}
	frames, _ := gw.Poll(now, nil)
	if len(frames) != 1 || frames[0].Control != UControl(KindSNRM, true) {
		t.Fatalf("before the UA: %+v", frames)
	}
	p, err := ParseLinkParams(frames[0].Info)
	if err != nil || p != (Negotiated{MaxInfoTX: 128, MaxInfoRX: 128, WindowTX: 7, WindowRX: 7}).Proposal() {
		t.Fatalf("SNRM proposes %+v (%v)", p, err)
	}
	if _, err := gw.Receive(Frame{Dest: Addr1(48), Src: Addr1(1), Control: IControl(0, 0, true), Info: []byte{1}}, now); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("I frame before the UA: %v", err)
	}
	ua, err := DecodeFrame(unhex(t, "7EA01E610373B57C81801205018006013E07040000000108040000000107227E"), MaxInfoLimit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Receive(ua, now); err != nil {
		t.Fatal(err)
	}
	if got := gw.Negotiated(); got != (Negotiated{MaxInfoTX: 62, MaxInfoRX: 128, WindowTX: 1, WindowRX: 1}) {
		t.Fatalf("negotiated %+v", got)
	}
	frames, _ = gw.Poll(now, nil)
	if len(frames) != 1 || len(frames[0].Info) != 62 || !frames[0].Segmented || !bytes.Equal(frames[0].Info[:3], []byte{0xE6, 0xE6, 0x00}) {
		t.Fatalf("first segment: %d frames, %+v", len(frames), frames)
	}
	// Window 1: nothing more until the meter acknowledges.
	if more, _ := gw.Poll(now, nil); len(more) != 0 {
		t.Fatalf("%d frames beyond the window", len(more))
	}
	// The meter may not send more than 128 bytes in one frame either.
	big := Frame{Dest: Addr1(48), Src: Addr1(1), Control: IControl(0, 1, true), Info: make([]byte, 129)}
	if _, err := gw.Receive(big, now); !errors.Is(err, ErrInfoTooLong) {
		t.Fatalf("129-byte I frame: %v", err)
	}
}

// TestLinkChecksLLC: a complete APDU that does not open with the peer's LLC
// header is refused with ErrLLC and not delivered, though the frame is
// acknowledged; the right header is stripped before delivery.
func TestLinkChecksLLC(t *testing.T) {
	cfg := LinkConfig{Local: Addr1(16), Remote: ServerAddr(1, 17), Role: Primary, RetransmitTimeout: time.Second, MaxRetries: 3}
	gw, _ := NewLink(cfg)
	from := func(ns uint8, info ...byte) Frame {
		return Frame{Dest: cfg.Local, Src: cfg.Remote, Control: IControl(ns, 0, true), Info: info}
	}
	for i, c := range []struct {
		info []byte
		ok   bool
	}{
		{[]byte{0xE6, 0xE6, 0x00, 0xC4}, false}, // a command header from the server
		{[]byte{0xC4, 0x01, 0xC1, 0x00}, false}, // no header at all
		{[]byte{0xE6, 0xE7}, false},             // truncated
		{[]byte{0xE6, 0xE7, 0x01, 0xC4}, false}, // LLC quality not 0
		{[]byte{0xE7, 0xE7, 0x00, 0xC4}, false}, // another destination LSAP
		{[]byte{0xE6, 0xE7, 0x00, 0xC4}, true},
	} {
		ev, err := gw.Receive(from(uint8(i), c.info...), time.Time{})
		if c.ok {
			if err != nil || len(ev.Delivered) != 1 || !bytes.Equal(ev.Delivered[0], []byte{0xC4}) {
				t.Errorf("% X: %v, delivered %X", c.info, err, ev.Delivered)
			}
			continue
		}
		if !errors.Is(err, ErrLLC) || len(ev.Delivered) != 0 {
			t.Errorf("% X: %v, delivered %X; want ErrLLC and nothing", c.info, err, ev.Delivered)
		}
	}
	// The header may span segments: it is checked on the whole APDU.
	mt, _ := NewLink(LinkConfig{Local: cfg.Remote, Remote: cfg.Local, Role: Secondary, RetransmitTimeout: time.Second, MaxRetries: 3})
	for i, seg := range [][]byte{{0xE6}, {0xE6, 0x00}, {0xC0, 0x01}} {
		f := Frame{Segmented: i < 2, Dest: cfg.Remote, Src: cfg.Local, Control: IControl(uint8(i), 0, true), Info: seg}
		ev, err := mt.Receive(f, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 && (len(ev.Delivered) != 1 || !bytes.Equal(ev.Delivered[0], []byte{0xC0, 0x01})) {
			t.Fatalf("delivered %X", ev.Delivered)
		}
	}
}

func TestUIFrameLLC(t *testing.T) {
	f, err := UIFrame(Addr1(0x7F), Addr1(16), Primary, []byte{0x0F, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := f.Marshal()
	g, err := DecodeFrame(enc, DefaultMaxInfo)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := UIPayload(g, Primary); err != nil || !bytes.Equal(p, []byte{0x0F, 1, 2}) {
		t.Fatalf("UI payload %X, %v", p, err)
	}
	if _, err := UIPayload(g, Secondary); !errors.Is(err, ErrLLC) {
		t.Fatalf("client header taken for a server's: %v", err)
	}
	if _, err := UIPayload(Frame{Control: IControl(0, 0, false), Info: g.Info}, Primary); !errors.Is(err, ErrControl) {
		t.Fatalf("I frame as UI: %v", err)
	}
	if _, err := UIFrame(Addr1(1), Addr1(2), 0, nil); !errors.Is(err, ErrBadParameter) {
		t.Fatalf("no role: %v", err)
	}
}

// FuzzParseLinkParams: SNRM and UA parameters come from the peer before
// anything is authenticated. Whatever the parser accepts must re-encode to
// the same bytes (parse∘marshal = id) and nothing may panic.
func FuzzParseLinkParams(f *testing.F) {
	for _, g := range goldenFrames {
		if g.params != nil {
			enc, _ := g.params.Marshal()
			f.Add(enc)
		}
	}
	f.Add([]byte{0x81, 0x80, 0x00})
	f.Add([]byte{0x81, 0x80, 0x03, 0x06, 0x01, 0xC8})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseLinkParams(b)
		if err != nil {
			if !errors.Is(err, ErrParameters) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		re, err := p.Marshal()
		if err != nil {
			t.Fatalf("accepted %+v does not marshal: %v", p, err)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("accepted % X, re-encodes as % X", b, re)
		}
	})
}

func BenchmarkParseLinkParams(b *testing.B) {
	in := unhex(b, "8180140502008006020080070400000001080400000001")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseLinkParams(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinkBlockTransfer moves one signed load-profile block (523 bytes
// of APDU, 5 segments with the LLC header) from meter to gateway over a
// lossless pair of link ends, acknowledgements included.
func BenchmarkLinkBlockTransfer(b *testing.B) {
	cfg := LinkConfig{Local: ServerAddr(1, 17), Remote: Addr1(16), Role: Secondary, RetransmitTimeout: time.Second, MaxRetries: 3}
	mt, _ := NewLink(cfg)
	cfg.Local, cfg.Remote, cfg.Role = cfg.Remote, cfg.Local, Primary
	gw, _ := NewLink(cfg)
	block := make([]byte, 523)
	now := time.Unix(0, 0)
	var frames []Frame
	b.ReportAllocs()
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		if _, err := mt.Send(block); err != nil {
			b.Fatal(err)
		}
		got := 0
		for !mt.Idle() || got == 0 {
			frames, _ = mt.Poll(now, frames[:0])
			for _, f := range frames {
				ev, err := gw.Receive(f, now)
				if err != nil {
					b.Fatal(err)
				}
				got += len(ev.Delivered)
			}
			frames, _ = gw.Poll(now, frames[:0])
			for _, f := range frames {
				if _, err := mt.Receive(f, now); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
