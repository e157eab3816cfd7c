package protocol

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseSystemTitle(t *testing.T) {
	got, err := ParseSystemTitle("564D52000000002A")
	if err != nil || got != (SystemTitle{0x56, 0x4d, 0x52, 0, 0, 0, 0, 0x2a}) {
		t.Fatalf("ParseSystemTitle: %x, %v", got, err)
	}
	for _, bad := range []string{"", "564d52000000002", "564d52000000002a00", "564d52000000002g", " 564d52000000002a", "564d52000000002a0"} {
		if _, err := ParseSystemTitle(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSystemTitle(%q): %v, want ErrMalformed", bad, err)
		}
	}
}

// FuzzParseSystemTitle: what parses is exactly 16 hex digits, and prints
// back as them.
func FuzzParseSystemTitle(f *testing.F) {
	f.Add("564d52000000002a")
	f.Add("564d52000000002")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSystemTitle(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q: untyped error %v", s, err)
			}
			return
		}
		if hex.EncodeToString(got[:]) != strings.ToLower(s) {
			t.Fatalf("%q parsed as %x", s, got)
		}
	})
}
