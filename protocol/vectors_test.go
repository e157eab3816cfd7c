package protocol

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// The vectors in testdata/vectors.json are inputs to the strict decoders with
// the failure class each must produce ("ok" for valid ones). They pin the
// wire formats: a change in what a decoder accepts or why it refuses breaks
// this test.
type vector struct {
	Name    string `json:"name"`
	Decoder string `json:"decoder"`
	Hex     string `json:"hex"`
	Want    string `json:"want"`
}

var classes = map[string]error{
	"truncated": ErrTruncated, "trailing": ErrTrailing, "malformed": ErrMalformed,
	"too-long": ErrTooLong, "unknown-suite": ErrUnknownSuite,
}

var decoders = map[string]func([]byte) error{
	"secured-apdu":   func(b []byte) error { _, _, err := ParseSecured(b); return err },
	"key-agreement":  func(b []byte) error { _, err := UnmarshalKeyAgreement(b); return err },
	"firmware-block": func(b []byte) error { _, err := UnmarshalFirmwareBlock(b); return err },
	"signed-block":   func(b []byte) error { _, err := UnmarshalSignedBlock(b); return err },
}

func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 10 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		dec, ok := decoders[v.Decoder]
		if !ok {
			t.Fatalf("%s: unknown decoder %q", v.Name, v.Decoder)
		}
		err = dec(b)
		if v.Want == "ok" {
			if err != nil {
				t.Errorf("%s: %v, want ok", v.Name, err)
			}
			continue
		}
		want, ok := classes[v.Want]
		if !ok {
			t.Fatalf("%s: unknown class %q", v.Name, v.Want)
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", v.Name, err, want)
		}
	}
}
