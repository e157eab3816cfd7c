package plc

import (
	"bytes"
	"testing"
)

// FuzzUnmarshalBitmap: a repair report from a meter is untrusted. Whatever
// the decoder accepts must re-encode to the same bytes (one encoding per
// bitmap), and nothing may panic.
func FuzzUnmarshalBitmap(f *testing.F) {
	b := NewBitmap(13)
	b.Set(0)
	b.Set(12)
	f.Add(b.Marshal(), uint16(13))
	f.Add([]byte{0, 8, 0xFF}, uint16(8))
	f.Add([]byte{0, 0}, uint16(0))
	f.Fuzz(func(t *testing.T, p []byte, blocks uint16) {
		got, err := UnmarshalBitmap(p, int(blocks))
		if err != nil {
			return
		}
		if re := got.Marshal(); !bytes.Equal(re, p) {
			t.Fatalf("accepted % x, re-encodes as % x", p, re)
		}
	})
}
