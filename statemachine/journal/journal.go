package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// ErrJournal marks a failure of a role's persistent journal.
var ErrJournal = errors.New("journal: persistent store failed")

// MaxRecordLen caps one record.
const MaxRecordLen = 1 << 20

// Journal is an append-only file of records, each length-prefixed and
// checksummed (CRC-32C). A torn last record fails its checksum and is cut
// on open: its Append never returned. An empty path keeps records in memory
// (tests and the in-process demo at scale).
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	off  int64
	recs []record
}

type record struct {
	kind byte
	data []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Open opens or creates the journal at path and loads its records.
func Open(path string) (*Journal, error) {
	s := &Journal{}
	if path == "" {
		return s, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	s.f = f
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	off := 0
	for off+9 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off:]))
		if n > MaxRecordLen || off+9+n > len(data) {
			break
		}
		body := data[off+4 : off+5+n]
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(data[off+5+n:]) {
			break
		}
		s.recs = append(s.recs, record{kind: body[0], data: append([]byte(nil), body[1:]...)})
		off += 9 + n
	}
	s.off = int64(off)
	if off != len(data) {
		if err := f.Truncate(s.off); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %v", ErrJournal, err)
		}
	}
	return s, nil
}

// Append adds a record; with sync it returns only once the record is
// durable.
func (s *Journal) Append(kind byte, data []byte, sync bool) error {
	if len(data) > MaxRecordLen {
		return fmt.Errorf("%w: record of %d bytes", ErrJournal, len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		buf := make([]byte, 9+len(data))
		binary.BigEndian.PutUint32(buf, uint32(len(data)))
		buf[4] = kind
		copy(buf[5:], data)
		binary.BigEndian.PutUint32(buf[5+len(data):], crc32.Checksum(buf[4:5+len(data)], castagnoli))
		if _, err := s.f.WriteAt(buf, s.off); err != nil {
			return fmt.Errorf("%w: %v", ErrJournal, err)
		}
		if sync {
			if err := s.f.Sync(); err != nil {
				return fmt.Errorf("%w: %v", ErrJournal, err)
			}
		}
		s.off += int64(len(buf))
	}
	s.recs = append(s.recs, record{kind: kind, data: append([]byte(nil), data...)})
	return nil
}

// Sync makes every appended record durable.
func (s *Journal) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return nil
}

// Each calls fn for every record of kind, oldest first.
func (s *Journal) Each(kind byte, fn func([]byte) error) error {
	s.mu.Lock()
	recs := s.recs
	s.mu.Unlock()
	for _, r := range recs {
		if r.kind == kind {
			if err := fn(r.data); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close closes the file.
func (s *Journal) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
