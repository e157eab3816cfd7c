package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

// The published example p256-hkdf-256-01 of the COSE working group
// (github.com/cose-wg/Examples, ecdh-direct-examples), which RFC 9052 C.3.1
// prints: ECDH-ES + HKDF-256 direct, A128GCM, plaintext "This is the
// content.". Written by others, so it pins our KDF context, Enc_structure and
// header layout to the standard rather than to ourselves.
const (
	coseExampleD   = "r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8"
	coseExampleKid = "meriadoc.brandybuck@buckland.example"
	coseExampleEph = "02D1F7E6F26C43D4868D87CEB2353161740AACF1F7163647984B522A848DF1C3"
	coseExampleIV  = "C9CF4DF2FE6C632BF7886413"
	coseExampleCT  = "7ADBE2709CA818FB415F1E5DF66F4E1A51053BA6D65A1A0C52A357DA7A644B8070A151B0"
	coseExampleMsg = "D8608443A10101A1054CC9CF4DF2FE6C632BF788641358247ADBE2709CA818FB415F1E5DF66F4E1A51053BA6D65A1A0C52A357DA7A644B8070A151B0818344A1013818A220A40102200121582098F50A4FF6C05861C8860D13A638EA56C3F5AD7590BBFBF054E1C7B4D91D6280225820F01400B089867804B8E9FC96C3932161F1934F4223069170D924B7E03BF822BB0458246D65726961646F632E6272616E64796275636B406275636B6C616E642E6578616D706C6540"
)

func coseExampleKey(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	d, err := base64.RawURLEncoding.DecodeString(coseExampleD)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecryptCOSEWGExample(t *testing.T) {
	pt, kid, err := DecryptFrom(coseExampleKey(t), unhex(t, coseExampleMsg), nil)
	if err != nil {
		t.Fatalf("published example rejected: %v", err)
	}
	if string(pt) != "This is the content." || string(kid) != coseExampleKid {
		t.Fatalf("got %q for %q", pt, kid)
	}
}

func TestEncryptReproducesCOSEWGCiphertext(t *testing.T) {
	recipient := coseExampleKey(t).PublicKey()
	eph, err := ecdh.P256().NewPrivateKey(unhex(t, coseExampleEph))
	if err != nil {
		t.Fatal(err)
	}
	es, _ := encSuiteFor(Suite1)
	msg, err := encryptWith(es, eph, unhex(t, coseExampleIV), recipient, []byte(coseExampleKid), []byte("This is the content."), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Our map order is RFC 8949 deterministic (kid before the ephemeral key),
	// the example's is not, so compare the ciphertext, which depends on the
	// content key (ECDH, KDF context) and the AAD (Enc_structure).
	if !bytes.Contains(msg, unhex(t, coseExampleCT)) {
		t.Fatalf("ciphertext differs from the published example:\n%x", msg)
	}
	if _, _, err := DecryptFrom(coseExampleKey(t), msg, nil); err != nil {
		t.Fatal(err)
	}
}

func TestEncryptRoundTripAndTamper(t *testing.T) {
	for _, s := range []Suite{Suite1, Suite2} {
		priv, err := s.Curve().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := s.Curve().GenerateKey(rand.Reader)
		pt := []byte("a signed reading, COSE_Sign1 bytes in practice")
		aad := []byte("meter-0001")
		msg, err := EncryptFor(s, priv.PublicKey(), []byte("supplier-7"), pt, aad, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, kid, err := DecryptFrom(priv, msg, aad)
		if err != nil || !bytes.Equal(got, pt) || string(kid) != "supplier-7" {
			t.Fatalf("suite %d: round trip: %v %q %q", s, err, got, kid)
		}
		if _, _, err := DecryptFrom(other, msg, aad); !errors.Is(err, ErrAuthentication) {
			t.Fatalf("suite %d: wrong recipient: %v", s, err)
		}
		if _, _, err := DecryptFrom(priv, msg, []byte("meter-0002")); !errors.Is(err, ErrAuthentication) {
			t.Fatalf("suite %d: wrong external AAD: %v", s, err)
		}
		for i := range msg {
			bad := bytes.Clone(msg)
			bad[i] ^= 0x01
			got, k, err := DecryptFrom(priv, bad, aad)
			if err == nil && (!bytes.Equal(got, pt) || string(k) == "supplier-7") {
				// Only the unprotected kid hint may change without failing.
				t.Fatalf("suite %d: bit flip at %d accepted", s, i)
			}
		}
		for n := 0; n < len(msg); n++ {
			if _, _, err := DecryptFrom(priv, msg[:n], aad); err == nil {
				t.Fatalf("suite %d: prefix %d accepted", s, n)
			}
		}
		if _, _, err := DecryptFrom(priv, append(bytes.Clone(msg), 0), aad); !errors.Is(err, ErrTrailing) {
			t.Fatalf("suite %d: trailing byte: %v", s, err)
		}
	}
	p256, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := EncryptFor(Suite2, p256.PublicKey(), nil, []byte("x"), nil, rand.Reader); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("P-256 key under suite 2: %v", err)
	}
}

func FuzzDecryptFrom(f *testing.F) {
	key, _ := hex.DecodeString("afF907C99F9AD3AAE6C4CDF21122BCE2BD68B5283E6907154AD911840FA208CF")
	priv, err := ecdh.P256().NewPrivateKey(key)
	if err != nil {
		f.Fatal(err)
	}
	msg, _ := hex.DecodeString(coseExampleMsg)
	f.Add(msg)
	own, err := EncryptFor(Suite1, priv.PublicKey(), []byte("k"), []byte("payload"), nil, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(own)
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, _, err := DecryptFrom(priv, b, nil)
		if err == nil && string(pt) != "payload" && string(pt) != "This is the content." {
			// Only the two seeds were encrypted to this key; anything else
			// that opens would be a forgery.
			t.Fatalf("forged message opened: %x", b)
		}
	})
}
