package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
)

// TestApprovalBindsTheCommand: an approval verifies under its signer's key
// over that command only (another counter, kind or meter, another key:
// ErrApproval); it survives being embedded and carried in the signed
// command; its encoding is parsed strictly and within its caps.
func TestApprovalBindsTheCommand(t *testing.T) {
	k, other := mustKey(t), mustKey(t)
	c := Command{Meter: SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}, Counter: 7, Kind: CmdDisconnect, Issued: 1700000000}
	a, err := SignApproval(c, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyApproval(c, a, &k.PublicKey); err != nil {
		t.Fatal(err)
	}
	withTrace := c
	withTrace.Trace, withTrace.Approvals = 99, []Approval{a}
	if err := VerifyApproval(withTrace, a, &k.PublicKey); err != nil {
		t.Fatalf("the approvals and the trace clock are not signed: %v", err)
	}
	for name, d := range map[string]Command{
		"counter": {Meter: c.Meter, Counter: 8, Kind: c.Kind, Issued: c.Issued},
		"kind":    {Meter: c.Meter, Counter: 7, Kind: CmdReconnect, Issued: c.Issued},
		"meter":   {Meter: SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 2}, Counter: 7, Kind: c.Kind, Issued: c.Issued},
	} {
		if err := VerifyApproval(d, a, &k.PublicKey); !errors.Is(err, ErrApproval) || !errors.Is(err, ErrBadSignature) {
			t.Fatalf("approval moved to another %s: %v", name, err)
		}
	}
	if err := VerifyApproval(c, a, &other.PublicKey); !errors.Is(err, ErrApproval) {
		t.Fatalf("approval under another key: %v", err)
	}
	// Carried in the command the head-end signs.
	he := mustKey(t)
	c.Approvals = []Approval{a, a}
	signed, err := SignCommand(c, he, SubjectKeyID(&he.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PeekCommand(signed)
	if err != nil || len(got.Approvals) != 2 || VerifyApproval(got, got.Approvals[1], &k.PublicKey) != nil {
		t.Fatalf("approvals carried: %+v %v", got.Approvals, err)
	}
	// Caps and strict parsing.
	c.Approvals = make([]Approval, MaxApprovals+1)
	for i := range c.Approvals {
		c.Approvals[i] = a
	}
	if _, err := SignCommand(c, he, SubjectKeyID(&he.PublicKey), rand.Reader); !errors.Is(err, ErrTooLong) {
		t.Fatalf("%d approvals: %v", len(c.Approvals), err)
	}
	c.Approvals = []Approval{{KeyID: a.KeyID, Sig: a.Sig[:63]}}
	if _, err := SignCommand(c, he, SubjectKeyID(&he.PublicKey), rand.Reader); !errors.Is(err, ErrApproval) {
		t.Fatalf("a short signature: %v", err)
	}
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := UnmarshalApproval(b); err != nil || string(back.Sig) != string(a.Sig) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := UnmarshalApproval(append(b, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := UnmarshalApproval(b[:len(b)-1]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := (Approval{KeyID: a.KeyID}).Marshal(); !errors.Is(err, ErrApproval) {
		t.Fatalf("no signature: %v", err)
	}
	// The command to approve round-trips and carries no approvals.
	c.Approvals = nil
	enc, err := EncodeCommandToApprove(c)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DecodeCommandToApprove(enc); err != nil || d.Counter != c.Counter || d.Kind != c.Kind {
		t.Fatalf("command to approve: %+v %v", d, err)
	}
	c.Approvals = []Approval{a}
	withA, _ := marshal(c)
	if _, err := DecodeCommandToApprove(withA); !errors.Is(err, ErrApproval) {
		t.Fatalf("a command to approve with approvals: %v", err)
	}
}

// FuzzApproval: an approval and a command to approve parse strictly and
// within their caps. The wire accepts a valid non-canonical encoding
// (signatures are checked over what was decoded, protocol/cbor.go), so
// what parses must encode canonically to bytes that parse to the same
// value and encode the same again; an approval signed over the decoded
// command verifies over its re-encoding.
func FuzzApproval(f *testing.F) {
	k := mustKey(f)
	c := Command{Meter: SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}, Counter: 7, Kind: CmdDisconnect, Issued: 1700000000}
	a, err := SignApproval(c, k, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ab, err := a.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	cb, err := EncodeCommandToApprove(c)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ab)
	f.Add(cb)
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := UnmarshalApproval(b); err == nil {
			again, err := a.Marshal()
			if err != nil {
				t.Fatalf("approval % x does not re-encode: %v", b, err)
			}
			if a2, err := UnmarshalApproval(again); err != nil || !reflect.DeepEqual(a2, a) {
				t.Fatalf("approval % x re-encodes as % x, which parses to %+v (%v)", b, again, a2, err)
			}
		}
		if c, err := DecodeCommandToApprove(b); err == nil {
			again, err := EncodeCommandToApprove(c)
			if err != nil {
				t.Fatalf("command % x does not re-encode: %v", b, err)
			}
			c2, err := DecodeCommandToApprove(again)
			if err != nil || !reflect.DeepEqual(c2, c) {
				t.Fatalf("command % x re-encodes as % x, which parses to %+v (%v)", b, again, c2, err)
			}
			if third, err := EncodeCommandToApprove(c2); err != nil || !bytes.Equal(third, again) {
				t.Fatalf("the encoding of % x is not stable: % x, then % x (%v)", b, again, third, err)
			}
			sig, err := SignApproval(c, k, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyApproval(c2, sig, &k.PublicKey); err != nil {
				t.Fatalf("an approval of the decoded command does not verify over its re-encoding: %v", err)
			}
		}
	})
}
