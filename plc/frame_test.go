package plc

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func TestCRC16X25CheckValue(t *testing.T) {
	if got := CRC16X25([]byte("123456789")); got != 0x906E {
		t.Fatalf("CRC-16/X.25 check value = %#04x, want 0x906e", got)
	}
}

// TestKnownFrame decodes an SNRM frame as printed in the DLMS Green Book
// examples (client 0x21, server 0x03, no information field).
func TestKnownFrame(t *testing.T) {
	f := Frame{Dest: Addr1(1), Src: Addr1(0x10), Control: UControl(KindSNRM, true)}
	enc, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// 7E A0 07 03 21 93 FCS FCS 7E
	if want := []byte{0x7E, 0xA0, 0x07, 0x03, 0x21, 0x93}; !bytes.Equal(enc[:6], want) {
		t.Fatalf("header % x, want % x", enc[:6], want)
	}
	if !bytes.Equal(enc[6:8], []byte{0x0F, 0x01}) {
		t.Fatalf("FCS % x, want 0f 01 (Green Book SNRM example)", enc[6:8])
	}
	got, err := DecodeFrame(enc, DefaultMaxInfo)
	if err != nil {
		t.Fatal(err)
	}
	if k, _, _, pf := ParseControl(got.Control); k != KindSNRM || !pf {
		t.Fatalf("kind %v pf %v", k, pf)
	}
}

func genAddress(t *rapid.T, label string) Address {
	l := rapid.SampledFrom([]uint8{1, 2, 4}).Draw(t, label+"len")
	v := rapid.Uint32Range(0, 1<<(7*uint(l))-1).Draw(t, label)
	return Address{Value: v, Len: l}
}

func genFrame(t *rapid.T) Frame {
	f := Frame{
		Segmented: rapid.Bool().Draw(t, "seg"),
		Dest:      genAddress(t, "dest"),
		Src:       genAddress(t, "src"),
		Control:   rapid.Byte().Draw(t, "ctl"),
	}
	if n := rapid.IntRange(0, DefaultMaxInfo).Draw(t, "infolen"); n > 0 {
		f.Info = rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "info")
	}
	return f
}

func TestFrameRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genFrame(t)
		enc, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) != f.EncodedLen() {
			t.Fatalf("encoded %d bytes, EncodedLen %d", len(enc), f.EncodedLen())
		}
		got, err := DecodeFrame(enc, DefaultMaxInfo)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.Segmented != f.Segmented || got.Dest != f.Dest || got.Src != f.Src || got.Control != f.Control || !bytes.Equal(got.Info, f.Info) {
			t.Fatalf("round trip: got %+v want %+v", got, f)
		}
		re, _ := got.Marshal()
		if !bytes.Equal(re, enc) {
			t.Fatal("re-encoding differs")
		}
	})
}

// TestCorruptionRejected flips 1..3 bits anywhere between the flags: HCS or
// FCS (or the length, format and address checks) must reject every such
// frame, since CRC-16 detects all errors of up to 3 bits.
func TestCorruptionRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genFrame(t)
		enc, _ := f.Marshal()
		bad := bytes.Clone(enc)
		flips := rapid.IntRange(1, 3).Draw(t, "flips")
		seen := map[int]bool{}
		for range flips {
			bit := rapid.IntRange(8, (len(bad)-1)*8-1).Draw(t, "bit")
			if seen[bit] {
				continue
			}
			seen[bit] = true
			bad[bit/8] ^= 1 << (bit % 8)
		}
		if _, err := DecodeFrame(bad, DefaultMaxInfo); err == nil {
			t.Fatalf("corrupted frame accepted: % x (was % x)", bad, enc)
		}
	})
}

func TestEveryPrefixRejected(t *testing.T) {
	f := Frame{Dest: ServerAddr(1, 17), Src: Addr1(0x10), Control: IControl(3, 5, true), Info: bytes.Repeat([]byte{0xAB}, 40)}
	enc, _ := f.Marshal()
	for i := range len(enc) {
		if _, err := DecodeFrame(enc[:i], DefaultMaxInfo); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFlag) {
			t.Fatalf("prefix of %d bytes: err %v, want truncated", i, err)
		}
	}
	if _, err := DecodeFrame(append(bytes.Clone(enc), 0), DefaultMaxInfo); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestVectors checks the failure class of each bad vector in testdata.
func TestVectors(t *testing.T) {
	good := Frame{Dest: Addr1(1), Src: Addr1(0x10), Control: IControl(0, 0, false), Info: []byte("hello")}
	enc, _ := good.Marshal()
	mut := func(i int, x byte) []byte { b := bytes.Clone(enc); b[i] ^= x; return b }
	long := Frame{Dest: Addr1(1), Src: Addr1(2), Info: make([]byte, 200)}
	longEnc, err := long.Append(nil, 256)
	if err != nil {
		t.Fatal(err)
	}
	// A 3-byte address: dest bytes without end bit for two bytes then end.
	threeByte := []byte{0x7E, 0xA0, 0x08, 0x02, 0x02, 0x03, 0x21, 0x93, 0, 0, 0x7E}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"no opening flag", mut(0, 0x01), ErrFlag},
		{"no closing flag", mut(len(enc)-1, 0x01), ErrFlag},
		{"wrong format type", mut(1, 0x40), ErrFormat},
		{"header corrupted", mut(4, 0x02), ErrHCS},
		{"info corrupted", mut(9, 0x80), ErrFCS},
		{"length too short", mut(2, 0x02), ErrHCS},
		{"length too long", mut(2, 0x01), ErrTruncated},
		{"info over limit", longEnc, ErrInfoTooLong},
		{"three-byte address", threeByte, ErrAddress},
	}
	for _, c := range cases {
		if _, err := DecodeFrame(c.in, DefaultMaxInfo); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range []Frame{
		{Dest: Addr1(1), Src: Addr1(0x10), Control: UControl(KindSNRM, true)},
		{Dest: ServerAddr(1, 17), Src: Addr1(0x10), Control: IControl(1, 2, false), Info: []byte{0xE6, 0xE6, 0, 1, 2, 3}},
		{Segmented: true, Dest: Address{Value: 1 << 20, Len: 4}, Src: Addr1(3), Control: IControl(7, 7, true), Info: bytes.Repeat([]byte{0x7E}, 128)},
	} {
		b, _ := fr.Marshal()
		f.Add(b)
	}
	for _, g := range goldenFrames { // SNRM and UA with parameters, I frames with LLC
		f.Add(unhex(f, g.hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b, DefaultMaxInfo)
		if err != nil {
			return
		}
		re, err := fr.Marshal()
		if err != nil {
			t.Fatalf("decoded frame does not re-encode: %v", err)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("decode/encode not identity:\n in % x\nout % x", b, re)
		}
	})
}
