package plc

import (
	"fmt"
)

// Role is the station an end of a link is (IEC 62056-46 8.4.1, ISO/IEC
// 13239 normal response mode). It decides which LLC header the end writes and
// which it expects, and which half of the SNRM/UA set-up it runs.
type Role uint8

// Roles. The zero value is invalid so that a link configuration must say
// which end it is.
const (
	// Primary is the client station: the gateway (a DLMS client). It sends
	// commands with the LLC header E6 E6 00 and starts the link with SNRM.
	Primary Role = 1 + iota
	// Secondary is the server station: the meter (a DLMS server). It answers
	// with the LLC header E6 E7 00 and accepts the SNRM with a UA.
	Secondary
)

func (r Role) valid() bool { return r == Primary || r == Secondary }

func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Secondary:
		return "secondary"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// peer is the role of the other end of the link.
func (r Role) peer() Role {
	if r == Primary {
		return Secondary
	}
	return Primary
}

// llcHeaderOf is the LLC header a station of role r sends (8.3.2): E6 E6 00
// from the client, E6 E7 00 from the server.
func llcHeaderOf(r Role) [llcLen]byte {
	src := llcLSAP
	if r == Secondary {
		src |= llcResponse
	}
	return [llcLen]byte{llcLSAP, src, llcQuality}
}

// appendLLC returns dst with the LLC header of a sender of role r and then
// apdu appended.
func appendLLC(dst []byte, r Role, apdu []byte) []byte {
	h := llcHeaderOf(r)
	dst = append(dst, h[:]...)
	return append(dst, apdu...)
}

// stripLLC checks that pdu opens with the LLC header a sender of role from
// writes and returns the APDU after it. A missing, truncated or wrong header
// (a command where a response was due, another LSAP, a quality byte other
// than 0) is ErrLLC.
func stripLLC(pdu []byte, from Role) ([]byte, error) {
	want := llcHeaderOf(from)
	if len(pdu) < llcLen {
		return nil, fmt.Errorf("%w: %d bytes, no room for the header", ErrLLC, len(pdu))
	}
	if pdu[0] != want[0] || pdu[1] != want[1] || pdu[2] != want[2] {
		return nil, fmt.Errorf("%w: % x from the %v, want % x", ErrLLC, pdu[:llcLen], from, want[:])
	}
	return pdu[llcLen:], nil
}

// UIFrame returns an unnumbered information frame carrying apdu from a
// station of role sender, LLC header included (8.4.3.3: UI frames carry
// APDUs outside the acknowledged transfer, e.g. broadcast or unsolicited
// data). The APDU must fit one information field; UI frames are not
// segmented.
func UIFrame(dest, src Address, sender Role, apdu []byte) (Frame, error) {
	if !sender.valid() {
		return Frame{}, fmt.Errorf("%w: role %v", ErrBadParameter, sender)
	}
	return Frame{Dest: dest, Src: src, Control: UControl(KindUI, false), Info: appendLLC(nil, sender, apdu)}, nil
}

// UIPayload returns the APDU of a UI frame sent by a station of role sender,
// after checking and stripping its LLC header. It aliases f.Info.
func UIPayload(f Frame, sender Role) ([]byte, error) {
	if k, _, _, _ := ParseControl(f.Control); k != KindUI {
		return nil, fmt.Errorf("%w: %v frame is not UI", ErrControl, k)
	}
	return stripLLC(f.Info, sender)
}
