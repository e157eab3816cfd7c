package protocol

// Constants of the wire, with the clause they come from. "Green Book" is the
// DLMS UA 1000-2 Ed. 10 (DLMS/COSEM architecture and protocols), clause 9.2
// (information security).
const (
	// SystemTitleLen is the length of a system title (Green Book 4.3.4:
	// 3 bytes manufacturer ID + 5 bytes serial number).
	SystemTitleLen = 8
	// InvocationCounterLen is the length of the invocation counter (9.2.4.4.3).
	InvocationCounterLen = 4
	// TagLen is the GCM authentication tag length of suites 1 and 2 (9.2.3.3.7.3:
	// 12 bytes).
	TagLen = 12
	// NonceLen is the GCM initialisation vector: system title || counter (9.2.3.3.7.2).
	NonceLen = SystemTitleLen + InvocationCounterLen

	// Security control byte (9.2.4.4.2): bit 4 authentication, bit 5
	// encryption, bits 0..3 the security suite id, bit 6 key set (0 unicast).
	scAuthentication = 0x10
	scEncryption     = 0x20
	scBroadcastKey   = 0x40
	scSuiteMask      = 0x0F

	// MaxAPDU caps the plaintext of one secured APDU (the negotiated
	// max-receive-pdu-size of small meters is 1024..2048; 64 KiB bounds it all).
	MaxAPDU = 65535

	// CounterBlock is how many invocation counters are reserved per durable
	// write of the counter store: one write per 256 messages. It is the
	// constant Block of spec/Channel.tla for a role whose counters a
	// generated machine keeps (the meter).
	CounterBlock = 256
	counterBlock = CounterBlock
)

// APDU tags of the secured messages of verimeter, in the range DLMS uses for
// glo-ciphered services (Green Book 9.3, "glo-" tags 0xC8..0xCF, 0xD0..0xDF).
const (
	TagDataNotification byte = 0xDF // meter to gateway: readings, blocks, events (data: replay window)
	TagCommand          byte = 0xCB // gateway to meter: commands (strictly increasing)
	TagResponse         byte = 0xCF // meter to gateway: responses to commands and reads
	TagFirmwareBlock    byte = 0xDD // gateway to meter: image blocks (data)
	// TagKeyAgreement frames an unprotected KeyAgreementMessage on the link
	// (DLMS carries it in an ACSE association; verimeter in one tagged APDU:
	// the message is signed, so it needs no channel protection).
	TagKeyAgreement byte = 0xC5
)
