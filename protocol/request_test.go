package protocol

import (
	"errors"
	"testing"
)

func TestPDURoundTripAndStrictness(t *testing.T) {
	p := PDU{Kind: PDUManifest, Request: 7, Campaign: 3, Body: []byte("manifest")}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalPDU(b)
	if err != nil || got.Kind != p.Kind || got.Request != 7 || got.Campaign != 3 || string(got.Body) != "manifest" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for i := range b {
		if _, err := UnmarshalPDU(b[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	if _, err := UnmarshalPDU(append(b, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
	if _, err := (&PDU{Kind: PDUGetKept + 1}).Marshal(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := (&PDU{Kind: PDUData, Body: make([]byte, MaxPDUBody+1)}).Marshal(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("oversized body: %v", err)
	}
}
