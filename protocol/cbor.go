package protocol

import (
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
)

// CBOR modes of the wire: deterministic encoding (RFC 8949 4.2.1 core
// deterministic), and a strict decoder that rejects duplicate map keys,
// unknown fields, indefinite lengths and oversized containers.
var (
	encMode cbor.EncMode
	decMode cbor.DecMode
	// decModeLax reads COSE structures whose unprotected header holds
	// arbitrary labels (only to rebuild Sig_structure).
	decModeLax cbor.DecMode
)

// Caps of decoded containers: a block has at most 96*31 intervals (a month
// of quarter hours), a manifest a handful of components.
const (
	maxCBORArray = 4096
	maxCBORMap   = 32
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	if decMode, err = (cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   8,
		MaxArrayElements:  maxCBORArray,
		MaxMapPairs:       maxCBORMap,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}).DecMode(); err != nil {
		panic(err)
	}
	if decModeLax, err = (cbor.DecOptions{MaxNestedLevels: 8, MaxArrayElements: maxCBORArray, MaxMapPairs: maxCBORMap}).DecMode(); err != nil {
		panic(err)
	}
}

// unmarshalStrict decodes one CBOR item into v and rejects trailing bytes,
// unknown fields, duplicate keys and indefinite lengths. Signatures are always
// checked over the received bytes, never over a re-encoding, so a
// non-canonical but valid encoding cannot change what was signed.
func unmarshalStrict(data []byte, v any) error {
	rest, err := decMode.UnmarshalFirst(data, v)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// A prefix of a valid encoding: say so, not "malformed".
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return ErrTrailing
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}
