package plc

import "errors"

// Errors of the frame decoder and the link. Every error the package returns
// matches one of these with errors.Is, so a caller (and a test vector) can
// tell why a frame was rejected.
var (
	ErrTruncated     = errors.New("plc: frame truncated")
	ErrFlag          = errors.New("plc: missing opening or closing flag")
	ErrFormat        = errors.New("plc: not an HDLC frame type 3 format field")
	ErrLength        = errors.New("plc: frame length field does not match the frame")
	ErrAddress       = errors.New("plc: malformed HDLC address")
	ErrHCS           = errors.New("plc: header check sequence mismatch")
	ErrFCS           = errors.New("plc: frame check sequence mismatch")
	ErrInfoTooLong   = errors.New("plc: information field longer than negotiated")
	ErrTrailing      = errors.New("plc: trailing bytes after the closing flag")
	ErrControl       = errors.New("plc: control field not valid here")
	ErrAPDUTooLong   = errors.New("plc: APDU longer than the reassembly limit")
	ErrLinkFailed    = errors.New("plc: link failed after the maximum number of retransmissions")
	ErrQueueFull     = errors.New("plc: send queue full")
	ErrBadParameter  = errors.New("plc: invalid parameter")
	ErrClosed        = errors.New("plc: transport closed")
	ErrUnexpectedSeq = errors.New("plc: acknowledgement outside the send window")
	ErrLLC           = errors.New("plc: LLC header missing or wrong for the sender's role")
	ErrParameters    = errors.New("plc: malformed HDLC parameter negotiation field")
	ErrNotConnected  = errors.New("plc: link not established (no UA to the SNRM yet)")
)

// MaxAnswers caps the APDUs a primary station (the gateway) takes from a
// secondary (a meter) in one exchange. An honest meter answers a request
// with one APDU; a compromised one could stream them for as long as the
// exchange lasts. The first MaxAnswers are kept (the answer to the request
// is among them when the meter is honest), the rest are read and dropped,
// and the exchange ends in ErrTooManyAnswers. Every implementation of an
// exchange (the socket PLC of the gateway, the simulated segment) keeps to
// it.
const MaxAnswers = 8

// ErrTooManyAnswers marks an exchange in which the secondary station sent
// more than MaxAnswers APDUs.
var ErrTooManyAnswers = errors.New("plc: meter sent more answers than one exchange takes")
