// Package translog is the head-end's append-only transparency log of signed
// items, after RFC 9162 (Certificate Transparency 2.0) §2.1: a Merkle tree
// over every accepted reading and block (leaf hash SHA-256(0x00 || leaf),
// node hash SHA-256(0x01 || left || right)), signed tree heads (STH: tree
// size, root, the log's own timestamp, signed by the log key the PKI
// certifies), inclusion proofs (§2.1.3) and consistency proofs (§2.1.4).
//
// It exists for trusted signing time (DESIGN.md S8): a meter's claimed
// signing time is whatever the key holder says, so a thief of the key could
// backdate. The first signed tree head that includes an item bounds when the
// item existed, on a clock the key holder does not control. An item signed
// with a key that was later revoked counts as evidence only with an
// inclusion proof into a tree head older than the key's invalidity date.
//
// Verification needs nothing but the proof, the tree head and the log's
// public key; parsers are strict (caps, no trailing bytes, typed errors).
package translog
