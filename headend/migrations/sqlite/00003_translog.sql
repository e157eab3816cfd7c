-- Version 3: the transparency log (protocol/translog, DESIGN.md S8). Every
-- item stored from now on is appended to an RFC 9162 Merkle tree in the
-- transaction that stores it: log_leaves holds the leaf hashes of each
-- ingest batch in one row (first index, the 32-byte hashes concatenated;
-- the tree is rebuilt from them on start), data.log_index names an item's
-- leaf, and tree_heads keeps every signed tree head the head-end issued.
-- Items stored before this version have no leaf (log_index NULL). There is
-- no Down: the log is evidence and is never dropped by a migration tool.

-- +goose Up
ALTER TABLE data ADD COLUMN log_index INTEGER;
CREATE TABLE log_leaves (first INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
CREATE TABLE tree_heads (
  size INTEGER NOT NULL, at INTEGER NOT NULL, root BLOB NOT NULL, sth BLOB NOT NULL,
  PRIMARY KEY (size, at)) WITHOUT ROWID;
