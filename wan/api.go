package wan

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/verimeter/verimeter/protocol"
)

// Kind tells what a forwarded item is.
type Kind uint8

// Item kinds.
const (
	KindReading Kind = 1
	KindBlock   Kind = 2
	KindEvent   Kind = 3
)

// Item is one piece of signed data a gateway forwards.
type Item struct {
	Kind Kind
	Raw  []byte
}

// IngestResult counts what a batch did: new items stored, duplicates of
// stored ones (idempotent: a gateway resending after a restart), and items
// rejected with the reason of each.
type IngestResult struct {
	Stored, Duplicates int
	Intervals          int // interval values stored from new blocks
	Rejected           []error
	// Clock is the head-end's Lamport time after the batch's steps, for
	// trace validation: the gateway's steps on the answer observe it (0
	// when the head-end keeps no trace; over HTTP, IngestReply.Clock).
	Clock uint64
	// Acks are the head-end's signed end-to-end acknowledgements
	// (protocol.DataAck) of the items it stored, which the gateway relays
	// to their meters.
	Acks [][]byte
}

// MaxIngestBody caps a gateway's batch.
const MaxIngestBody = 16 << 20

// WireItem is an item of an ingest batch on the wire: [kind, raw].
type WireItem struct {
	_    struct{} `cbor:",toarray"`
	Kind uint8
	Raw  []byte
}

// IngestReply is the JSON answer to a batch, sent after the durable commit.
type IngestReply struct {
	Stored     int      `json:"stored"`
	Duplicates int      `json:"duplicates"`
	Intervals  int      `json:"intervals"`
	Rejected   []string `json:"rejected,omitempty"`
	// Clock is IngestResult.Clock, the head-end's Lamport time after the
	// batch's steps (absent when it keeps no trace).
	Clock uint64 `json:"clock,omitempty"`
	// Acks is IngestResult.Acks (base64 in JSON).
	Acks [][]byte `json:"acks,omitempty"`
}

// ProofReply is the JSON answer to a participant: each interval proof as
// base64 CBOR (protocol.IntervalProof), verifiable offline, and beside it
// (same position) its block's transparency log evidence as base64
// (translog.Evidence; "" while no signed tree head includes the block yet),
// which keeps the interval evidence after the meter's key is revoked.
type ProofReply struct {
	Meter    string   `json:"meter"`
	Proofs   []string `json:"proofs"`
	Evidence []string `json:"evidence,omitempty"`
}

// TreeHeadReply is the JSON answer of GET /v1/log/tree-head: the head-end's
// newest signed tree head, base64 (translog.SignedTreeHead).
type TreeHeadReply struct {
	TreeHead string `json:"tree_head"`
}

// ConsistencyReply is the JSON answer of GET /v1/log/consistency?from=N:
// base64 of a translog.Consistency from the tree head of N leaves to the
// newest, which verimeter verify -consistency checks offline.
type ConsistencyReply struct {
	Consistency string `json:"consistency"`
}

var decWire, _ = cbor.DecOptions{MaxArrayElements: 100000, MaxNestedLevels: 4, IndefLength: cbor.IndefLengthForbidden}.DecMode()

// DecodeBatch parses an ingest batch strictly (a CBOR array of [kind, raw]).
func DecodeBatch(body []byte) ([]Item, error) {
	if len(body) > MaxIngestBody {
		return nil, fmt.Errorf("%w: batch of %d bytes", protocol.ErrTooLong, len(body))
	}
	var wire []WireItem
	rest, err := decWire.UnmarshalFirst(body, &wire)
	if err != nil {
		return nil, fmt.Errorf("%w: batch: %w", protocol.ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: batch", protocol.ErrTrailing)
	}
	items := make([]Item, len(wire))
	for i, x := range wire {
		items[i] = Item{Kind: Kind(x.Kind), Raw: x.Raw}
	}
	return items, nil
}

// EncodeBatch is the gateway's side of DecodeBatch.
func EncodeBatch(items []Item) ([]byte, error) {
	wire := make([]WireItem, len(items))
	for i, it := range items {
		wire[i] = WireItem{Kind: uint8(it.Kind), Raw: it.Raw}
	}
	return cbor.Marshal(wire)
}
