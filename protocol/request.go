package protocol

import "fmt"

// PDUKind names an application PDU carried inside a secured APDU between a
// gateway and a meter: the requests of the collection schedule (UC2, UC3),
// commands (UC4), firmware transfer (UC5) and the meter's answers.
type PDUKind uint8

// Application PDUs. Requests go gateway → meter under TagCommand (strict
// counters: never reordered, never run twice); answers and alarms go
// meter → gateway under TagDataNotification.
const (
	PDUGetBlock      PDUKind = 1  // Day: the load-profile block of that day
	PDUGetReading    PDUKind = 2  // an on-demand signed register reading
	PDUCommand       PDUKind = 3  // Body: a signed Command
	PDUManifest      PDUKind = 4  // Body: a signed firmware manifest; Campaign names the transfer
	PDUFirmwareBlock PDUKind = 5  // Body: a FirmwareBlock
	PDUActivate      PDUKind = 6  // install the completed image of Campaign
	PDUAck           PDUKind = 7  // Body: a TamperBatch of the head-end's DataAcks the gateway relays; the meter forgets each item a valid one names (Collection's EndToEndAcked)
	PDUTamperEvents  PDUKind = 8  // the meter's unacknowledged signed tamper events (UC9), answered with PDUData
	PDUTamperAcks    PDUKind = 9  // Body: the head-end's signed tamper acknowledgements (a TamperBatch)
	PDUGetKept       PDUKind = 10 // Counter: the meter's first kept signed item (not yet acknowledged by the head-end) at or above it, answered with PDUData (Counter, Day, Detail KeptBlock or KeptReading) or StatusMissing
	PDUData          PDUKind = 16 // Body: signed data (reading, block, event)
	PDUResult        PDUKind = 17 // Status and Detail: the outcome of a request
)

// The kinds of a kept item a PDUGetKept answer names in Detail.
const (
	KeptBlock   = "block"
	KeptReading = "reading"
)

// Result statuses, so a gateway and head-end can tell outcomes apart without
// parsing text.
const (
	StatusOK       uint8 = 0
	StatusRejected uint8 = 1 // refused; Detail says why (a typed error's text)
	StatusMissing  uint8 = 2 // no such data (e.g. a day not yet closed)
)

// MaxPDUBody caps a PDU's body: a load-profile block of a month, a manifest
// or a firmware block fit well below it.
const MaxPDUBody = 48 << 10

// PDU is one application PDU.
type PDU struct {
	Kind     PDUKind `cbor:"1,keyasint"`
	Request  uint64  `cbor:"2,keyasint,omitempty"` // echoes the request a result or data answers
	Day      int64   `cbor:"3,keyasint,omitempty"`
	Campaign uint32  `cbor:"4,keyasint,omitempty"`
	Body     []byte  `cbor:"5,keyasint,omitempty"`
	Status   uint8   `cbor:"6,keyasint,omitempty"`
	Detail   string  `cbor:"7,keyasint,omitempty"`
	// Clock is the sender's Lamport time for trace validation: the step
	// that consumes the PDU observes it (0 when the sender keeps no trace).
	// It travels inside the sealed APDU, so it is authenticated.
	Clock uint64 `cbor:"8,keyasint,omitempty"`
	// Counter is a signed-data counter: where a PDUGetKept starts, and the
	// counter of the item its answer carries. A gateway's PDUAck that names
	// one on its own word makes the meter forget nothing
	// (spec/Collection.tla, AckDrop).
	Counter uint64 `cbor:"9,keyasint,omitempty"`
}

// Marshal encodes the PDU.
func (p *PDU) Marshal() ([]byte, error) {
	if err := p.wellFormed(); err != nil {
		return nil, err
	}
	return marshal(p)
}

func (p *PDU) wellFormed() error {
	if p.Kind < PDUGetBlock || p.Kind > PDUGetKept && p.Kind != PDUData && p.Kind != PDUResult {
		return fmt.Errorf("%w: PDU kind %d", ErrMalformed, p.Kind)
	}
	if len(p.Body) > MaxPDUBody || len(p.Detail) > 256 {
		return fmt.Errorf("%w: PDU body of %d bytes", ErrTooLong, len(p.Body))
	}
	return nil
}

// UnmarshalPDU parses a PDU strictly.
func UnmarshalPDU(b []byte) (PDU, error) {
	var p PDU
	if len(b) > MaxPDUBody+512 {
		return p, fmt.Errorf("%w: PDU of %d bytes", ErrTooLong, len(b))
	}
	if err := unmarshalStrict(b, &p); err != nil {
		return p, err
	}
	return p, p.wellFormed()
}
