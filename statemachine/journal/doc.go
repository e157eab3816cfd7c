// Package journal is the durable record log the roles persist their state
// in before its effect is visible (a meter's registers, counters, logbook
// and firmware slots; a gateway's store-and-forward queue). An empty path
// keeps the records in memory only.
//
// # Format (version 2)
//
// A file opens with a 16-byte header: the magic "VMJOURNL", the version
// (uint16, 2), flags (uint16, 0) and the CRC-32C of those 12 bytes. Records
// follow, each
//
//	length   uint32  bytes of data (at most MaxRecordLen)
//	seq      uint64  sequence number, strictly increasing through the file
//	kind     byte    the role's record kind
//	hcrc     uint32  CRC-32C of length, seq and kind
//	data     [length]byte
//	crc      uint32  CRC-32C of length, seq, kind and data
//
// all integers big-endian. Version 1 files (no header; length, kind, data,
// CRC-32C of kind and data) are read and rewritten in version 2 on open;
// any other version is ErrVersion.
//
// # What an auditor can rely on
//
// A record is appended after the last one and, when its writer asks, made
// durable (fsync) before Append returns; the role acts only on records
// Append accepted. A crash can therefore damage only the writes after the
// last fsync, and those only at the end of the file. Open tells the two
// apart by what follows the first record that does not verify:
//
//   - a torn tail: the record is incomplete (its checksummed header says it
//     extends past the end of the file), or its checksum fails and nothing
//     but zeros follows it (a write cut short, or a file extension the data
//     never reached). It is cut, and Open reports it (Report: bytes and
//     records cut, and why); the roles log the report.
//   - corruption: anything else — a bad header or data checksum followed by
//     more data, an impossible length under a valid header checksum, a
//     sequence number that does not increase. Open returns a *CorruptError
//     naming the record index and offset (errors.Is ErrCorrupt), the file
//     is not modified, and the role does not start. Records are never
//     dropped silently.
//
// A failed write or fsync (full or read-only disk) is returned as an error
// wrapping ErrJournal and the cause; the bytes it may have left are cut
// before the next append, so the file stays a sequence of whole records.
//
// # Compaction
//
// Journals never shrink by themselves; a role that says which records are
// live (Options.Live: a pure function of the records, so it sees exactly
// what is durable) has its journal rewritten when it exceeds
// max(CompactMin, CompactFactor × its size after the last compaction): the
// live records go to PATH.compact, which is fsynced and renamed over PATH,
// then the directory is fsynced. A crash at any step leaves the old file or
// the new one, each whole; a leftover PATH.compact is removed on open.
// Sequence numbers survive compaction, so a record keeps its identity.
//
// The filesystem is injected (FS): statemachine/journal/crashfs records
// every write, fsync, rename and directory fsync so that tests can replay
// the state left by a crash at each of them, and refuses writes to test
// full and read-only disks.
package journal
