package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
)

// ErrApproval means a command's approvals do not authorise it: one is
// malformed, signed by a key the verifier does not know as an approver, or
// does not verify over the command.
var ErrApproval = errors.New("protocol: command approval rejected")

// Approval is one staff member's approval of a command (DESIGN.md UC4,
// four eyes): an ECDSA P-256 signature, r || s, by the staff member's own
// key over ApprovalDigest of the command, and that key's id (its
// SubjectKeyID). It is made outside the head-end (the operator's client
// signs it) and embedded by the head-end in the command it signs, so the
// meter can check who approved without trusting the head-end's key for it.
type Approval struct {
	KeyID []byte `cbor:"1,keyasint"`
	Sig   []byte `cbor:"2,keyasint"`
}

// Caps of a command's approvals: at most MaxApprovals, each a key id of at
// most maxApprovalKeyID bytes and a P-256 signature.
const (
	// MaxApprovals caps the approvals a command carries (two are needed
	// for a disconnect; a few more leave room for a larger quorum).
	MaxApprovals      = 4
	maxApprovalKeyID  = 32
	approvalSigLen    = 64
	approvalDomain    = "verimeter command approval v1\x00"
	approvalSignSuite = Suite1 // ECDSA P-256 with SHA-256
)

// approvalMessage is what an approval signs: a domain separator and the
// command's CBOR encoding without its approvals and trace clock (which the
// head-end adds after the approvals are made). Every other field is
// covered: meter, counter, kind, issue time and arguments, so an approval
// is good for that one command only and cannot be moved to another
// counter, meter or kind.
func approvalMessage(c Command) ([]byte, error) {
	c.Approvals, c.Trace = nil, 0
	if err := c.wellFormed(); err != nil {
		return nil, err
	}
	p, err := marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte(approvalDomain), p...), nil
}

// ApprovalDigest returns the SHA-256 digest an approval of c signs (for a
// signer that holds its key elsewhere, or to show an operator what is
// being approved).
func ApprovalDigest(c Command) ([]byte, error) {
	msg, err := approvalMessage(c)
	if err != nil {
		return nil, err
	}
	h := approvalSignSuite.cryptoHash().New()
	h.Write(msg)
	return h.Sum(nil), nil
}

// SignApproval is a staff member's approval of c with their own key.
func SignApproval(c Command, key *ecdsa.PrivateKey, rand io.Reader) (Approval, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return Approval{}, fmt.Errorf("%w: approval key is not P-256", ErrApproval)
	}
	msg, err := approvalMessage(c)
	if err != nil {
		return Approval{}, err
	}
	sig, err := signRaw(key, approvalSignSuite, msg, rand)
	if err != nil {
		return Approval{}, err
	}
	return Approval{KeyID: SubjectKeyID(&key.PublicKey), Sig: sig}, nil
}

// VerifyApproval checks that a is a signature over c by pub, whose key id
// it names.
func VerifyApproval(c Command, a Approval, pub *ecdsa.PublicKey) error {
	if pub == nil || pub.Curve != elliptic.P256() {
		return fmt.Errorf("%w: approver key is not P-256", ErrApproval)
	}
	if !bytes.Equal(a.KeyID, SubjectKeyID(pub)) {
		return fmt.Errorf("%w: approval names key %x, not the approver's", ErrApproval, a.KeyID)
	}
	if len(a.Sig) != approvalSigLen {
		return fmt.Errorf("%w: signature of %d bytes", ErrApproval, len(a.Sig))
	}
	msg, err := approvalMessage(c)
	if err != nil {
		return err
	}
	if !verifyRaw(pub, approvalSignSuite, msg, a.Sig) {
		return fmt.Errorf("%w: %w: approval by %x", ErrApproval, ErrBadSignature, a.KeyID)
	}
	return nil
}

// EncodeCommandToApprove encodes the command an approver is asked to sign
// (its CBOR content, unsigned, without approvals), for the head-end to hand
// to operators' clients; DecodeCommandToApprove reads it back.
func EncodeCommandToApprove(c Command) ([]byte, error) {
	c.Approvals, c.Trace = nil, 0
	if err := c.wellFormed(); err != nil {
		return nil, err
	}
	return marshal(c)
}

// DecodeCommandToApprove parses a command to approve strictly: a
// well-formed command without approvals.
func DecodeCommandToApprove(b []byte) (Command, error) {
	var c Command
	if len(b) > maxCommandPayload+1024 {
		return c, fmt.Errorf("%w: command of %d bytes", ErrTooLong, len(b))
	}
	if err := unmarshalStrict(b, &c); err != nil {
		return c, err
	}
	if err := c.wellFormed(); err != nil {
		return c, err
	}
	if len(c.Approvals) != 0 || c.Trace != 0 {
		return c, fmt.Errorf("%w: a command to approve carries no approvals", ErrApproval)
	}
	return c, nil
}

// Marshal encodes an approval for transport (CBOR), as an operator's
// client hands it to the head-end.
func (a Approval) Marshal() ([]byte, error) {
	if len(a.KeyID) == 0 || len(a.KeyID) > maxApprovalKeyID || len(a.Sig) != approvalSigLen {
		return nil, fmt.Errorf("%w: key id of %d bytes, signature of %d", ErrApproval, len(a.KeyID), len(a.Sig))
	}
	return marshal(a)
}

// UnmarshalApproval parses an approval strictly, within its caps.
func UnmarshalApproval(b []byte) (Approval, error) {
	var a Approval
	if len(b) > 128 {
		return a, fmt.Errorf("%w: approval of %d bytes", ErrTooLong, len(b))
	}
	if err := unmarshalStrict(b, &a); err != nil {
		return a, err
	}
	if len(a.KeyID) == 0 || len(a.KeyID) > maxApprovalKeyID || len(a.Sig) != approvalSigLen {
		return a, fmt.Errorf("%w: key id of %d bytes, signature of %d", ErrApproval, len(a.KeyID), len(a.Sig))
	}
	return a, nil
}
