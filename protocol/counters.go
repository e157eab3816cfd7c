package protocol

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// CounterStore makes invocation counter reservations durable. Reserve must
// not return before the reservation survives a power loss: the sender uses
// counters only below a reservation that Reserve acknowledged, and after a
// restart continues from the reservation, so no (key, nonce) pair is ever
// used twice (DESIGN.md S7).
type CounterStore interface {
	// Reserve durably records that counters below upto may be in use under key.
	Reserve(key [8]byte, upto uint64) error
	// Reserved returns the highest durable reservation for key (0 if none).
	Reserved(key [8]byte) (uint64, error)
}

// MemStore is an in-memory CounterStore for tests and simulations.
type MemStore struct {
	mu sync.Mutex
	m  map[[8]byte]uint64
	// Fail, when set, is consulted before each Reserve; an error it returns
	// is returned by Reserve and nothing is recorded (a failed write).
	Fail func() error
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[[8]byte]uint64{}} }

// Reserve records the reservation.
func (s *MemStore) Reserve(key [8]byte, upto uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		if err := s.Fail(); err != nil {
			return fmt.Errorf("%w: %w", ErrCounterStore, err)
		}
	}
	if upto > s.m[key] {
		s.m[key] = upto
	}
	return nil
}

// Reserved returns the reservation for key.
func (s *MemStore) Reserved(key [8]byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// FileStore is an append-only, checksummed CounterStore in one file: each
// reservation is a 20-byte record (key, reservation, CRC-32C) written and
// fsynced before Reserve returns. A torn last record fails its checksum and
// is ignored on load, which is safe: its Reserve never returned.
type FileStore struct {
	mu  sync.Mutex
	f   storeFile
	m   map[[8]byte]uint64
	off int64
}

const counterRecordLen = 8 + 8 + 4

// StoreFile is what FileStore needs of its file; *os.File in production,
// a fault-injecting or crash-recording file in the tests (a role's
// injected filesystem, statemachine/journal/crashfs).
type StoreFile interface {
	io.Reader
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

type storeFile = StoreFile

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenFileStore opens or creates the store at path and loads it.
func OpenFileStore(path string) (*FileStore, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCounterStore, err)
	}
	return openFileStore(f)
}

// NewFileStore loads a FileStore from an open file, for a role whose files
// come through an injected filesystem (crash-point and full-disk tests).
func NewFileStore(f StoreFile) (*FileStore, error) { return openFileStore(f) }

func openFileStore(f storeFile) (*FileStore, error) {
	s := &FileStore{f: f, m: map[[8]byte]uint64{}}
	if err := s.load(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *FileStore) load() error {
	data, err := io.ReadAll(s.f)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCounterStore, err)
	}
	var off int
	for ; off+counterRecordLen <= len(data); off += counterRecordLen {
		r := data[off : off+counterRecordLen]
		if crc32.Checksum(r[:16], castagnoli) != binary.BigEndian.Uint32(r[16:]) {
			break // a torn write: everything after it was never acknowledged
		}
		var k [8]byte
		copy(k[:], r[:8])
		if v := binary.BigEndian.Uint64(r[8:16]); v > s.m[k] {
			s.m[k] = v
		}
	}
	// Drop a torn tail so the next record lands on a record boundary.
	s.off = int64(off)
	if int64(len(data)) != s.off {
		if err := s.f.Truncate(s.off); err != nil {
			return fmt.Errorf("%w: %w", ErrCounterStore, err)
		}
	}
	return nil
}

// Reserve appends a record and fsyncs it.
func (s *FileStore) Reserve(key [8]byte, upto uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r [counterRecordLen]byte
	copy(r[:8], key[:])
	binary.BigEndian.PutUint64(r[8:16], upto)
	binary.BigEndian.PutUint32(r[16:], crc32.Checksum(r[:16], castagnoli))
	if _, err := s.f.WriteAt(r[:], s.off); err != nil {
		return fmt.Errorf("%w: %w", ErrCounterStore, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrCounterStore, err)
	}
	s.off += counterRecordLen
	if upto > s.m[key] {
		s.m[key] = upto
	}
	return nil
}

// Reserved returns the durable reservation for key.
func (s *FileStore) Reserved(key [8]byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// Close closes the file.
func (s *FileStore) Close() error { return s.f.Close() }
