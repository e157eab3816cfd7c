// Package crashfs is an in-memory filesystem for the journal's crash-point
// and fault tests, in the style of ALICE and CrashMonkey: it records every
// file creation, write, truncation, fsync, rename and directory fsync a
// role makes (MemFS.Record), materialises the state a crash after any
// prefix of them would leave — with the last unsynced write landed whole,
// torn at several byte offsets, zero-filled, or dropped (Replay) — and can
// refuse operations the way a full or read-only disk does (MemFS.Fail).
//
// It implements journal.FS, and its files satisfy protocol.StoreFile, so a
// role's journal and counter file go through the same recorded sequence.
// Each crash-point test prints one line that `make crashpoints` collects:
//
//	crashpoints: role=meter points=N torn=N dropped=N failures=N
package crashfs
