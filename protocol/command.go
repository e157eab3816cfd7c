package protocol

import (
	"crypto/ecdsa"
	"fmt"
	"io"

	"github.com/veraison/go-cose"
	"golang.org/x/crypto/cryptobyte"
)

// CommandKind names an administration command (DESIGN.md UC4).
type CommandKind uint8

// Administration commands.
const (
	CmdTariff      CommandKind = 1 // switch the active tariff register
	CmdDisconnect  CommandKind = 2 // open the breaker
	CmdReconnect   CommandKind = 3 // arm the breaker; the customer closes it locally
	CmdClockSet    CommandKind = 4 // adjust the clock by a bounded step
	CmdKeyRotation CommandKind = 5 // force a new key agreement
	CmdTrustList   CommandKind = 6 // install a new trust list
	// CmdWakeUp tells a gateway (Meter names the gateway's system title) to
	// connect out to the head-end now: the gateway never listens on the WAN,
	// so the head-end reaches it with a signed wake-up over a side channel.
	CmdWakeUp CommandKind = 7
)

// MaxClockStep bounds a clock adjustment (UC4): a compromised gateway can
// at most drift the clock slowly, never jump it.
const MaxClockStep = 300

// Command is an administration command for one meter. Counter is strictly
// increasing per meter (S9): the meter runs a command at most once and only
// in issue order.
type Command struct {
	Meter     SystemTitle `cbor:"1,keyasint"`
	Counter   uint64      `cbor:"2,keyasint"`
	Kind      CommandKind `cbor:"3,keyasint"`
	Issued    int64       `cbor:"4,keyasint"`
	Tariff    uint8       `cbor:"5,keyasint,omitempty"`
	ClockStep int64       `cbor:"6,keyasint,omitempty"`
	Payload   []byte      `cbor:"7,keyasint,omitempty"` // e.g. a signed trust list
	// Approvals are the staff's signatures over the command (ApprovalDigest),
	// made with their own keys outside the head-end: a disconnect runs at a
	// meter only with two of distinct keys its trust list names as
	// RoleApprover (VerifyApprovals).
	Approvals []Approval `cbor:"8,keyasint,omitempty"`
	// Trace is the Lamport time of the head-end's step that issued the
	// command, for trace validation (statemachine/tracecheck): the relay
	// that consumes the command observes it. 0 when the head-end keeps no
	// trace; it has no effect on the command.
	Trace uint64 `cbor:"9,keyasint,omitempty"`
}

const contentCommand = "application/vnd.verimeter.command+cbor"

// maxCommandPayload caps an embedded payload (a trust list).
const maxCommandPayload = 4096

func (c *Command) wellFormed() error {
	switch c.Kind {
	case CmdTariff, CmdDisconnect, CmdReconnect, CmdKeyRotation, CmdWakeUp:
	case CmdClockSet:
		if c.ClockStep < -MaxClockStep || c.ClockStep > MaxClockStep {
			return fmt.Errorf("%w: %d s, at most %d s", ErrClockStep, c.ClockStep, MaxClockStep)
		}
	case CmdTrustList:
		if len(c.Payload) == 0 {
			return fmt.Errorf("%w: trust list command without a list", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: command kind %d", ErrMalformed, c.Kind)
	}
	if len(c.Payload) > maxCommandPayload || len(c.Approvals) > MaxApprovals {
		return fmt.Errorf("%w: command payload or approvals", ErrTooLong)
	}
	for i, a := range c.Approvals {
		if len(a.KeyID) == 0 || len(a.KeyID) > maxApprovalKeyID || len(a.Sig) != approvalSigLen {
			return fmt.Errorf("%w: approval %d: key id of %d bytes, signature of %d", ErrApproval, i, len(a.KeyID), len(a.Sig))
		}
	}
	return nil
}

// SignCommand signs a command with the issuer's key (kid: its certificate's
// subject key id) as COSE_Sign1.
func SignCommand(c Command, key *ecdsa.PrivateKey, kid []byte, rand io.Reader) ([]byte, error) {
	if err := c.wellFormed(); err != nil {
		return nil, err
	}
	p, err := marshal(c)
	if err != nil {
		return nil, err
	}
	s, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	m := cose.Sign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: contentCommand},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid},
		},
		Payload: p,
	}
	if err := m.Sign(rand, nil, s); err != nil {
		return nil, err
	}
	return m.MarshalCBOR()
}

// CommandKeys resolves an issuer's key id to its key and the command kinds
// its role allows (the meter takes them from its trust list).
type CommandKeys func(kid []byte) (pub *ecdsa.PublicKey, allowed func(CommandKind) bool, err error)

// VerifyCommand checks a signed command: structure, issuer signature, that
// the issuer's role allows the kind, and that it is for this meter. Order
// and at-most-once are the caller's (StrictCounter on Command.Counter).
func VerifyCommand(data []byte, meter SystemTitle, keys CommandKeys) (Command, error) {
	var c Command
	m, err := commandEnvelope(data)
	if err != nil {
		return c, err
	}
	kid, _ := m.Headers.Unprotected[cose.HeaderLabelKeyID].([]byte)
	pub, allowed, err := keys(kid)
	if err != nil {
		return c, err
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, pub)
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	if err := m.Verify(nil, v); err != nil {
		return c, fmt.Errorf("%w: command", ErrBadSignature)
	}
	if err := unmarshalStrict(m.Payload, &c); err != nil {
		return c, err
	}
	if err := c.wellFormed(); err != nil {
		return c, err
	}
	if c.Meter != meter {
		return c, fmt.Errorf("%w: command for meter %x", ErrWrongSigner, c.Meter)
	}
	if !allowed(c.Kind) {
		return c, fmt.Errorf("%w: issuer may not send command kind %d", ErrRole, c.Kind)
	}
	return c, nil
}

// commandEnvelope decodes a signed command's COSE_Sign1 and checks its
// content type; the payload and signature are the caller's.
func commandEnvelope(data []byte) (*cose.Sign1Message, error) {
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if ct := m.Headers.Protected[cose.HeaderLabelContentType]; ct != contentCommand {
		return nil, fmt.Errorf("%w: content type", ErrMalformed)
	}
	return &m, nil
}

// PeekCommand reads a signed command's content without checking its
// signature. It exists for the gateway, which relays commands it cannot
// authorise (the meter checks the signature) but routes and deduplicates
// them by meter and counter; nothing it returns may be trusted.
func PeekCommand(data []byte) (Command, error) {
	var c Command
	m, err := commandEnvelope(data)
	if err != nil {
		return c, err
	}
	if err := unmarshalStrict(m.Payload, &c); err != nil {
		return c, err
	}
	if err := c.wellFormed(); err != nil {
		return c, err
	}
	return c, nil
}

// FirmwareBlock is one block of an image in transfer (UC5): campaign,
// block number and the bytes. It is protected by the secured APDU on the way
// and by the manifest digest before activation.
type FirmwareBlock struct {
	Campaign uint32
	Index    uint16
	Total    uint16
	Data     []byte
}

// MaxFirmwareBlock caps a block's data (one HDLC information field).
const MaxFirmwareBlock = 128

// Marshal encodes the block: campaign (4), index (2), total (2), data with a
// one-byte length.
func (b *FirmwareBlock) Marshal() ([]byte, error) {
	if len(b.Data) == 0 || len(b.Data) > MaxFirmwareBlock || b.Total == 0 || b.Index >= b.Total {
		return nil, fmt.Errorf("%w: firmware block %d/%d of %d bytes", ErrMalformed, b.Index, b.Total, len(b.Data))
	}
	var bb cryptobyte.Builder
	bb.AddUint32(b.Campaign)
	bb.AddUint16(b.Index)
	bb.AddUint16(b.Total)
	bb.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes(b.Data) })
	return bb.Bytes()
}

// UnmarshalFirmwareBlock parses a block strictly.
func UnmarshalFirmwareBlock(p []byte) (FirmwareBlock, error) {
	var b FirmwareBlock
	s := cryptobyte.String(p)
	var data []byte
	if !s.ReadUint32(&b.Campaign) || !s.ReadUint16(&b.Index) || !s.ReadUint16(&b.Total) || !readU8Prefixed(&s, &data) {
		return b, ErrTruncated
	}
	if !s.Empty() {
		return b, ErrTrailing
	}
	if len(data) == 0 || len(data) > MaxFirmwareBlock {
		return b, fmt.Errorf("%w: block data of %d bytes", ErrTooLong, len(data))
	}
	if b.Total == 0 || b.Index >= b.Total {
		return b, fmt.Errorf("%w: block %d of %d", ErrMalformed, b.Index, b.Total)
	}
	b.Data = data
	return b, nil
}
