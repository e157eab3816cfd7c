package plc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"sync"

	"github.com/verimeter/verimeter/protocol"
)

// Sizes of what meters send, in bytes of APDU (the HDLC information field
// content, LLC header included). They are measured, not estimated: each is
// the length of a real message built by protocol/ (a COSE_Sign1 reading or
// event, a load-profile block in its wire form, DLMS suite 1 protection), so
// the capacity tables change when the wire formats do.
const (
	// llcHeader is the LLC sub-layer header of IEC 62056-46 8.3 (E6 E6/E7 00).
	llcHeader = llcLen
	// securedOverhead is what DLMS suite 1 adds to a payload of up to 255
	// bytes: APDU tag, length, security control byte, invocation counter and
	// the 12-byte GCM tag (protocol.Overhead).
	securedOverhead = 1 + 2 + 1 + 4 + 12
	// requestAPDU is a get-request for a block or reading (secured).
	requestAPDU = llcHeader + securedOverhead + 14
)

// Realistic field values: a meter in its tenth year (counters in the
// millions), register values of a household (tens of MWh), quarter-hour
// values of a few hundred Wh (3-byte CBOR integers, the conservative case).
const (
	sizeCounter  = 5_000_000
	sizeRegister = 45_000_000
	sizeTime     = 2_000_000_000
	sizeInterval = 300
)

var (
	sizeOnce   sync.Once
	sizeSigner *protocol.MeterSigner
	sizeMeter  = protocol.SystemTitle{'V', 'M', 'T', 0, 0x01, 0x02, 0x03, 0x04}
	sizeMu     sync.Mutex
	blockSizes = map[int]int{}
)

func signer() *protocol.MeterSigner {
	sizeOnce.Do(func() {
		// The signature is 64 bytes whatever the key; a fresh key is fine.
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if sizeSigner, err = protocol.NewMeterSigner(sizeMeter, k, rand.Reader); err != nil {
			panic(err)
		}
	})
	return sizeSigner
}

func secured(n int) int { return llcHeader + protocol.Overhead(n) + n }

// BlockAPDUBytes is the size of a secured, signed load-profile block of n
// intervals as sent over PLC.
func BlockAPDUBytes(n int) int {
	sizeMu.Lock()
	defer sizeMu.Unlock()
	if b, ok := blockSizes[n]; ok {
		return b
	}
	iv := make([]protocol.Interval, n)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: sizeInterval}
	}
	blk, err := signer().SignBlock(protocol.BlockHeader{Meter: sizeMeter, Counter: sizeCounter, Start: sizeTime, Period: 900, OBIS: protocol.ActiveEnergyImport, Register: sizeRegister}, iv)
	if err != nil {
		panic(err)
	}
	w, err := blk.Marshal()
	if err != nil {
		panic(err)
	}
	blockSizes[n] = secured(len(w))
	return blockSizes[n]
}

// ReadingAPDUBytes is a secured, individually signed on-demand reading.
func ReadingAPDUBytes() int {
	r, err := signer().SignReading(protocol.Reading{Meter: sizeMeter, Counter: sizeCounter, Time: sizeTime, OBIS: protocol.ActiveEnergyImport, Value: sizeRegister})
	if err != nil {
		panic(err)
	}
	return secured(len(r))
}

// AlarmAPDUBytes is a secured, individually signed alarm (an event with a
// few bytes of detail).
func AlarmAPDUBytes() int {
	e, err := signer().SignEvent(protocol.Event{Meter: sizeMeter, Counter: sizeCounter, Time: sizeTime, Code: protocol.EventCoverOpened, Detail: []byte("cover")})
	if err != nil {
		panic(err)
	}
	return secured(len(e))
}

// frameBytesFor returns the bytes on the medium for an APDU of n bytes sent
// in frames of maxInfo: per frame flags (2), format (2), addresses (1+2),
// control (1), HCS (2) and FCS (2).
func frameBytesFor(n, maxInfo int) int {
	frames := (n + maxInfo - 1) / maxInfo
	return n + frames*12
}
