package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/veraison/go-cose"
)

// Tamper events (UC9, spec/Tamper.tla). The meter signs a tamper event as an
// Event (MeterSigner.SignEvent: meter title, Counter = the event's sequence
// number n of the spec, Time, Code = the kind) and keeps it until the
// head-end's TamperAck verifies under a head-end key of its trust list. The
// gateway in between holds no key of either: it routes events and
// acknowledgements by what PeekEvent and PeekTamperAck read, trusting
// nothing of it.

// Tamper kinds as spec/Tamper.tla names them (Kinds), and the event codes
// that stand for them on the wire.
const (
	TamperCover    = "cover"
	TamperMagnetic = "magnetic"
)

// ErrTamperKind refuses a tamper kind the protocol does not know. It is a
// malformed event, so it also matches ErrMalformed.
var ErrTamperKind = fmt.Errorf("%w: unknown tamper kind", ErrMalformed)

// TamperCode is the event code of a tamper kind of the spec.
func TamperCode(kind string) (uint16, error) {
	switch kind {
	case TamperCover:
		return EventCoverOpened, nil
	case TamperMagnetic:
		return EventMagneticField, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrTamperKind, kind)
}

// TamperKind is the spec's kind of a tamper event code.
func TamperKind(code uint16) (string, error) {
	switch code {
	case EventCoverOpened:
		return TamperCover, nil
	case EventMagneticField:
		return TamperMagnetic, nil
	}
	return "", fmt.Errorf("%w: code %d", ErrTamperKind, code)
}

// PeekEvent reads a signed event's content without checking its signature,
// strictly (the meter's one COSE_Sign1 shape, no trailing bytes). It exists
// for the gateway, which queues and drops events by meter and number but
// holds no meter key: nothing it returns may be trusted.
func PeekEvent(sign1 []byte) (Event, error) {
	var e Event
	p, err := parseSign1(sign1, contentEvent)
	if err != nil {
		return e, err
	}
	if err := unmarshalStrict(p.content, &e); err != nil {
		return e, err
	}
	if len(e.Detail) > maxDetail {
		return e, ErrTooLong
	}
	if string(p.kid) != string(e.Meter[:]) {
		return e, fmt.Errorf("%w: key id does not name the meter of the payload", ErrWrongSigner)
	}
	return e, nil
}

// TamperAck is the head-end's end-to-end acknowledgement of one tamper
// event: only on it does the meter forget the event (spec/Tamper.tla,
// ReceiveAck). It names the event by meter and number and binds it to the
// exact signed bytes, so an acknowledgement of an altered event never
// acknowledges the meter's own.
type TamperAck struct {
	Meter  SystemTitle `cbor:"1,keyasint"`
	Seq    uint64      `cbor:"2,keyasint"` // the event's number (Event.Counter)
	Digest Hash        `cbor:"3,keyasint"` // SHA-256 of the signed event acknowledged
	Time   int64       `cbor:"4,keyasint"` // Unix seconds, head-end clock, when stored
}

const contentTamperAck = "application/vnd.verimeter.tamper-ack+cbor"

// maxTamperAck caps a signed acknowledgement: a fixed payload of about 60
// bytes, a key id of 20 and a signature of 64 fit well below it.
const maxTamperAck = 512

// EventDigest is the digest a TamperAck carries for a signed event.
func EventDigest(sign1 []byte) Hash { return sha256.Sum256(sign1) }

// SignTamperAck signs an acknowledgement with the head-end's key (kid: its
// certificate's subject key id) as COSE_Sign1.
func SignTamperAck(a TamperAck, key *ecdsa.PrivateKey, kid []byte, rand io.Reader) ([]byte, error) {
	return signAck(a, contentTamperAck, key, kid, rand)
}

// signAck signs an acknowledgement payload under content type ct (tamper
// and data acknowledgements differ in it, so neither passes for the other).
func signAck(a any, ct string, key *ecdsa.PrivateKey, kid []byte, rand io.Reader) ([]byte, error) {
	p, err := marshal(a)
	if err != nil {
		return nil, err
	}
	s, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	m := cose.Sign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: ct},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid},
		},
		Payload: p,
	}
	if err := m.Sign(rand, nil, s); err != nil {
		return nil, err
	}
	return m.MarshalCBOR()
}

// ackEnvelope parses a signed acknowledgement strictly: capped, the
// acknowledgement content type, a payload that decodes strictly, and no
// second encoding of the same message (it must be exactly what go-cose
// writes back, so no trailing bytes and one byte string per meaning).
func ackEnvelope(data []byte) (*cose.Sign1Message, TamperAck, error) {
	var a TamperAck
	m, err := ackEnvelopeOf(data, contentTamperAck, &a)
	return m, a, err
}

// ackEnvelopeOf parses a signed acknowledgement of content type ct into a
// (a pointer to TamperAck or DataAck), as ackEnvelope says.
func ackEnvelopeOf(data []byte, ct string, a any) (*cose.Sign1Message, error) {
	if len(data) > maxTamperAck {
		return nil, fmt.Errorf("%w: acknowledgement of %d bytes", ErrTooLong, len(data))
	}
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(data); err != nil {
		return nil, fmt.Errorf("%w: acknowledgement: %w", ErrMalformed, err)
	}
	if got := m.Headers.Protected[cose.HeaderLabelContentType]; got != ct {
		return nil, fmt.Errorf("%w: acknowledgement content type", ErrMalformed)
	}
	if again, err := m.MarshalCBOR(); err != nil || !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%w: acknowledgement not in its one encoding", ErrMalformed)
	}
	if err := unmarshalStrict(m.Payload, a); err != nil {
		return nil, err
	}
	if again, err := marshal(a); err != nil || !bytes.Equal(again, m.Payload) {
		return nil, fmt.Errorf("%w: acknowledgement payload not in its one encoding", ErrMalformed)
	}
	return &m, nil
}

// PeekTamperAck reads an acknowledgement without checking its signature,
// for the gateway (which drops a queued event on it and relays it to the
// meter): nothing it returns may be trusted.
func PeekTamperAck(data []byte) (TamperAck, error) {
	_, a, err := ackEnvelope(data)
	return a, err
}

// AckKeys resolves a head-end key id to its key (the meter takes it from
// its trust list).
type AckKeys func(kid []byte) (*ecdsa.PublicKey, error)

// VerifyTamperAck checks a signed acknowledgement: structure, a head-end
// signature, and that it is for this meter.
func VerifyTamperAck(data []byte, meter SystemTitle, keys AckKeys) (TamperAck, error) {
	m, a, err := ackEnvelope(data)
	if err != nil {
		return a, err
	}
	if err := verifyAck(m, keys, "tamper"); err != nil {
		return a, err
	}
	if a.Meter != meter {
		return a, fmt.Errorf("%w: acknowledgement for meter %x", ErrWrongSigner, a.Meter)
	}
	return a, nil
}

// verifyAck checks an acknowledgement's signature under the head-end key
// its key id names.
func verifyAck(m *cose.Sign1Message, keys AckKeys, what string) error {
	kid, _ := m.Headers.Unprotected[cose.HeaderLabelKeyID].([]byte)
	pub, err := keys(kid)
	if err != nil {
		return err
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrongSigner, err)
	}
	if err := m.Verify(nil, v); err != nil {
		return fmt.Errorf("%w: %s acknowledgement", ErrBadSignature, what)
	}
	return nil
}

// DataAck is the head-end's end-to-end acknowledgement of one signed item
// of a meter (a reading or a load-profile block), sent once the item is
// durably stored and relayed by the gateway: only on it does the meter
// forget the item (spec/Collection.tla, EndToEndAcked). A gateway's own
// word (a compromised gateway acknowledges and drops) makes the meter
// forget nothing. It names the item by meter and signed-data counter and
// binds it to the exact signed bytes; its content type differs from a
// TamperAck's, so neither passes for the other.
type DataAck struct {
	Meter   SystemTitle `cbor:"1,keyasint"`
	Counter uint64      `cbor:"2,keyasint"` // the item's signed-data counter
	Digest  Hash        `cbor:"3,keyasint"` // SHA-256 of the signed item acknowledged
	Time    int64       `cbor:"4,keyasint"` // Unix seconds, head-end clock, when stored
}

const contentDataAck = "application/vnd.verimeter.data-ack+cbor"

// DataDigest is the digest a DataAck carries for a signed item (the exact
// bytes the meter handed out: a reading's COSE_Sign1 or a marshalled block).
func DataDigest(item []byte) Hash { return sha256.Sum256(item) }

// SignDataAck signs a data acknowledgement with the head-end's key (kid:
// its certificate's subject key id) as COSE_Sign1.
func SignDataAck(a DataAck, key *ecdsa.PrivateKey, kid []byte, rand io.Reader) ([]byte, error) {
	return signAck(a, contentDataAck, key, kid, rand)
}

// PeekDataAck reads a data acknowledgement without checking its
// signature, for the gateway (which routes it to its meter): nothing it
// returns may be trusted.
func PeekDataAck(data []byte) (DataAck, error) {
	var a DataAck
	_, err := ackEnvelopeOf(data, contentDataAck, &a)
	return a, err
}

// VerifyDataAck checks a data acknowledgement: structure, a head-end
// signature, and that it is for this meter.
func VerifyDataAck(data []byte, meter SystemTitle, keys AckKeys) (DataAck, error) {
	var a DataAck
	m, err := ackEnvelopeOf(data, contentDataAck, &a)
	if err != nil {
		return a, err
	}
	if err := verifyAck(m, keys, "data"); err != nil {
		return a, err
	}
	if a.Meter != meter {
		return a, fmt.Errorf("%w: acknowledgement for meter %x", ErrWrongSigner, a.Meter)
	}
	return a, nil
}

// MaxTamperList caps the signed events or acknowledgements of one PDU or
// WAN batch: a meter keeps at most statemachine.SetCap (32) unacknowledged
// events, and a gateway's batch of many meters is sent in several.
const MaxTamperList = 256

// maxTamperItem caps one item of a batch: a signed event (detail included)
// or acknowledgement.
const maxTamperItem = 1024

// TamperBatch is the body of PDUTamperEvents' answer and of PDUTamperAcks,
// and the WAN's tamper batch and its answer: signed events or signed
// acknowledgements, with the sender's Lamport time for trace validation
// (the step that consumes the batch observes it; 0 when the sender keeps
// no trace; it travels sealed on PLC and inside TLS on the WAN and has no
// effect on what is stored).
type TamperBatch struct {
	Clock uint64   `cbor:"1,keyasint,omitempty"`
	Items [][]byte `cbor:"2,keyasint"`
}

func (b *TamperBatch) wellFormed() error {
	if b.Items == nil {
		return fmt.Errorf("%w: tamper batch without its list", ErrMalformed)
	}
	if len(b.Items) > MaxTamperList {
		return fmt.Errorf("%w: %d tamper items", ErrTooLong, len(b.Items))
	}
	for _, it := range b.Items {
		if len(it) == 0 || len(it) > maxTamperItem {
			return fmt.Errorf("%w: tamper item of %d bytes", ErrMalformed, len(it))
		}
	}
	return nil
}

// Marshal encodes the batch (an empty list is an empty array).
func (b *TamperBatch) Marshal() ([]byte, error) {
	c := *b
	if c.Items == nil {
		c.Items = [][]byte{}
	}
	if err := c.wellFormed(); err != nil {
		return nil, err
	}
	return marshal(&c)
}

// UnmarshalTamperBatch parses a batch strictly: capped, at most
// MaxTamperList items, each non-empty and at most maxTamperItem bytes, in
// its one encoding.
func UnmarshalTamperBatch(p []byte) (TamperBatch, error) {
	var b TamperBatch
	if len(p) > MaxTamperList*(maxTamperItem+3)+16 {
		return b, fmt.Errorf("%w: tamper batch of %d bytes", ErrTooLong, len(p))
	}
	if err := unmarshalStrict(p, &b); err != nil {
		return b, err
	}
	if err := b.wellFormed(); err != nil {
		return b, err
	}
	if again, err := marshal(&b); err != nil || !bytes.Equal(again, p) {
		return b, fmt.Errorf("%w: tamper batch not in its one encoding", ErrMalformed)
	}
	return b, nil
}
