package translog

import "errors"

// Failure classes: every error of this package wraps one of them, so callers
// (the head-end, verimeter verify) and tests can tell why a proof or tree
// head was refused.
var (
	// ErrTruncated means an encoding ended early.
	ErrTruncated = errors.New("translog: input truncated")
	// ErrTrailing means bytes followed a complete encoding.
	ErrTrailing = errors.New("translog: trailing bytes")
	// ErrMalformed means a field has a value the format does not allow
	// (version, a length over its cap, an index outside the tree).
	ErrMalformed = errors.New("translog: malformed encoding")
	// ErrInclusion means an inclusion proof does not lead to the root.
	ErrInclusion = errors.New("translog: inclusion proof does not match the tree head")
	// ErrConsistency means two tree heads are not of one append-only log:
	// the later one rewrote history, or the proof is wrong.
	ErrConsistency = errors.New("translog: consistency proof does not match the tree heads")
	// ErrSignature means a tree head's signature does not verify under the
	// log key.
	ErrSignature = errors.New("translog: tree head signature invalid")
)
