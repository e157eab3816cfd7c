package protocol

import (
	"errors"
	"fmt"
)

// Failure classes. Every error returned by this package wraps one of them, so
// callers and test vectors can assert why an input was refused.
var (
	ErrTruncated        = errors.New("protocol: input truncated")
	ErrTrailing         = errors.New("protocol: trailing bytes")
	ErrTooLong          = errors.New("protocol: field longer than its cap")
	ErrMalformed        = errors.New("protocol: malformed encoding")
	ErrUnknownSuite     = errors.New("protocol: unknown security suite")
	ErrSecurityControl  = errors.New("protocol: security control byte not accepted")
	ErrAuthentication   = errors.New("protocol: authentication failed")
	ErrReplay           = errors.New("protocol: invocation counter replayed or too old")
	ErrOutOfOrder       = errors.New("protocol: command counter not strictly increasing")
	ErrCounterExhausted = errors.New("protocol: invocation counter exhausted; a new key agreement is required")
	ErrCounterStore     = errors.New("protocol: counter reservation not durable")
	ErrBadSignature     = errors.New("protocol: signature invalid")
	ErrWrongSigner      = errors.New("protocol: signed by an unexpected key")
	ErrMerkleProof      = errors.New("protocol: Merkle proof does not match the signed root")
	ErrManifest         = errors.New("protocol: manifest rejected")
	ErrCertificate      = errors.New("protocol: certificate rejected")
	ErrRevoked          = errors.New("protocol: certificate revoked at signing time")
	ErrExpired          = errors.New("protocol: certificate not valid at signing time")
	ErrRole             = errors.New("protocol: certificate lacks the required role")
	ErrTrustList        = errors.New("protocol: trust list rejected")
	// ErrValidityNotNested refuses a certificate whose validity would not
	// lie within its issuer's (PKI.md, validity: the shell model).
	ErrValidityNotNested = errors.New("protocol: certificate validity not within the issuer's")
	// ErrProfile is what every finding of LintChain wraps: the certificate
	// does not follow the SM-PKI profile of PKI.md.
	ErrProfile = errors.New("protocol: certificate does not follow the SM-PKI profile")
)

// ErrClockStep refuses a clock-set command moving the meter's clock by more
// than MaxClockStep at once (a compromised gateway or stolen key must not
// shift billing periods). It is a malformed command, so it also matches
// ErrMalformed.
var ErrClockStep = fmt.Errorf("%w: clock step larger than the maximum", ErrMalformed)
