package plc

// FrameKind classifies a control field (ISO/IEC 13239 as profiled by
// IEC 62056-46 8.4.3.3).
type FrameKind uint8

// Frame kinds the link understands.
const (
	KindInvalid FrameKind = iota
	KindI                 // information: RRR P SSS 0
	KindRR                // receive ready: RRR P 0001
	KindRNR               // receive not ready: RRR P 0101
	KindSNRM
	KindDISC
	KindUA
	KindDM
	KindFRMR
	KindUI
)

var kindNames = [...]string{"invalid", "I", "RR", "RNR", "SNRM", "DISC", "UA", "DM", "FRMR", "UI"}

func (k FrameKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// IControl builds the control field of an I frame with send sequence ns,
// receive sequence nr (both modulo 8) and the poll/final bit.
func IControl(ns, nr uint8, pf bool) byte {
	c := (nr&7)<<5 | (ns&7)<<1
	if pf {
		c |= pfBit
	}
	return c
}

// RRControl builds a receive-ready acknowledging everything before nr.
func RRControl(nr uint8, pf bool) byte {
	c := (nr&7)<<5 | ctlRR
	if pf {
		c |= pfBit
	}
	return c
}

// UControl returns the control byte of an unnumbered frame kind.
func UControl(k FrameKind, pf bool) byte {
	var c byte
	switch k {
	case KindSNRM:
		c = ctlSNRM
	case KindDISC:
		c = ctlDISC
	case KindUA:
		c = ctlUA
	case KindDM:
		c = ctlDM
	case KindFRMR:
		c = ctlFRMR
	case KindUI:
		c = ctlUI
	default:
		return 0xFF
	}
	if pf {
		c |= pfBit
	}
	return c
}

// ParseControl decodes a control field into its kind and sequence numbers.
func ParseControl(c byte) (k FrameKind, ns, nr uint8, pf bool) {
	pf = c&pfBit != 0
	switch {
	case c&1 == 0:
		return KindI, c >> 1 & 7, c >> 5, pf
	case c&0x0F == ctlRR:
		return KindRR, 0, c >> 5, pf
	case c&0x0F == ctlRNR:
		return KindRNR, 0, c >> 5, pf
	}
	switch c &^ pfBit {
	case ctlSNRM:
		return KindSNRM, 0, 0, pf
	case ctlDISC:
		return KindDISC, 0, 0, pf
	case ctlUA:
		return KindUA, 0, 0, pf
	case ctlDM:
		return KindDM, 0, 0, pf
	case ctlFRMR:
		return KindFRMR, 0, 0, pf
	case ctlUI:
		return KindUI, 0, 0, pf
	}
	return KindInvalid, 0, 0, pf
}
