package plc

// Sizes of what meters send, in bytes of APDU (the HDLC information field
// content, LLC header included). They follow the formats of DESIGN.md: a
// load-profile block is one COSE_Sign1 (RFC 9052) over a CBOR payload whose
// signature covers the Merkle root of the intervals; a secured APDU carries
// DLMS/COSEM suite 1 protection.
const (
	// llcHeader is the LLC sub-layer header of IEC 62056-46 8.3 (E6 E6/E7 00).
	llcHeader = 3
	// securedOverhead is what DLMS suite 1 adds to a payload: APDU tag (1),
	// length (up to 3), security control byte (1), invocation counter (4)
	// and the 12-byte GCM tag; the system title is known from the session.
	securedOverhead = 1 + 3 + 1 + 4 + 12
	// coseSign1Overhead is a COSE_Sign1 with ES256: array header (1),
	// protected header bstr {1: -7} (4), unprotected header {4: kid of 8
	// bytes} (11), payload bstr header (3) and the 64-byte signature with its
	// bstr header (2).
	coseSign1Overhead = 1 + 4 + 11 + 3 + 66
	// blockPayloadFixed is the CBOR payload of a block besides the values:
	// map header, meter id (9), start time (6), interval length (3), OBIS
	// code of the register (7) and a status bitmap header (2); keys 1 byte each.
	blockPayloadFixed = 1 + 5 + 9 + 6 + 3 + 7 + 2
	// intervalValueBytes is one interval's consumption in Wh as a CBOR
	// unsigned integer: values 24..255 take 2 bytes, 256..65535 take 3;
	// household 15-minute values are mostly below 256 Wh, we count 3.
	intervalValueBytes = 3
	// readingPayload is a single on-demand register reading: meter id,
	// time, OBIS code, value (9), status, request counter.
	readingPayload = 1 + 9 + 6 + 7 + 9 + 2 + 5
	// alarmPayload is a tamper or event record: meter id, time, event code,
	// event counter, a few bytes of detail.
	alarmPayload = 1 + 9 + 6 + 3 + 5 + 8
	// requestAPDU is a get-request for a block or reading (secured).
	requestAPDU = llcHeader + securedOverhead + 14
)

// BlockAPDUBytes is the size of a secured, signed load-profile block of n
// intervals as sent over PLC (one status bit per interval).
func BlockAPDUBytes(n int) int {
	return llcHeader + securedOverhead + coseSign1Overhead + blockPayloadFixed + n*intervalValueBytes + (n+7)/8
}

// ReadingAPDUBytes is a secured, individually signed on-demand reading.
func ReadingAPDUBytes() int { return llcHeader + securedOverhead + coseSign1Overhead + readingPayload }

// AlarmAPDUBytes is a secured, individually signed alarm.
func AlarmAPDUBytes() int { return llcHeader + securedOverhead + coseSign1Overhead + alarmPayload }

// frameBytesFor returns the bytes on the medium for an APDU of n bytes sent
// in frames of maxInfo: per frame flags (2), format (2), addresses (1+2),
// control (1), HCS (2) and FCS (2).
func frameBytesFor(n, maxInfo int) int {
	frames := (n + maxInfo - 1) / maxInfo
	return n + frames*12
}
