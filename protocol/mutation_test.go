package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"testing"
)

// rejectsEveryMutation checks that a decoder-plus-verifier refuses every
// strict prefix, one trailing byte, and every single-bit flip of an
// authenticated message. Signed and sealed messages have no byte that may
// change without detection.
func rejectsEveryMutation(t *testing.T, name string, msg []byte, accept func([]byte) error) {
	t.Helper()
	if err := accept(msg); err != nil {
		t.Fatalf("%s: the original is rejected: %v", name, err)
	}
	for i := 0; i < len(msg); i++ {
		if accept(msg[:i]) == nil {
			t.Fatalf("%s: prefix of %d bytes accepted", name, i)
		}
	}
	if accept(append(bytes.Clone(msg), 0)) == nil {
		t.Fatalf("%s: trailing byte accepted", name)
	}
	for bit := 0; bit < 8*len(msg); bit++ {
		bad := bytes.Clone(msg)
		bad[bit/8] ^= 1 << (bit % 8)
		if accept(bad) == nil {
			t.Fatalf("%s: bit %d flipped, accepted", name, bit)
		}
	}
}

func TestSignedCodecsRejectEveryMutation(t *testing.T) {
	meter, gw := titles()
	key, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	signer, err := NewMeterSigner(meter, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(mapKeys{meter: &key.PublicKey})

	ev, _ := signer.SignEvent(Event{Meter: meter, Counter: 9, Time: 1000, Code: EventCoverOpened, Detail: []byte("terminal cover")})
	rejectsEveryMutation(t, "event", ev, func(b []byte) error { _, err := v.VerifyEvent(b); return err })

	blk, _ := signer.SignBlock(BlockHeader{Meter: meter, Counter: 10, Start: 900, Period: 900, OBIS: ActiveEnergyImport}, []Interval{{0, 10, 0}, {1, 12, 0}, {2, 9, 0}})
	wire, _ := blk.Marshal()
	rejectsEveryMutation(t, "load-profile block", wire, func(b []byte) error {
		sb, err := UnmarshalSignedBlock(b)
		if err != nil {
			return err
		}
		_, err = v.VerifyBlock(sb)
		return err
	})

	proof, _ := blk.Proof(1)
	pw, _ := marshal(proof)
	rejectsEveryMutation(t, "interval proof", pw, func(b []byte) error {
		var p IntervalProof
		if err := unmarshalStrict(b, &p); err != nil {
			return err
		}
		_, err := v.VerifyInterval(p)
		return err
	})

	man, auth, pol := manifestKeys(t)
	m := Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: NewComponent([]byte("lr")), Other: NewComponent([]byte("other")), Issued: 1}
	md, _ := SignManifest(m, rand.Reader, man, auth)
	rejectsEveryMutation(t, "firmware manifest", md, func(b []byte) error { _, err := VerifyManifest(b, pol); return err })

	op, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	tl, _ := SignTrustList(TrustList{Version: 3, Issued: 1, Meter: meter, Entries: []TrustEntry{{Role: RoleHeadEnd, SPKI: spki}}}, op, rand.Reader)
	rejectsEveryMutation(t, "trust list", tl, func(b []byte) error { _, err := VerifyTrustList(b, &op.PublicKey, meter, 0); return err })

	// The key agreement message: parsing alone cannot notice a flipped key
	// byte, the signature check in Finish must.
	gk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	_, init, err := StartKeyAgreement(Suite1, gw, meter, gk, nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kw, _ := init.Marshal()
	rejectsEveryMutation(t, "key agreement", kw, func(b []byte) error {
		msg, err := UnmarshalKeyAgreement(b)
		if err != nil {
			return err
		}
		m, _, err := StartKeyAgreement(Suite1, meter, gw, key, msg.Ephemeral, rand.Reader)
		if err != nil {
			return err
		}
		_, err = m.Finish(msg, &gk.PublicKey)
		return err
	})
}
