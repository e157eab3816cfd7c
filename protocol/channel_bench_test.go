package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// The benchmarks below are meant to be read side by side in one run
// (go test -bench 'Seal|Open' ./protocol): ours against raw AES-GCM on the
// same 128-byte reading.

var reading128 = make([]byte, 128)

func BenchmarkRawAEADSeal128(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCMWithTagSize(blk, TagLen)
	nonce := make([]byte, NonceLen)
	dst := make([]byte, 0, 256)
	b.SetBytes(128)
	b.ReportAllocs()
	for b.Loop() {
		dst = g.Seal(dst[:0], nonce, reading128, nonce[:10])
	}
}

func BenchmarkSeal128(b *testing.B) {
	s, _ := pair(b, NewMemStore())
	dst := make([]byte, 0, 256)
	// Reserve ahead so the store write is measured apart (BenchmarkReserve).
	if err := s.Reserve(uint64(b.N) + 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var err error
		if dst, err = s.Seal(dst[:0], TagDataNotification, reading128); err != nil {
			b.Fatal(err)
		}
	}
}

// openRing is how many distinct APDUs the Open benchmarks cycle through:
// enough to exercise the replay window with fresh counters, few enough to stay
// in cache for both benchmarks alike (so the ratio compares code, not memory).
const openRing = 4096

func BenchmarkRawAEADOpen128(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCMWithTagSize(blk, TagLen)
	nonces := make([][]byte, openRing)
	cts := make([][]byte, openRing)
	for i := range cts {
		nonces[i] = make([]byte, NonceLen)
		nonces[i][NonceLen-1], nonces[i][NonceLen-2] = byte(i), byte(i>>8)
		cts[i] = g.Seal(nil, nonces[i], reading128, nonces[i][:10])
	}
	dst := make([]byte, 0, 256)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % openRing
		var err error
		if dst, err = g.Open(dst[:0], nonces[k], cts[k], nonces[k][:10]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen128(b *testing.B) {
	m, g := agree(b, Suite1)
	s, err := NewSender(m, NewMemStore())
	if err != nil {
		b.Fatal(err)
	}
	apdus := make([][]byte, openRing)
	for i := range apdus {
		if apdus[i], err = s.Seal(nil, TagDataNotification, reading128); err != nil {
			b.Fatal(err)
		}
	}
	// A fresh receiver under the same keys accepts the same counters again;
	// building one is kept outside the timer.
	receivers := make([]*Receiver, b.N/openRing+1)
	for i := range receivers {
		if receivers[i], err = NewReceiver(g); err != nil {
			b.Fatal(err)
		}
	}
	dst := make([]byte, 0, 256)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := receivers[i/openRing]
		if _, dst, err = r.Open(dst[:0], apdus[i%openRing]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReserveFile is the cost of one durable reservation (one fsync per
// 256 counters).
func BenchmarkReserveFile(b *testing.B) {
	fs, err := OpenFileStore(b.TempDir() + "/c")
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	b.ReportAllocs()
	for i := range b.N {
		if err := fs.Reserve([8]byte{1}, uint64(i+1)*counterBlock); err != nil {
			b.Fatal(err)
		}
	}
}
