package plc

// Constants of the wire. Clause numbers refer to IEC 62056-46:2002+A1:2006
// (DLMS/COSEM "Green Book" 8th ed., clause 8.4, HDLC-based data link layer).
const (
	// Flag opens and closes every frame (8.4.1.1). Frames of type 3 carry their
	// length, so no byte stuffing is done and a 0x7E inside a frame is data.
	Flag byte = 0x7E

	// formatType3 is the frame type nibble of the frame format field (8.4.1.3.1).
	formatType3 = 0xA

	// segmentBit is the S bit of the frame format field: more segments follow.
	segmentBit = 0x08

	// maxFrameLength is the largest value of the 11-bit frame length subfield
	// (8.4.1.3.1): the bytes between the two flags.
	maxFrameLength = 0x7FF

	// DefaultMaxInfo is the default maximum information field length for both
	// directions (8.4.5.3.2, "maximum_information_field_length" 128).
	DefaultMaxInfo = 128

	// MaxInfoLimit caps a negotiated information field; with an 11-bit length
	// and the largest header the information field can never exceed it.
	MaxInfoLimit = maxFrameLength - 2 - 4 - 4 - 1 - 2 - 2

	// DefaultWindow is the receive/transmit window (8.4.5.3.2, window_size 1..7).
	DefaultWindow = 7

	// crcGood is the CRC-16/X.25 residue over data followed by its own FCS
	// (RFC 1662 appendix C.2, "PPPGOODFCS16").
	crcGood uint16 = 0xF0B8
)

// Control field values (8.4.3.3, ISO/IEC 13239). The P/F bit is 0x10.
const (
	pfBit   byte = 0x10
	ctlRR   byte = 0x01 // receive ready: RRR P 0001
	ctlRNR  byte = 0x05 // receive not ready: RRR P 0101
	ctlSNRM byte = 0x83 // set normal response mode
	ctlDISC byte = 0x43 // disconnect
	ctlUA   byte = 0x63 // unnumbered acknowledge
	ctlDM   byte = 0x0F // disconnected mode
	ctlFRMR byte = 0x87 // frame reject
	ctlUI   byte = 0x03 // unnumbered information
)

// Address sizes allowed by 8.4.2.2: a client address is one byte, a server
// address one, two or four bytes; each byte carries 7 bits and the low bit
// marks the last byte of the address.
const maxAddressBytes = 4

// LLC sub-layer header of IEC 62056-46 8.3 (Green Book 8.3.2): destination
// LSAP, source LSAP, LLC quality. The DLMS/COSEM LSAP is 0xE6; the source
// LSAP's low bit is the command/response bit, so a client (primary station)
// sends E6 E6 00 and a server (secondary station) answers E6 E7 00. It opens
// every APDU carried in I and UI frames, before segmentation.
const (
	llcLSAP     byte = 0xE6
	llcResponse byte = 0x01 // C/R bit of the source LSAP
	llcQuality  byte = 0x00
	llcLen           = 3
)

// HDLC parameter negotiation field of SNRM and UA (IEC 62056-46 8.4.5.3.2,
// ISO/IEC 13239 5.5.3.2): format identifier, group identifier, group length,
// then (identifier, length, value) for each parameter.
const (
	paramFormatID  byte = 0x81
	paramGroupID   byte = 0x80
	paramMaxInfoTX byte = 0x05 // maximum information field length, transmit
	paramMaxInfoRX byte = 0x06 // maximum information field length, receive
	paramWindowTX  byte = 0x07 // window size, transmit
	paramWindowRX  byte = 0x08 // window size, receive

	// ParamDefaultMaxInfo and ParamDefaultWindow are the values a station
	// assumes for a parameter its peer left out (8.4.5.3.2): 128 bytes and a
	// window of one frame.
	ParamDefaultMaxInfo = 128
	ParamDefaultWindow  = 1

	// maxWindow is the largest window modulo-8 sequence numbers allow.
	maxWindow = 7
)
