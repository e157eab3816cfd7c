package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"math"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
)

func titles() (SystemTitle, SystemTitle) {
	return SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1}, SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 9}
}

func agree(t testing.TB, suite Suite) (SessionKeys, SessionKeys) {
	t.Helper()
	meterTitle, gwTitle := titles()
	mk, _ := ecdsa.GenerateKey(suite.SigningCurve(), rand.Reader)
	gk, _ := ecdsa.GenerateKey(suite.SigningCurve(), rand.Reader)
	gw, init, err := StartKeyAgreement(suite, gwTitle, meterTitle, gk, nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := init.Marshal()
	got, err := UnmarshalKeyAgreement(wire)
	if err != nil {
		t.Fatal(err)
	}
	m, resp, err := StartKeyAgreement(suite, meterTitle, gwTitle, mk, got.Ephemeral, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mKeys, err := m.Finish(got, &gk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	gKeys, err := gw.Finish(resp, &mk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return mKeys, gKeys
}

func TestKeyAgreementBothSuites(t *testing.T) {
	for _, s := range []Suite{Suite1, Suite2} {
		m, g := agree(t, s)
		if !bytes.Equal(m.SendKey, g.RecvKey) || !bytes.Equal(m.RecvKey, g.SendKey) || m.KeyID != g.KeyID {
			t.Fatalf("suite %d: keys differ", s)
		}
		if bytes.Equal(m.SendKey, m.RecvKey) || len(m.SendKey) != s.KeyLen() {
			t.Fatalf("suite %d: one key for both directions or wrong length", s)
		}
		m2, _ := agree(t, s)
		if m2.KeyID == m.KeyID || bytes.Equal(m2.SendKey, m.SendKey) {
			t.Fatal("a new agreement reused the key or key id")
		}
	}
}

func TestKeyAgreementRejectsForgery(t *testing.T) {
	meterTitle, gwTitle := titles()
	gk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	attacker, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	mk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	_, init, _ := StartKeyAgreement(Suite1, gwTitle, meterTitle, attacker, nil, rand.Reader)
	m, _, _ := StartKeyAgreement(Suite1, meterTitle, gwTitle, mk, init.Ephemeral, rand.Reader)
	if _, err := m.Finish(init, &gk.PublicKey); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("message signed by another key: %v", err)
	}
	wire, _ := init.Marshal()
	for i := range len(wire) {
		if _, err := UnmarshalKeyAgreement(wire[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	if _, err := UnmarshalKeyAgreement(append(wire, 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing: %v", err)
	}
}

// TestConcatKDFVector checks the KDF against a value computed independently
// from SP 800-56A's definition: SHA-256(00000001 || Z || OtherInfo).
func TestConcatKDFVector(t *testing.T) {
	z := bytes.Repeat([]byte{0x11}, 32)
	other := []byte("other")
	got := ConcatKDF(Suite1.hash(), z, other, 48)
	h := Suite1.hash()()
	h.Write([]byte{0, 0, 0, 1})
	h.Write(z)
	h.Write(other)
	first := h.Sum(nil)
	h.Reset()
	h.Write([]byte{0, 0, 0, 2})
	h.Write(z)
	h.Write(other)
	second := h.Sum(nil)
	if !bytes.Equal(got, append(first, second[:16]...)) {
		t.Fatal("ConcatKDF differs from SP 800-56A 5.8.2.1")
	}
}

func pair(t testing.TB, store CounterStore) (*Sender, *Receiver) {
	m, g := agree(t, Suite1)
	s, err := NewSender(m, store)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReceiver(g)
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

func TestSealOpen(t *testing.T) {
	s, r := pair(t, NewMemStore())
	msg := bytes.Repeat([]byte("reading "), 16)
	apdu, err := s.Seal(nil, TagDataNotification, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(apdu) != len(msg)+Overhead(len(msg)) {
		t.Fatalf("overhead %d, Overhead says %d", len(apdu)-len(msg), Overhead(len(msg)))
	}
	_, got, err := r.Open(nil, apdu)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("open: %v", err)
	}
	if _, _, err := r.Open(nil, apdu); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
}

// TestSealHeaderEveryLengthForm seals APDUs at each edge of the BER length
// forms (1, 2 and 3 bytes) after a prefix already in dst, and checks the
// clear header against encoding/asn1's DER length (the same bytes for these
// lengths), the prefix kept and the APDU opening to the plaintext.
func TestSealHeaderEveryLengthForm(t *testing.T) {
	s, r := pair(t, NewMemStore())
	prefix := []byte("kept")
	for _, n := range []int{0, 1, 0x7f - 1 - InvocationCounterLen - TagLen, 0x80 - 1 - InvocationCounterLen - TagLen,
		0xff - 1 - InvocationCounterLen - TagLen, 0x100 - 1 - InvocationCounterLen - TagLen, 1000, MaxAPDU - 1 - InvocationCounterLen - TagLen} {
		msg := bytes.Repeat([]byte{0xa5}, n)
		apdu, err := s.Seal(append([]byte(nil), prefix...), TagDataNotification, msg)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(apdu[:len(prefix)], prefix) {
			t.Fatalf("%d bytes: dst's prefix overwritten", n)
		}
		apdu = apdu[len(prefix):]
		l := 1 + InvocationCounterLen + n + TagLen
		der, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagOctetString, Bytes: make([]byte, l)})
		if err != nil {
			t.Fatal(err)
		}
		lenBytes := der[1 : len(der)-l]
		if want := append([]byte{TagDataNotification}, lenBytes...); !bytes.Equal(apdu[:len(want)], want) {
			t.Fatalf("%d bytes: header % x, want % x", n, apdu[:len(want)], want)
		}
		if len(apdu) != 1+len(lenBytes)+l {
			t.Fatalf("%d bytes: APDU of %d bytes, header says %d", n, len(apdu), 1+len(lenBytes)+l)
		}
		if _, got, err := r.Open(nil, apdu); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: open: %v", n, err)
		}
	}
}

func TestEveryBitFlipRejected(t *testing.T) {
	s, r := pair(t, NewMemStore())
	apdu, _ := s.Seal(nil, TagDataNotification, []byte("128 bytes would do as well"))
	for bit := range len(apdu) * 8 {
		bad := bytes.Clone(apdu)
		bad[bit/8] ^= 1 << (bit % 8)
		if _, _, err := r.Open(nil, bad); err == nil {
			t.Fatalf("bit %d flipped: accepted", bit)
		}
	}
	for i := range len(apdu) {
		if _, _, err := r.Open(nil, apdu[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	// The window was not moved by any of the rejected attempts.
	if _, _, err := r.Open(nil, apdu); err != nil {
		t.Fatalf("genuine APDU after forgeries: %v", err)
	}
}

func TestDataReorderedWithinWindowCommandsStrict(t *testing.T) {
	s, r := pair(t, NewMemStore())
	var data [][]byte
	for i := range 5 {
		a, _ := s.Seal(nil, TagDataNotification, []byte{byte(i)})
		data = append(data, a)
	}
	for _, i := range []int{4, 0, 2, 1, 3} {
		if _, _, err := r.Open(nil, data[i]); err != nil {
			t.Fatalf("data %d reordered: %v", i, err)
		}
	}
	c1, _ := s.Seal(nil, TagCommand, []byte("tariff 2"))
	c2, _ := s.Seal(nil, TagCommand, []byte("disconnect"))
	if _, _, err := r.Open(nil, c2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Open(nil, c1); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("older command after newer: %v", err)
	}
	// A data APDU cannot be replayed as a command: the tag is authenticated.
	d, _ := s.Seal(nil, TagDataNotification, []byte("x"))
	d[0] = TagCommand
	if _, _, err := r.Open(nil, d); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("retagged APDU: %v", err)
	}
}

func TestReplayWindowMatchesModel(t *testing.T) {
	var w ReplayWindow
	seen := map[uint32]bool{}
	var top uint32
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 200000 {
		var c uint32
		if top > 0 && rng.IntN(3) > 0 {
			c = top - uint32(rng.IntN(int(min(top, 1500))))
		} else {
			c = top + uint32(rng.IntN(200))
		}
		err := w.Check(c)
		tooOld := top > 0 && uint64(c)+windowSize < uint64(top)
		want := !seen[c] && !tooOld
		if (err == nil) != want {
			t.Fatalf("counter %d (top %d): err %v, want accept=%v", c, top, err, want)
		}
		if err == nil {
			w.Update(c)
			seen[c] = true
			if c+1 > top {
				top = c + 1
			}
		}
	}
}

func TestCounterNeverWraps(t *testing.T) {
	store := NewMemStore()
	m, _ := agree(t, Suite1)
	store.Reserve(m.KeyID, math.MaxUint32-1)
	s, _ := NewSender(m, store)
	if _, err := s.Seal(nil, TagDataNotification, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seal(nil, TagDataNotification, []byte("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seal(nil, TagDataNotification, []byte("c")); !errors.Is(err, ErrCounterExhausted) {
		t.Fatalf("counter past 2^32-1: %v", err)
	}
}

// TestCrashNeverReusesNonce simulates power loss at every write of the
// counter store across random schedules: a crash happens either before a
// reservation is durable (Reserve fails, nothing used) or at any point
// between messages; after each crash the sender is rebuilt from the store.
// No (key, counter) pair may ever be sealed twice.
func TestCrashNeverReusesNonce(t *testing.T) {
	m, _ := agree(t, Suite1)
	for schedule := range 2000 {
		rng := mrand.New(mrand.NewPCG(uint64(schedule), 99))
		store := NewMemStore()
		store.Fail = func() error {
			if rng.IntN(4) == 0 {
				return errors.New("power lost during write")
			}
			return nil
		}
		used := map[uint32]bool{}
		s, _ := NewSender(m, store)
		for step := range 600 {
			if rng.IntN(40) == 0 { // power loss: all volatile state gone
				s, _ = NewSender(m, store)
				continue
			}
			apdu, err := s.Seal(nil, TagDataNotification, []byte{byte(step)})
			if errors.Is(err, ErrCounterStore) {
				s, _ = NewSender(m, store) // crashed while reserving
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			h, _, _ := ParseSecured(apdu)
			if used[h.Counter] {
				t.Fatalf("schedule %d step %d: counter %d reused under one key", schedule, step, h.Counter)
			}
			used[h.Counter] = true
		}
	}
}

// TestFileStoreTornWrite truncates the store at every byte of its last
// record: the store must load the last complete reservation, which is at
// least every reservation Reserve acknowledged before the torn one.
func TestFileStoreTornWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "counters")
	fs, err := OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	key := [8]byte{1}
	for _, v := range []uint64{256, 512, 768} {
		if err := fs.Reserve(key, v); err != nil {
			t.Fatal(err)
		}
	}
	fs.Close()
	full := readFile(t, path)
	for cut := 2 * counterRecordLen; cut < len(full); cut++ {
		writeFile(t, path, full[:cut])
		fs, err := OpenFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := fs.Reserved(key)
		if got != 512 {
			t.Fatalf("cut at %d: reserved %d, want 512", cut, got)
		}
		// A new reservation after recovery lands on a record boundary.
		if err := fs.Reserve(key, 1024); err != nil {
			t.Fatal(err)
		}
		fs.Close()
		fs, _ = OpenFileStore(path)
		if got, _ := fs.Reserved(key); got != 1024 {
			t.Fatalf("cut at %d: after re-reserve got %d", cut, got)
		}
		fs.Close()
	}
}

// TestCommandReplayedWithSameCounterRefused: a command APDU recorded on the
// line and sent again carries the counter the receiver accepted last. It
// must be refused with ErrOutOfOrder (commands have no reordering window,
// DESIGN.md UC4, S9), the refusal must not disturb the channel, and the
// next genuine command must still pass.
func TestCommandReplayedWithSameCounterRefused(t *testing.T) {
	s, r := pair(t, NewMemStore())
	c1, _ := s.Seal(nil, TagCommand, []byte("disconnect"))
	h, got, err := r.Open(nil, c1)
	if err != nil || string(got) != "disconnect" {
		t.Fatalf("first delivery: %v", err)
	}
	for range 3 {
		rh, plain, err := r.Open(nil, bytes.Clone(c1))
		if !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("command replayed with counter %d: err %v, want ErrOutOfOrder", h.Counter, err)
		}
		if rh.Counter != h.Counter || len(plain) != 0 {
			t.Fatalf("replay refused but returned %d plaintext bytes for counter %d", len(plain), rh.Counter)
		}
	}
	if last, ok := r.commands.Last(); !ok || last != h.Counter {
		t.Fatalf("last command counter %d (%v) after refused replays, want %d", last, ok, h.Counter)
	}
	c2, _ := s.Seal(nil, TagCommand, []byte("reconnect"))
	if _, got, err := r.Open(nil, c2); err != nil || string(got) != "reconnect" {
		t.Fatalf("next genuine command after replays: %v", err)
	}
}

// TestStrictCounterRefusesEqual pins the boundary of StrictCounter: the
// counter accepted last is refused like every older one, the next one
// passes, and a refusal changes nothing.
func TestStrictCounterRefusesEqual(t *testing.T) {
	var s StrictCounter
	if err := s.Check(0); err != nil {
		t.Fatalf("first counter 0: %v", err)
	}
	s.Update(7)
	for _, c := range []uint32{0, 6, 7} {
		if err := s.Check(c); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("counter %d after 7: %v, want ErrOutOfOrder", c, err)
		}
	}
	if err := s.Check(8); err != nil {
		t.Fatalf("counter 8 after 7: %v", err)
	}
	if last, ok := s.Last(); !ok || last != 7 {
		t.Fatalf("last %d %v, want 7", last, ok)
	}
}
