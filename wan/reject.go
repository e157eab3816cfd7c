package wan

import (
	"errors"

	"github.com/verimeter/verimeter/protocol"
)

// RejectClass is why an item (or an APDU) was refused, in a few classes an
// operator can alert on: the head-end counts its refused items by class and
// a gateway the APDUs it refused from its meters, so a rise of forged
// signatures is told apart from a meter with an expired certificate or
// from a broken encoder without reading the audit log.
type RejectClass uint8

// The rejection classes. The zero class is RejectOther, so an error no
// class names still counts.
const (
	// RejectOther is a refusal no other class names.
	RejectOther RejectClass = iota
	// RejectMalformed is an encoding that does not parse or is out of its
	// bounds (protocol.ErrMalformed, ErrTruncated, ErrTrailing, ErrTooLong,
	// ErrUnknownSuite, ErrSecurityControl).
	RejectMalformed
	// RejectSignature is data whose signature, tag or Merkle proof does not
	// verify, or that is signed by another key than its meter's
	// (protocol.ErrBadSignature, ErrWrongSigner, ErrAuthentication,
	// ErrMerkleProof): forgery or corruption.
	RejectSignature
	// RejectCertificate is data from a meter without a valid certificate:
	// unknown, revoked, expired, in the wrong role or off profile
	// (protocol.ErrCertificate, ErrRevoked, ErrExpired, ErrRole,
	// ErrProfile, ErrValidityNotNested).
	RejectCertificate
	// RejectReplay is a replayed or out-of-order counter
	// (protocol.ErrReplay, ErrOutOfOrder).
	RejectReplay
	// RejectInvalidity is an item that reaches the log after its key's
	// invalidity date (headend.ErrLoggedAfterInvalidity); ClassOf cannot
	// see it, the head-end classifies it itself.
	RejectInvalidity
	// RejectCapacity is a refusal because a bound was reached (a meter
	// sending more answers than an exchange takes, a machine full).
	RejectCapacity

	// NumRejectClasses is the number of classes, for arrays indexed by
	// class.
	NumRejectClasses = iota
)

var rejectNames = [NumRejectClasses]string{"other", "malformed", "signature", "certificate", "replay", "logged_after_invalidity", "capacity"}

// String is the class's name, the value of the `class` label of the
// rejection metrics.
func (c RejectClass) String() string {
	if int(c) < len(rejectNames) {
		return rejectNames[c]
	}
	return "other"
}

// classes maps the protocol's sentinels to classes, checked in order: the
// first a refusal wraps decides (a signature error that also wraps a
// malformed field is a signature refusal).
var classes = []struct {
	err   error
	class RejectClass
}{
	{protocol.ErrBadSignature, RejectSignature},
	{protocol.ErrWrongSigner, RejectSignature},
	{protocol.ErrAuthentication, RejectSignature},
	{protocol.ErrMerkleProof, RejectSignature},
	{protocol.ErrCertificate, RejectCertificate},
	{protocol.ErrRevoked, RejectCertificate},
	{protocol.ErrExpired, RejectCertificate},
	{protocol.ErrRole, RejectCertificate},
	{protocol.ErrProfile, RejectCertificate},
	{protocol.ErrValidityNotNested, RejectCertificate},
	{protocol.ErrReplay, RejectReplay},
	{protocol.ErrOutOfOrder, RejectReplay},
	{protocol.ErrMalformed, RejectMalformed},
	{protocol.ErrTruncated, RejectMalformed},
	{protocol.ErrTrailing, RejectMalformed},
	{protocol.ErrTooLong, RejectMalformed},
	{protocol.ErrUnknownSuite, RejectMalformed},
	{protocol.ErrSecurityControl, RejectMalformed},
}

// ClassOf returns the class of a refusal by the protocol error it wraps
// (RejectOther when it wraps none).
func ClassOf(err error) RejectClass {
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.class
		}
	}
	return RejectOther
}
