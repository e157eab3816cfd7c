package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/veraison/go-cose"
	"pgregory.net/rapid"
)

type mapKeys map[SystemTitle]*ecdsa.PublicKey

func (m mapKeys) MeterKey(t SystemTitle, _ int64) (*ecdsa.PublicKey, error) {
	if k, ok := m[t]; ok {
		return k, nil
	}
	return nil, ErrCertificate
}

func newMeter(t testing.TB) (*MeterSigner, *Verifier, *ecdsa.PrivateKey) {
	meter, _ := titles()
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	s, err := NewMeterSigner(meter, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s, NewVerifier(mapKeys{meter: &k.PublicKey}), k
}

func sampleBlock(meter SystemTitle) (BlockHeader, []Interval) {
	iv := make([]Interval, 96)
	for i := range iv {
		iv[i] = Interval{Index: uint16(i), Value: uint32(50 + i*7%300)}
	}
	iv[40].Status = StatusPowerDown
	return BlockHeader{Meter: meter, Counter: 7, Start: 1_764_000_000, Period: 900, OBIS: ActiveEnergyImport, Register: 123456}, iv
}

func TestSignedReading(t *testing.T) {
	s, v, _ := newMeter(t)
	r := Reading{Meter: s.Meter, Counter: 42, Time: 1_764_000_000, OBIS: ActiveEnergyImport, Value: 987654, Status: StatusClockAdjusted}
	msg, err := s.SignReading(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VerifyReading(msg)
	if err != nil || got != r {
		t.Fatalf("verify: %v %+v", err, got)
	}
	for bit := 0; bit < len(msg)*8; bit += 3 {
		bad := bytes.Clone(msg)
		bad[bit/8] ^= 1 << (bit % 8)
		if _, err := v.VerifyReading(bad); err == nil {
			t.Fatalf("bit %d flipped: accepted", bit)
		}
	}
	// Every prefix is refused as truncated, whichever part it ends in
	// (the header, the kid, the payload or the signature).
	for i := range len(msg) {
		if _, err := v.VerifyReading(msg[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d of %d: %v, want %v", i, len(msg), err, ErrTruncated)
		}
	}
	// A signature by another key is refused with ErrBadSignature.
	other, _, _ := newMeter(t)
	forged, _ := other.SignReading(r)
	if _, err := v.VerifyReading(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
	// A reading's signature is not a block's.
	if _, err := v.VerifyBlockHeader(msg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("reading as block: %v", err)
	}
}

func TestSignedBlockAndIntervalProofs(t *testing.T) {
	s, v, _ := newMeter(t)
	h, iv := sampleBlock(s.Meter)
	b, err := s.SignBlock(h, iv)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := b.Marshal()
	b2, err := UnmarshalSignedBlock(wire)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := v.VerifyBlock(b2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range iv {
		p, _ := b2.Proof(i)
		if _, err := v.VerifyInterval(p); err != nil {
			t.Fatalf("interval %d: %v", i, err)
		}
		p.Interval.Value++
		if err := VerifyIntervalAgainst(hdr, p.Interval, p.Path); !errors.Is(err, ErrMerkleProof) {
			t.Fatalf("altered interval %d: %v", i, err)
		}
	}
	b2.Intervals[3].Value = 0
	if _, err := v.VerifyBlock(b2); !errors.Is(err, ErrMerkleProof) {
		t.Fatalf("altered block: %v", err)
	}
	if _, err := UnmarshalSignedBlock(append(wire, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
	for i := range len(wire) {
		if _, err := UnmarshalSignedBlock(wire[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d of %d: %v, want %v", i, len(wire), err, ErrTruncated)
		}
	}
	// An exported interval proof cut short is truncated, not malformed.
	p, _ := b2.Proof(5)
	pw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(pw) {
		if _, err := UnmarshalIntervalProof(pw[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("interval proof prefix %d of %d: %v, want %v", i, len(pw), err, ErrTruncated)
		}
	}
}

// TestIntervalLeafMatchesCBOR: the allocation-free leaf encoder must equal
// the deterministic CBOR encoding for every interval.
func TestIntervalLeafMatchesCBOR(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		iv := Interval{Index: rapid.Uint16().Draw(t, "i"), Value: rapid.Uint32().Draw(t, "v"), Status: rapid.Uint8().Draw(t, "s")}
		b, _ := marshal(iv)
		fast := intervalLeaf(iv)
		if leafHash(b) != fast {
			t.Fatalf("leaf of %+v differs", iv)
		}
	})
}

func TestMerkleAllSizes(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := make([]Hash, n)
		for i := range leaves {
			leaves[i] = leafHash([]byte{byte(i), byte(n)})
		}
		root := MerkleRoot(leaves)
		for i := range leaves {
			p := MerklePath(leaves, i)
			if err := VerifyMerklePath(root, leaves[i], i, n, p); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			if n > 1 {
				if err := VerifyMerklePath(root, leaves[(i+1)%n], i, n, p); err == nil {
					t.Fatalf("n=%d i=%d: wrong leaf accepted", n, i)
				}
				if err := VerifyMerklePath(root, leaves[i], i, n, p[:len(p)-1]); err == nil {
					t.Fatalf("n=%d i=%d: short path accepted", n, i)
				}
			}
		}
	}
}

// TestOpenSSLVerifiesMeterSignature rebuilds the Sig_structure of a signed
// reading and has the openssl command line verify the meter's signature
// (raw r||s converted to DER), so the signatures are checkable by tools
// nobody here wrote.
func TestOpenSSLVerifiesMeterSignature(t *testing.T) {
	openssl := requireOpenSSL(t)
	s, _, k := newMeter(t)
	msg, _ := s.SignReading(Reading{Meter: s.Meter, Counter: 1, Time: 1, OBIS: ActiveEnergyImport, Value: 5})
	tbs, sig, err := SigStructure(msg)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	sigf := write("sig.der", der)
	data := write("tbs.bin", tbs)
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sigf, data).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verified OK")) {
		t.Fatalf("openssl: %v: %s", err, out)
	}
	tbs[len(tbs)-1] ^= 1
	write("tbs.bin", tbs)
	if out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sigf, data).CombinedOutput(); err == nil {
		t.Fatalf("openssl verified altered data: %s", out)
	}
}

// requireOpenSSL finds the openssl binary, which make deps installs from
// Debian. The test never installs it: a machine without it is a test
// failure naming the fix, not a skip.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err == nil {
		return p
	}
	t.Fatalf("openssl is not installed (run make deps, which installs it with apt-get): %v", err)
	return ""
}

// TestGoCOSEVerifiesWhatWeAccept: the fast verification path agrees with
// go-cose, an implementation nobody here wrote.
func TestGoCOSEVerifiesWhatWeAccept(t *testing.T) {
	s, v, k := newMeter(t)
	msg, _ := s.SignReading(Reading{Meter: s.Meter, Counter: 3, Time: 9, OBIS: ActiveEnergyImport, Value: 1})
	if _, err := v.VerifyReading(msg); err != nil {
		t.Fatal(err)
	}
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(msg); err != nil {
		t.Fatal(err)
	}
	cv, _ := cose.NewVerifier(cose.AlgorithmES256, &k.PublicKey)
	if err := m.Verify(nil, cv); err != nil {
		t.Fatalf("go-cose rejects a message we accept: %v", err)
	}
}

// TestIntervalsRootMatchesCBOR: the root the head-end and the meter compute
// without the CBOR encoder equals the Merkle root over the deterministic
// CBOR leaves, for blocks of every size around the stack buffer's.
func TestIntervalsRootMatchesCBOR(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 200).Draw(t, "n")
		iv := make([]Interval, n)
		leaves := make([]Hash, n)
		for i := range iv {
			iv[i] = Interval{Index: uint16(i), Value: rapid.Uint32().Draw(t, "v"), Status: rapid.Uint8().Draw(t, "s")}
			b, err := marshal(iv[i])
			if err != nil {
				t.Fatal(err)
			}
			leaves[i] = leafHash(b)
		}
		if intervalsRoot(iv) != MerkleRoot(leaves) {
			t.Fatalf("root of %d intervals differs", n)
		}
	})
}
