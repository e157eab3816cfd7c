package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The on-disk format (version 2; doc.go describes it for an auditor).
const (
	// Magic opens every version-2 journal file.
	Magic = "VMJOURNL"
	// Version is the format version this package writes.
	Version = 2

	headerLen    = 16            // magic, version, flags, CRC-32C
	recHeaderLen = 4 + 8 + 1 + 4 // length, sequence, kind, header CRC-32C
	recTrailer   = 4             // CRC-32C of header fields and data
	v1HeaderLen  = 4 + 1         // version 1: length, kind
)

// ErrCorrupt marks a journal whose records stop verifying before its tail:
// damage a crash cannot explain. The role must not start on it; the file
// is left as it was found (a *CorruptError names the record).
var ErrCorrupt = errors.New("journal: corrupt record before the tail")

// ErrVersion marks a journal file of a format version this build cannot
// read.
var ErrVersion = errors.New("journal: unknown format version")

// CorruptError names the first record that does not verify and is followed
// by data a torn write cannot have left. It matches ErrCorrupt and
// ErrJournal with errors.Is.
type CorruptError struct {
	Path   string
	Record int   // index of the bad record (0 is the first); -1 the file header
	Offset int64 // byte offset of the bad record (or header)
	Reason string
}

func (e *CorruptError) Error() string {
	what := fmt.Sprintf("record %d at offset %d", e.Record, e.Offset)
	if e.Record < 0 {
		what = "file header"
	}
	return fmt.Sprintf("%s: %s: %s: %s (file left unchanged)", ErrCorrupt, e.Path, what, e.Reason)
}

// Is makes a *CorruptError match ErrCorrupt and ErrJournal.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt || target == ErrJournal }

// Record is one record of a journal: its sequence number (strictly
// increasing through the file, kept across compactions), kind, data and
// the byte offset it was read from or written at.
type Record struct {
	Seq    uint64
	Kind   byte
	Data   []byte
	Offset int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileHeader is the 16 bytes that open a version-2 file.
func fileHeader() []byte {
	h := make([]byte, headerLen)
	copy(h, Magic)
	binary.BigEndian.PutUint16(h[8:], Version)
	binary.BigEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	return h
}

// appendRecord encodes one version-2 record onto b.
func appendRecord(b []byte, seq uint64, kind byte, data []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, kind)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:start+13], castagnoli))
	b = append(b, data...)
	sum := crc32.Update(crc32.Checksum(b[start:start+13], castagnoli), castagnoli, data)
	return binary.BigEndian.AppendUint32(b, sum)
}

// scan is what parsing a journal file found: its records, where the valid
// part ends, and what was cut from the tail (a torn last write).
type scan struct {
	version    int
	recs       []Record
	good       int64 // bytes of the valid part (header and whole records)
	tornBytes  int64
	tornReason string
	fresh      bool // no complete header: a new file (or one whose creation was torn)
}

func allZero(b []byte) bool { return len(bytes.TrimLeft(b, "\x00")) == 0 }

// parse reads a whole journal file. A failing record is a torn tail only
// when nothing but zeros follows what is known of it (an incomplete record,
// a checksum failure at the end of the file, or a header a torn write left
// half written before an unwritten, zero-filled extension); any other
// failure is a *CorruptError.
func parse(path string, data []byte) (scan, error) {
	if len(data) == 0 {
		return scan{version: Version, fresh: true}, nil
	}
	if data[0] == 0 && !bytes.HasPrefix(data, []byte(Magic)) {
		// Version 1 (no header): its first byte is the high byte of a
		// length below MaxRecordLen, always 0. A file of zeros is a
		// version-2 creation whose header never reached the disk too; both
		// readings give an empty journal.
		return parseV1(path, data)
	}
	want := fileHeader()
	if len(data) < headerLen {
		if bytes.Equal(data, want[:len(data)]) {
			return scan{version: Version, fresh: true, tornBytes: int64(len(data)), tornReason: "incomplete file header"}, nil
		}
		return scan{}, &CorruptError{Path: path, Record: -1, Reason: fmt.Sprintf("%d bytes that are no journal header", len(data))}
	}
	if string(data[:8]) != Magic {
		return scan{}, &CorruptError{Path: path, Record: -1, Reason: "bad magic"}
	}
	if crc32.Checksum(data[:12], castagnoli) != binary.BigEndian.Uint32(data[12:]) {
		return scan{}, &CorruptError{Path: path, Record: -1, Reason: "header checksum"}
	}
	if v := binary.BigEndian.Uint16(data[8:]); v != Version {
		return scan{}, fmt.Errorf("%w: %s has version %d, this build reads 1 and %d", ErrVersion, path, v, Version)
	}
	s := scan{version: Version}
	off := headerLen
	var prev uint64
	for off < len(data) {
		idx, rest := len(s.recs), data[off:]
		torn := func(reason string) (scan, error) {
			s.good, s.tornBytes, s.tornReason = int64(off), int64(len(rest)), fmt.Sprintf("record %d at offset %d: %s", idx, off, reason)
			return s, nil
		}
		corrupt := func(format string, a ...any) (scan, error) {
			return scan{}, &CorruptError{Path: path, Record: idx, Offset: int64(off), Reason: fmt.Sprintf(format, a...)}
		}
		if len(rest) < recHeaderLen {
			return torn(fmt.Sprintf("incomplete record header (%d of %d bytes)", len(rest), recHeaderLen))
		}
		h := rest[:recHeaderLen]
		hsum := crc32.Checksum(h[:13], castagnoli)
		if hsum != binary.BigEndian.Uint32(h[13:]) {
			if allZero(rest[recHeaderLen:]) {
				return torn("record header checksum, nothing but zeros after it")
			}
			return corrupt("record header checksum")
		}
		n, seq, kind := binary.BigEndian.Uint32(h), binary.BigEndian.Uint64(h[4:]), h[12]
		if n > MaxRecordLen {
			return corrupt("impossible length %d", n)
		}
		if seq <= prev {
			return corrupt("sequence number %d after %d", seq, prev)
		}
		end := recHeaderLen + int(n) + recTrailer
		if end > len(rest) {
			return torn(fmt.Sprintf("incomplete record (%d of %d bytes)", len(rest), end))
		}
		body := rest[recHeaderLen : recHeaderLen+int(n)]
		if crc32.Update(hsum, castagnoli, body) != binary.BigEndian.Uint32(rest[end-4:]) {
			if allZero(rest[end:]) {
				return torn("record checksum at the end of the file")
			}
			return corrupt("record checksum")
		}
		s.recs = append(s.recs, Record{Seq: seq, Kind: kind, Data: body, Offset: int64(off)})
		prev = seq
		off += end
	}
	s.good = int64(off)
	return s, nil
}

// parseV1 reads the headerless format of earlier releases: length (4
// bytes), kind, data, CRC-32C of kind and data. Sequence numbers are
// assigned in order. The same torn-tail rule applies.
func parseV1(path string, data []byte) (scan, error) {
	s := scan{version: 1}
	off := 0
	for off < len(data) {
		idx, rest := len(s.recs), data[off:]
		torn := func(reason string) (scan, error) {
			s.good, s.tornBytes, s.tornReason = int64(off), int64(len(rest)), fmt.Sprintf("record %d at offset %d: %s", idx, off, reason)
			if off == 0 {
				s.version, s.fresh = Version, true
			}
			return s, nil
		}
		if len(rest) < v1HeaderLen+recTrailer {
			return torn("incomplete record")
		}
		n := binary.BigEndian.Uint32(rest)
		if n > MaxRecordLen {
			if allZero(rest[4:]) {
				return torn("impossible length, nothing but zeros after it")
			}
			return scan{}, &CorruptError{Path: path, Record: idx, Offset: int64(off), Reason: fmt.Sprintf("impossible length %d", n)}
		}
		end := v1HeaderLen + int(n) + recTrailer
		if end > len(rest) {
			return torn(fmt.Sprintf("incomplete record (%d of %d bytes)", len(rest), end))
		}
		body := rest[4 : 5+int(n)]
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(rest[end-4:]) {
			if allZero(rest[end:]) {
				return torn("record checksum at the end of the file")
			}
			return scan{}, &CorruptError{Path: path, Record: idx, Offset: int64(off), Reason: "record checksum"}
		}
		s.recs = append(s.recs, Record{Seq: uint64(idx + 1), Kind: body[0], Data: body[1:], Offset: int64(off)})
		off += end
	}
	s.good = int64(off)
	return s, nil
}
