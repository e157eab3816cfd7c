package protocol

import "fmt"

// PeekData reads the meter and the signed-data counter of a signed reading
// (isBlock false: a COSE_Sign1 Reading) or a load-profile block (isBlock
// true: a SignedBlock's wire form) without checking its signature. It
// exists for the gateway's store-and-forward queue and the meter's journal,
// which name an item by meter and counter (the spec's reading r of
// spec/Collection.tla) but cannot verify it (the head-end does); nothing it
// returns may be trusted.
func PeekData(raw []byte, isBlock bool) (SystemTitle, uint64, error) {
	if isBlock {
		b, err := UnmarshalSignedBlock(raw)
		if err != nil {
			return SystemTitle{}, 0, err
		}
		p, err := parseSign1(b.Sign1, contentBlock)
		if err != nil {
			return SystemTitle{}, 0, err
		}
		var h BlockHeader
		if err := unmarshalStrict(p.content, &h); err != nil {
			return SystemTitle{}, 0, err
		}
		return h.Meter, h.Counter, nil
	}
	p, err := parseSign1(raw, contentReading)
	if err != nil {
		return SystemTitle{}, 0, err
	}
	var r Reading
	if err := unmarshalStrict(p.content, &r); err != nil {
		return SystemTitle{}, 0, err
	}
	if r.Meter != SystemTitle(p.kid) {
		return SystemTitle{}, 0, fmt.Errorf("%w: reading of %x under kid %x", ErrMalformed, r.Meter, p.kid)
	}
	return r.Meter, r.Counter, nil
}
