package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"
)

func TestCommandRolesAndBounds(t *testing.T) {
	meter, other := titles()
	he, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	sup, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	keys := func(kid []byte) (*ecdsa.PublicKey, func(CommandKind) bool, error) {
		switch string(kid) {
		case "head-end":
			return &he.PublicKey, func(CommandKind) bool { return true }, nil
		case "supplier":
			return &sup.PublicKey, func(k CommandKind) bool { return k == CmdTariff }, nil
		}
		return nil, nil, ErrWrongSigner
	}
	sign := func(c Command, k *ecdsa.PrivateKey, kid string) []byte {
		b, err := SignCommand(c, k, []byte(kid), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	disc := Command{Meter: meter, Counter: 5, Kind: CmdDisconnect, Issued: 1}
	if c, err := VerifyCommand(sign(disc, he, "head-end"), meter, keys); err != nil || c.Counter != 5 {
		t.Fatalf("head-end disconnect: %v", err)
	}
	if _, err := VerifyCommand(sign(disc, sup, "supplier"), meter, keys); !errors.Is(err, ErrRole) {
		t.Fatalf("supplier disconnect: %v", err)
	}
	if _, err := VerifyCommand(sign(disc, sup, "head-end"), meter, keys); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged head-end signature: %v", err)
	}
	if _, err := VerifyCommand(sign(disc, he, "head-end"), other, keys); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("command for another meter: %v", err)
	}
	if _, err := SignCommand(Command{Meter: meter, Kind: CmdClockSet, ClockStep: 3600}, he, []byte("head-end"), rand.Reader); !errors.Is(err, ErrMalformed) {
		t.Fatalf("clock step of an hour: %v", err)
	}
	data := sign(disc, he, "head-end")
	for i := range len(data) {
		if _, err := VerifyCommand(data[:i], meter, keys); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	for bit := 0; bit < len(data)*8; bit += 5 {
		bad := bytes.Clone(data)
		bad[bit/8] ^= 1 << (bit % 8)
		if _, err := VerifyCommand(bad, meter, keys); err == nil {
			t.Fatalf("bit %d flipped: accepted", bit)
		}
	}
}

func TestFirmwareBlockCodec(t *testing.T) {
	b := FirmwareBlock{Campaign: 0xC0FFEE, Index: 7, Total: 2203, Data: bytes.Repeat([]byte{0x5A}, 119)}
	wire, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalFirmwareBlock(wire)
	if err != nil || got.Campaign != b.Campaign || got.Index != 7 || !bytes.Equal(got.Data, b.Data) {
		t.Fatalf("round trip: %v", err)
	}
	for i := range len(wire) {
		if _, err := UnmarshalFirmwareBlock(wire[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, err := UnmarshalFirmwareBlock(append(bytes.Clone(wire), 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
	bad := bytes.Clone(wire)
	bad[4], bad[5], bad[6], bad[7] = 0, 10, 0, 10 // index 10 of total 10
	if _, err := UnmarshalFirmwareBlock(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("index beyond total: %v", err)
	}
}

// TestPeekCommand: a relay reads meter, counter and trace time without the
// issuer's key; garbage, another content type and trailing bytes are
// refused; the signature is not checked (VerifyCommand does that).
func TestPeekCommand(t *testing.T) {
	meter, _ := titles()
	he, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	signed, err := SignCommand(Command{Meter: meter, Counter: 9, Kind: CmdTariff, Tariff: 1, Issued: 1, Trace: 42}, he, []byte("head-end"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := PeekCommand(signed)
	if err != nil || c.Meter != meter || c.Counter != 9 || c.Trace != 42 {
		t.Fatalf("peek: %+v, %v", c, err)
	}
	if _, err := PeekCommand(append(append([]byte(nil), signed...), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if _, err := PeekCommand([]byte{0xa0}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	tl, err := SignTrustList(TrustList{Version: 1, Issued: 1, Meter: meter, Entries: []TrustEntry{{Role: RoleHeadEnd, SPKI: []byte{1}}}}, he, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PeekCommand(tl); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a trust list read as a command: %v", err)
	}
	tampered := bytes.Clone(signed)
	tampered[len(tampered)-1] ^= 1 // in the signature
	if c, err := PeekCommand(tampered); err != nil || c.Counter != 9 {
		t.Fatalf("peek of a bad signature: %v", err)
	}
	if _, err := VerifyCommand(tampered, meter, func([]byte) (*ecdsa.PublicKey, func(CommandKind) bool, error) {
		return &he.PublicKey, func(CommandKind) bool { return true }, nil
	}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify of a bad signature: %v", err)
	}
}
