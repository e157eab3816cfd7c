package protocol

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"

	"github.com/veraison/go-cose"
)

// OBIS is an OBIS code (IEC 62056-6-1) naming the measured quantity, e.g.
// 1-0:1.8.0*255 for active energy import.
type OBIS [6]byte

// ActiveEnergyImport is 1-0:1.8.0*255, the billing register of an electricity meter.
var ActiveEnergyImport = OBIS{1, 0, 1, 8, 0, 255}

// Status bits of readings and intervals (DESIGN.md UC2).
const (
	StatusClockInvalid  uint8 = 1 << 0
	StatusClockAdjusted uint8 = 1 << 1
	StatusPowerDown     uint8 = 1 << 2
	StatusTamper        uint8 = 1 << 3
)

// Reading is a register value, signed alone for on-demand reads (UC3).
type Reading struct {
	Meter   SystemTitle `cbor:"1,keyasint"`
	Counter uint64      `cbor:"2,keyasint"` // strictly increasing per meter: the head-end's idempotency key
	Time    int64       `cbor:"3,keyasint"` // Unix seconds, meter clock
	OBIS    OBIS        `cbor:"4,keyasint"`
	Value   uint64      `cbor:"5,keyasint"` // Wh
	Status  uint8       `cbor:"6,keyasint"`
}

// Interval is one quarter-hour value of a load profile; it is a Merkle leaf.
type Interval struct {
	Index  uint16 `cbor:"1,keyasint"`
	Value  uint32 `cbor:"2,keyasint"` // Wh in the interval
	Status uint8  `cbor:"3,keyasint"`
}

// BlockHeader is what the meter signs for a load-profile block: who, when,
// how many intervals, and the Merkle root over them (UC2).
type BlockHeader struct {
	Meter     SystemTitle `cbor:"1,keyasint"`
	Counter   uint64      `cbor:"2,keyasint"`
	Start     int64       `cbor:"3,keyasint"` // Unix seconds of the first interval
	Period    uint32      `cbor:"4,keyasint"` // seconds per interval (900)
	Count     uint16      `cbor:"5,keyasint"`
	OBIS      OBIS        `cbor:"6,keyasint"`
	Root      Hash        `cbor:"7,keyasint"`
	Register  uint64      `cbor:"8,keyasint"` // register value at the end of the block
	Signature []byte      `cbor:"-"`
}

// Event is a signed alarm or logbook event (UC9).
type Event struct {
	Meter   SystemTitle `cbor:"1,keyasint"`
	Counter uint64      `cbor:"2,keyasint"`
	Time    int64       `cbor:"3,keyasint"`
	Code    uint16      `cbor:"4,keyasint"`
	Detail  []byte      `cbor:"5,keyasint,omitempty"`
}

// Event codes.
const (
	EventCoverOpened   uint16 = 1
	EventMagneticField uint16 = 2
	EventClockJump     uint16 = 3
	EventFirmware      uint16 = 4
)

// Content types in the protected header distinguish what was signed, so a
// reading's signature can never be presented as a block's.
const (
	contentReading = "application/vnd.verimeter.reading+cbor"
	contentBlock   = "application/vnd.verimeter.block+cbor"
	contentEvent   = "application/vnd.verimeter.event+cbor"
)

// maxDetail caps an event's detail.
const maxDetail = 256

// MeterSigner is a meter's metrological signing key (separate from its
// channel key, DESIGN.md UC2) with the key identifier COSE carries.
type MeterSigner struct {
	Meter  SystemTitle
	signer cose.Signer
	rand   io.Reader
}

// NewMeterSigner wraps a P-256 metrological key.
func NewMeterSigner(meter SystemTitle, key *ecdsa.PrivateKey, rand io.Reader) (*MeterSigner, error) {
	s, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	return &MeterSigner{Meter: meter, signer: s, rand: rand}, nil
}

func (s *MeterSigner) sign1(content string, payload []byte) ([]byte, error) {
	m := cose.Sign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: content},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: s.Meter[:]},
		},
		Payload: payload,
	}
	if err := m.Sign(s.rand, nil, s.signer); err != nil {
		return nil, err
	}
	return m.MarshalCBOR()
}

// SignReading returns the COSE_Sign1 of a reading.
func (s *MeterSigner) SignReading(r Reading) ([]byte, error) {
	if r.Meter != s.Meter {
		return nil, fmt.Errorf("%w: reading of another meter", ErrWrongSigner)
	}
	p, err := marshal(r)
	if err != nil {
		return nil, err
	}
	return s.sign1(contentReading, p)
}

// SignEvent returns the COSE_Sign1 of an event.
func (s *MeterSigner) SignEvent(e Event) ([]byte, error) {
	if e.Meter != s.Meter || len(e.Detail) > maxDetail {
		return nil, fmt.Errorf("%w: event", ErrMalformed)
	}
	p, err := marshal(e)
	if err != nil {
		return nil, err
	}
	return s.sign1(contentEvent, p)
}

// SignedBlock is a load-profile block as sent: the COSE_Sign1 of its header
// and the intervals themselves.
type SignedBlock struct {
	Sign1     []byte     `cbor:"1,keyasint"`
	Intervals []Interval `cbor:"2,keyasint"`
}

// IntervalLeaves returns the Merkle leaf hashes of intervals.
func IntervalLeaves(iv []Interval) ([]Hash, error) {
	out := make([]Hash, len(iv))
	for i, v := range iv {
		out[i] = intervalLeaf(v)
	}
	return out, nil
}

// SignBlock fills in count and root and signs the header.
func (s *MeterSigner) SignBlock(h BlockHeader, intervals []Interval) (SignedBlock, error) {
	if h.Meter != s.Meter || len(intervals) == 0 || len(intervals) > maxCBORArray {
		return SignedBlock{}, fmt.Errorf("%w: block header or interval count", ErrMalformed)
	}
	for i, v := range intervals {
		if int(v.Index) != i {
			return SignedBlock{}, fmt.Errorf("%w: interval %d has index %d", ErrMalformed, i, v.Index)
		}
	}
	h.Count = uint16(len(intervals))
	h.Root = intervalsRoot(intervals)
	p, err := marshal(h)
	if err != nil {
		return SignedBlock{}, err
	}
	sig, err := s.sign1(contentBlock, p)
	if err != nil {
		return SignedBlock{}, err
	}
	return SignedBlock{Sign1: sig, Intervals: intervals}, nil
}

// signedBlockWire is the compact wire form of a block: the interval index is
// the position, values are a plain array, and the per-interval status bytes
// are sent only when one is non-zero. PLC airtime is the scarce resource
// (plc/README.md): this halves a day's block against an array of interval
// maps. The Merkle leaves are still computed over the full Interval, so what
// is signed does not depend on the wire form.
type signedBlockWire struct {
	Sign1  []byte   `cbor:"1,keyasint"`
	Values []uint32 `cbor:"2,keyasint"`
	Status []byte   `cbor:"3,keyasint,omitempty"`
}

// Marshal encodes the block for the wire.
func (b *SignedBlock) Marshal() ([]byte, error) {
	w := signedBlockWire{Sign1: b.Sign1, Values: make([]uint32, len(b.Intervals))}
	for i, iv := range b.Intervals {
		if int(iv.Index) != i {
			return nil, fmt.Errorf("%w: interval %d has index %d", ErrMalformed, i, iv.Index)
		}
		w.Values[i] = iv.Value
		if iv.Status != 0 && w.Status == nil {
			w.Status = make([]byte, len(b.Intervals))
		}
	}
	if w.Status != nil {
		for i, iv := range b.Intervals {
			w.Status[i] = iv.Status
		}
	}
	return marshal(w)
}

// UnmarshalSignedBlock parses a block strictly (not verified): a status
// field must have one byte per interval and is present only when one of
// them is non-zero, so each block has exactly one encoding.
func UnmarshalSignedBlock(p []byte) (SignedBlock, error) {
	var w signedBlockWire
	if err := unmarshalStrict(p, &w); err != nil {
		return SignedBlock{}, err
	}
	if len(w.Sign1) == 0 || len(w.Values) == 0 {
		return SignedBlock{}, fmt.Errorf("%w: empty block", ErrMalformed)
	}
	if w.Status != nil && (len(w.Status) != len(w.Values) || !slices.ContainsFunc(w.Status, func(s byte) bool { return s != 0 })) {
		return SignedBlock{}, fmt.Errorf("%w: status field of %d bytes for %d intervals", ErrMalformed, len(w.Status), len(w.Values))
	}
	b := SignedBlock{Sign1: w.Sign1, Intervals: make([]Interval, len(w.Values))}
	for i, v := range w.Values {
		b.Intervals[i] = Interval{Index: uint16(i), Value: v}
		if w.Status != nil {
			b.Intervals[i].Status = w.Status[i]
		}
	}
	return b, nil
}

// IntervalProof is what a market participant receives for one interval: the
// signed block header, the interval and its audit path. It verifies alone.
type IntervalProof struct {
	Sign1    []byte   `cbor:"1,keyasint"`
	Interval Interval `cbor:"2,keyasint"`
	Path     []Hash   `cbor:"3,keyasint"`
}

// Proof extracts the proof of interval i.
func (b *SignedBlock) Proof(i int) (IntervalProof, error) {
	if i < 0 || i >= len(b.Intervals) {
		return IntervalProof{}, fmt.Errorf("%w: no interval %d", ErrMalformed, i)
	}
	leaves, err := IntervalLeaves(b.Intervals)
	if err != nil {
		return IntervalProof{}, err
	}
	return IntervalProof{Sign1: b.Sign1, Interval: b.Intervals[i], Path: MerklePath(leaves, i)}, nil
}

// KeyResolver returns the metrological verification key of a meter as of a
// time, or an error naming why there is none (unknown meter, revoked or
// expired certificate at signing time). The PKI implements it.
type KeyResolver interface {
	MeterKey(meter SystemTitle, at int64) (*ecdsa.PublicKey, error)
}

// Verifier verifies data signed by meters. It caches a COSE verifier per
// meter key, so a reading costs one ECDSA verification and no X.509 work.
// A Verifier is used by one goroutine at a time;
// give each worker its own.
type Verifier struct {
	keys  KeyResolver
	cache map[SystemTitle]*ecdsa.PublicKey
}

// NewVerifier returns a verifier resolving meter keys through keys.
func NewVerifier(keys KeyResolver) *Verifier {
	return &Verifier{keys: keys, cache: map[SystemTitle]*ecdsa.PublicKey{}}
}

// fresh reports whether a cached key may be used for data signed at when:
// a resolver that knows validity windows (the PKI) implements KeyValidity,
// so the status at signing time is still judged for every message without
// X.509 work.
func (v *Verifier) fresh(meter SystemTitle, when int64, _ *ecdsa.PublicKey) bool {
	kv, ok := v.keys.(KeyValidity)
	return !ok || kv.ValidAt(meter, when)
}

// KeyValidity is implemented by resolvers that can answer quickly whether a
// meter's key was valid (not expired, not revoked) at a signing time.
type KeyValidity interface {
	ValidAt(meter SystemTitle, at int64) bool
}

func (v *Verifier) check(msg []byte, content string, at func([]byte) (SystemTitle, int64, error)) ([]byte, error) {
	p, err := parseSign1(msg, content)
	if err != nil {
		return nil, err
	}
	meter, when, err := at(p.content)
	if err != nil {
		return nil, err
	}
	if string(p.kid) != string(meter[:]) {
		return nil, fmt.Errorf("%w: key id does not name the meter of the payload", ErrWrongSigner)
	}
	pub, ok := v.cache[meter]
	if !ok || !v.fresh(meter, when, pub) {
		if pub, err = v.keys.MeterKey(meter, when); err != nil {
			return nil, err
		}
		v.cache[meter] = pub
	}
	if !verifyParts(pub, &p) {
		return nil, fmt.Errorf("%w: meter %x", ErrBadSignature, meter)
	}
	return p.content, nil
}

// VerifyReading checks a signed reading and returns it.
func (v *Verifier) VerifyReading(msg []byte) (Reading, error) {
	var r Reading
	_, err := v.check(msg, contentReading, func(p []byte) (SystemTitle, int64, error) {
		if err := unmarshalStrict(p, &r); err != nil {
			return SystemTitle{}, 0, err
		}
		return r.Meter, r.Time, nil
	})
	return r, err
}

// VerifyEvent checks a signed event and returns it.
func (v *Verifier) VerifyEvent(msg []byte) (Event, error) {
	var e Event
	_, err := v.check(msg, contentEvent, func(p []byte) (SystemTitle, int64, error) {
		if err := unmarshalStrict(p, &e); err != nil {
			return SystemTitle{}, 0, err
		}
		if len(e.Detail) > maxDetail {
			return SystemTitle{}, 0, ErrTooLong
		}
		return e.Meter, e.Time, nil
	})
	return e, err
}

// VerifyBlockHeader checks the signature of a block header alone.
func (v *Verifier) VerifyBlockHeader(sign1 []byte) (BlockHeader, error) {
	var h BlockHeader
	_, err := v.check(sign1, contentBlock, func(p []byte) (SystemTitle, int64, error) {
		if err := unmarshalStrict(p, &h); err != nil {
			return SystemTitle{}, 0, err
		}
		return h.Meter, h.Start, nil
	})
	return h, err
}

// VerifyBlock checks the header signature and that the intervals are exactly
// the ones whose root was signed.
func (v *Verifier) VerifyBlock(b SignedBlock) (BlockHeader, error) {
	h, err := v.VerifyBlockHeader(b.Sign1)
	if err != nil {
		return h, err
	}
	if int(h.Count) != len(b.Intervals) {
		return h, fmt.Errorf("%w: %d intervals, %d signed", ErrMerkleProof, len(b.Intervals), h.Count)
	}
	if intervalsRoot(b.Intervals) != h.Root {
		return h, fmt.Errorf("%w: intervals differ from the signed root", ErrMerkleProof)
	}
	return h, nil
}

// VerifyInterval checks one interval's proof: header signature, then path.
func (v *Verifier) VerifyInterval(p IntervalProof) (BlockHeader, error) {
	h, err := v.VerifyBlockHeader(p.Sign1)
	if err != nil {
		return h, err
	}
	return h, VerifyIntervalAgainst(h, p.Interval, p.Path)
}

// VerifyIntervalAgainst checks an interval and its path against a header
// whose signature was already verified (the fast path for many intervals of
// one block).
func VerifyIntervalAgainst(h BlockHeader, iv Interval, path []Hash) error {
	return VerifyMerklePath(h.Root, intervalLeaf(iv), int(iv.Index), int(h.Count), path)
}

// intervalLeaf encodes an interval the way marshal does, without allocating:
// a CBOR map of 3 pairs with keys 1..3 (deterministic, shortest integers).
// It includes the leaf hash's domain byte 0x00, so one SHA-256 call over a
// stack buffer is the whole leaf hash.
func intervalLeaf(iv Interval) Hash {
	var buf [1 + 1 + 1 + 3 + 1 + 5 + 1 + 2]byte
	b := append(buf[:0], 0x00, 0xA3, 0x01)
	b = appendCBORUint(b, uint64(iv.Index))
	b = append(b, 0x02)
	b = appendCBORUint(b, uint64(iv.Value))
	b = append(b, 0x03)
	b = appendCBORUint(b, uint64(iv.Status))
	return sha256.Sum256(b)
}

func appendCBORUint(b []byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(b, byte(v))
	case v < 1<<8:
		return append(b, 0x18, byte(v))
	case v < 1<<16:
		return append(b, 0x19, byte(v>>8), byte(v))
	default:
		return append(b, 0x1A, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// SigStructure rebuilds the COSE Sig_structure of a COSE_Sign1 (RFC 9052
// 4.4): ["Signature1", protected, external_aad, payload]. It lets anyone
// verify a meter signature with other tools (e.g. openssl dgst -verify).
func SigStructure(msg []byte) (toBeSigned, signature []byte, err error) {
	var raw struct {
		_           struct{} `cbor:",toarray"`
		Protected   []byte
		Unprotected map[any]any
		Payload     []byte
		Signature   []byte
	}
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(msg); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// The tagged message: strip the tag (18) and decode the array.
	body := msg
	if len(body) > 0 && body[0] == 0xD2 {
		body = body[1:]
	}
	if err := decModeLax.Unmarshal(body, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	tbs, err := marshal([]any{"Signature1", raw.Protected, []byte{}, raw.Payload})
	return tbs, raw.Signature, err
}

// Marshal encodes an interval proof for export (what a participant stores
// and a court re-verifies).
func (p *IntervalProof) Marshal() ([]byte, error) { return marshal(p) }

// UnmarshalIntervalProof parses an exported interval proof strictly (not
// verified: Verifier.VerifyInterval does that).
func UnmarshalIntervalProof(b []byte) (IntervalProof, error) {
	var p IntervalProof
	if err := unmarshalStrict(b, &p); err != nil {
		return p, err
	}
	if len(p.Sign1) == 0 || len(p.Path) > 32 {
		return p, fmt.Errorf("%w: interval proof", ErrMalformed)
	}
	return p, nil
}
