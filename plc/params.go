package plc

import (
	"fmt"
)

// Param is one HDLC link parameter as it travels in an SNRM or UA
// information field: its value and the number of bytes the value is encoded
// in (1, 2 or 4; 0 means the parameter is absent). The width is kept so that
// a parsed field re-encodes to the same bytes: peers differ in how wide they
// write the same value (a window of 1 is 07 04 00 00 00 01 in the Green Book
// examples, 07 01 01 elsewhere).
type Param struct {
	Value uint32
	Len   uint8
}

// InfoParam returns a maximum information field length in the fewest bytes.
func InfoParam(n int) Param {
	if n > 0xFF {
		return Param{Value: uint32(n), Len: 2}
	}
	return Param{Value: uint32(n), Len: 1}
}

// WindowParam returns a window size in four bytes, as the Green Book
// examples and most meters write it.
func WindowParam(n int) Param { return Param{Value: uint32(n), Len: 4} }

// Present reports whether the parameter was sent.
func (p Param) Present() bool { return p.Len != 0 }

// or returns the value, or def when the parameter is absent.
func (p Param) or(def int) int {
	if !p.Present() {
		return def
	}
	return int(p.Value)
}

// LinkParams is the parameter negotiation field of an SNRM or a UA frame
// (IEC 62056-46 8.4.5.3.2): the maximum information field lengths and window
// sizes, each seen from the station that sends the frame. In an SNRM the
// client proposes; in the UA the server answers with what it will use, its
// transmit values bounded by the client's receive values and vice versa.
type LinkParams struct {
	MaxInfoTX Param // 0x05: longest information field the sender will transmit
	MaxInfoRX Param // 0x06: longest information field the sender can receive
	WindowTX  Param // 0x07: frames the sender will have outstanding
	WindowRX  Param // 0x08: frames the sender can take before it acknowledges
}

// paramList is the parameters in the order 8.4.5.3.2 lists them, the only
// order the parser accepts.
func (p *LinkParams) paramList() [4]struct {
	id  byte
	val *Param
} {
	return [4]struct {
		id  byte
		val *Param
	}{{paramMaxInfoTX, &p.MaxInfoTX}, {paramMaxInfoRX, &p.MaxInfoRX}, {paramWindowTX, &p.WindowTX}, {paramWindowRX, &p.WindowRX}}
}

// checkParam validates one parameter's width and value: lengths 1, 2 or 4
// bytes, the value fits its width, information field lengths 1..MaxInfoLimit,
// windows 1..7.
func checkParam(id byte, p Param) error {
	switch p.Len {
	case 0:
		return nil
	case 1, 2, 4:
	default:
		return fmt.Errorf("%w: parameter %#02x is %d bytes long, want 1, 2 or 4", ErrParameters, id, p.Len)
	}
	if p.Len < 4 && p.Value>>(8*uint(p.Len)) != 0 {
		return fmt.Errorf("%w: parameter %#02x value %d does not fit %d bytes", ErrParameters, id, p.Value, p.Len)
	}
	switch id {
	case paramMaxInfoTX, paramMaxInfoRX:
		if p.Value < 1 || p.Value > MaxInfoLimit {
			return fmt.Errorf("%w: information field length %d outside 1..%d", ErrParameters, p.Value, MaxInfoLimit)
		}
	default:
		if p.Value < 1 || p.Value > maxWindow {
			return fmt.Errorf("%w: window size %d outside 1..%d", ErrParameters, p.Value, maxWindow)
		}
	}
	return nil
}

// Marshal encodes the field: format identifier 0x81, group identifier 0x80,
// group length, then each present parameter as identifier, length, value
// (big-endian). A field with no parameter is 81 80 00.
func (p LinkParams) Marshal() ([]byte, error) {
	out := []byte{paramFormatID, paramGroupID, 0}
	for _, e := range p.paramList() {
		if err := checkParam(e.id, *e.val); err != nil {
			return nil, err
		}
		if !e.val.Present() {
			continue
		}
		out = append(out, e.id, e.val.Len)
		for i := int(e.val.Len) - 1; i >= 0; i-- {
			out = append(out, byte(e.val.Value>>(8*uint(i))))
		}
	}
	out[2] = byte(len(out) - 3) // at most 4 × 6 bytes
	return out, nil
}

// ParseLinkParams parses an SNRM or UA information field strictly: the
// format and group identifiers, a group length equal to the bytes that
// follow, only the four parameters of 8.4.5.3.2, each at most once and in
// order, each 1, 2 or 4 bytes with a value in range, and nothing after the
// group. Every error matches ErrParameters.
func ParseLinkParams(b []byte) (LinkParams, error) {
	var p LinkParams
	if len(b) < 3 {
		return p, fmt.Errorf("%w: %d bytes, the header alone is 3", ErrParameters, len(b))
	}
	if b[0] != paramFormatID || b[1] != paramGroupID {
		return p, fmt.Errorf("%w: format %#02x group %#02x, want 0x81 0x80", ErrParameters, b[0], b[1])
	}
	if int(b[2]) != len(b)-3 {
		return p, fmt.Errorf("%w: group length %d, %d bytes follow", ErrParameters, b[2], len(b)-3)
	}
	rest := b[3:]
	list := p.paramList()
	next := 0 // index in list of the first parameter still allowed
	for len(rest) > 0 {
		if len(rest) < 2 {
			return LinkParams{}, fmt.Errorf("%w: parameter header truncated", ErrParameters)
		}
		id, n := rest[0], int(rest[1])
		i := next
		for i < len(list) && list[i].id != id {
			i++
		}
		if i == len(list) {
			return LinkParams{}, fmt.Errorf("%w: parameter %#02x unknown, repeated or out of order", ErrParameters, id)
		}
		if n != 1 && n != 2 && n != 4 {
			return LinkParams{}, fmt.Errorf("%w: parameter %#02x is %d bytes long, want 1, 2 or 4", ErrParameters, id, n)
		}
		if len(rest) < 2+n {
			return LinkParams{}, fmt.Errorf("%w: parameter %#02x value truncated", ErrParameters, id)
		}
		var v uint32
		for _, x := range rest[2 : 2+n] {
			v = v<<8 | uint32(x)
		}
		pr := Param{Value: v, Len: uint8(n)}
		if err := checkParam(id, pr); err != nil {
			return LinkParams{}, err
		}
		*list[i].val = pr
		next = i + 1
		rest = rest[2+n:]
	}
	return p, nil
}

// Negotiated is what one end of a link uses after SNRM/UA: the longest
// information field it sends and accepts, and the windows it sends and
// receives with (this link acknowledges every frame it takes, in order, so
// its receive window is a promise to the peer, never a buffer).
type Negotiated struct {
	MaxInfoTX, MaxInfoRX int
	WindowTX, WindowRX   int
}

// Answer is the secondary's side of the negotiation (8.4.5.3.2): given the
// client's proposal and the server's own limits (local), it returns the UA's
// parameters and what the server will use. Each value is the minimum of
// what the server can do and what the client offered for the other
// direction; a parameter the client left out counts as its default (128
// bytes, window 1).
func Answer(proposal LinkParams, local Negotiated) (LinkParams, Negotiated) {
	use := Negotiated{
		MaxInfoTX: min(local.MaxInfoTX, proposal.MaxInfoRX.or(ParamDefaultMaxInfo)),
		MaxInfoRX: min(local.MaxInfoRX, proposal.MaxInfoTX.or(ParamDefaultMaxInfo)),
		WindowTX:  min(local.WindowTX, proposal.WindowRX.or(ParamDefaultWindow)),
		WindowRX:  min(local.WindowRX, proposal.WindowTX.or(ParamDefaultWindow)),
	}
	ua := LinkParams{
		MaxInfoTX: InfoParam(use.MaxInfoTX), MaxInfoRX: InfoParam(use.MaxInfoRX),
		WindowTX: WindowParam(use.WindowTX), WindowRX: WindowParam(use.WindowRX),
	}
	return ua, use
}

// Accept is the primary's side: given what it proposed (local) and the
// server's UA, it returns what the client will use: for each direction the
// minimum of its proposal and the server's value for the other direction
// (the default where the UA leaves a parameter out).
func Accept(local Negotiated, ua LinkParams) Negotiated {
	return Negotiated{
		MaxInfoTX: min(local.MaxInfoTX, ua.MaxInfoRX.or(ParamDefaultMaxInfo)),
		MaxInfoRX: min(local.MaxInfoRX, ua.MaxInfoTX.or(ParamDefaultMaxInfo)),
		WindowTX:  min(local.WindowTX, ua.WindowRX.or(ParamDefaultWindow)),
		WindowRX:  min(local.WindowRX, ua.WindowTX.or(ParamDefaultWindow)),
	}
}

// Proposal returns the SNRM parameters that offer local.
func (n Negotiated) Proposal() LinkParams {
	return LinkParams{
		MaxInfoTX: InfoParam(n.MaxInfoTX), MaxInfoRX: InfoParam(n.MaxInfoRX),
		WindowTX: WindowParam(n.WindowTX), WindowRX: WindowParam(n.WindowRX),
	}
}
