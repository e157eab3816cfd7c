package plc

import (
	"fmt"
)

// Address is an HDLC address (IEC 62056-46 8.4.2.2): Len bytes of which each
// carries 7 bits of Value, most significant first, the low bit of the last
// byte set. Len is kept so that a decoded frame re-encodes to the same bytes.
type Address struct {
	Value uint32
	Len   uint8 // 1, 2 or 4
}

// Addr1 returns a one-byte address (client addresses, simple servers).
func Addr1(v uint8) Address { return Address{Value: uint32(v), Len: 1} }

// ServerAddr returns the two-byte server address of a physical device: upper
// (logical device, 7 bits) and lower (physical address, 7 bits). 8.4.2.2.
func ServerAddr(upper, lower uint8) Address {
	return Address{Value: uint32(upper&0x7F)<<7 | uint32(lower&0x7F), Len: 2}
}

func (a Address) valid() bool {
	switch a.Len {
	case 1, 2, 4:
		return a.Value < 1<<(7*uint(a.Len))
	}
	return false
}

func (a Address) String() string { return fmt.Sprintf("%d/%d", a.Value, a.Len) }

func appendAddress(b []byte, a Address) []byte {
	for i := int(a.Len) - 1; i >= 0; i-- {
		x := byte(a.Value>>(7*uint(i))) << 1
		if i == 0 {
			x |= 1
		}
		b = append(b, x)
	}
	return b
}

// parseAddress reads an extensible address from b and returns it with the
// number of bytes consumed.
func parseAddress(b []byte) (Address, int, error) {
	var v uint32
	for i := 0; i < len(b) && i < maxAddressBytes; i++ {
		v = v<<7 | uint32(b[i]>>1)
		if b[i]&1 == 1 {
			n := i + 1
			if n == 3 {
				return Address{}, 0, fmt.Errorf("%w: 3-byte address", ErrAddress)
			}
			return Address{Value: v, Len: uint8(n)}, n, nil
		}
	}
	if len(b) < maxAddressBytes {
		return Address{}, 0, ErrTruncated
	}
	return Address{}, 0, fmt.Errorf("%w: no end bit within 4 bytes", ErrAddress)
}

// Frame is one HDLC frame of type 3. Info is nil for frames without an
// information field; such frames carry no HCS (8.4.1.3).
type Frame struct {
	Segmented bool // S bit: more segments of the same APDU follow
	Dest      Address
	Src       Address
	Control   byte
	Info      []byte
}

// EncodedLen is the number of bytes Append writes for f, flags included.
func (f *Frame) EncodedLen() int {
	n := 2 + int(f.Dest.Len) + int(f.Src.Len) + 1 + 2 + 2 // flags, format, addrs, ctl, FCS
	if len(f.Info) > 0 {
		n += 2 + len(f.Info)
	}
	return n
}

// Append encodes f after dst, with both flags, and returns the extended slice.
// maxInfo caps the information field (DefaultMaxInfo unless negotiated).
func (f *Frame) Append(dst []byte, maxInfo int) ([]byte, error) {
	if !f.Dest.valid() || !f.Src.valid() {
		return dst, fmt.Errorf("%w: %v -> %v", ErrAddress, f.Src, f.Dest)
	}
	if maxInfo <= 0 || maxInfo > MaxInfoLimit {
		return dst, fmt.Errorf("%w: maxInfo %d", ErrBadParameter, maxInfo)
	}
	if len(f.Info) > maxInfo {
		return dst, fmt.Errorf("%w: %d > %d", ErrInfoTooLong, len(f.Info), maxInfo)
	}
	length := f.EncodedLen() - 2
	start := len(dst)
	dst = append(dst, Flag)
	format := byte(formatType3<<4) | byte(length>>8)&0x07
	if f.Segmented {
		format |= segmentBit
	}
	dst = append(dst, format, byte(length))
	dst = appendAddress(dst, f.Dest)
	dst = appendAddress(dst, f.Src)
	dst = append(dst, f.Control)
	if len(f.Info) > 0 {
		hcs := CRC16X25(dst[start+1:])
		dst = append(dst, byte(hcs), byte(hcs>>8))
		dst = append(dst, f.Info...)
	}
	fcs := CRC16X25(dst[start+1:])
	dst = append(dst, byte(fcs), byte(fcs>>8), Flag)
	return dst, nil
}

// Marshal returns the encoding of f with the default information field limit.
func (f *Frame) Marshal() ([]byte, error) {
	return f.Append(make([]byte, 0, f.EncodedLen()), DefaultMaxInfo)
}

// DecodeFrame parses exactly one frame, flags included, from b. It rejects a
// frame whose length field, HCS or FCS does not match, an information field
// longer than maxInfo, and any byte after the closing flag. Info aliases b.
func DecodeFrame(b []byte, maxInfo int) (Frame, error) {
	if len(b) < 1 {
		return Frame{}, ErrTruncated
	}
	if b[0] != Flag {
		return Frame{}, ErrFlag
	}
	if len(b) < 3 {
		return Frame{}, ErrTruncated
	}
	length := int(b[1]&0x07)<<8 | int(b[2])
	if len(b) < length+2 {
		return Frame{}, ErrTruncated
	}
	f, err := decodeBody(b[1:length+1], b[1]&0xF0, maxInfo)
	if err != nil {
		return Frame{}, err
	}
	if b[length+1] != Flag {
		return Frame{}, ErrFlag
	}
	if len(b) > length+2 {
		return Frame{}, ErrTrailing
	}
	return f, nil
}

// decodeBody parses the bytes between the flags (format field first).
func decodeBody(body []byte, formatHigh byte, maxInfo int) (Frame, error) {
	var f Frame
	if formatHigh != formatType3<<4 {
		return f, ErrFormat
	}
	if len(body) < 2 {
		return f, ErrLength
	}
	f.Segmented = body[0]&segmentBit != 0
	rest := body[2:]
	var n int
	var err error
	if f.Dest, n, err = parseAddress(rest); err != nil {
		if err == ErrTruncated {
			return f, ErrLength
		}
		return f, err
	}
	rest = rest[n:]
	if f.Src, n, err = parseAddress(rest); err != nil {
		if err == ErrTruncated {
			return f, ErrLength
		}
		return f, err
	}
	rest = rest[n:]
	headerLen := len(body) - len(rest) + 1 // through the control byte
	switch {
	case len(rest) < 1+2:
		return f, ErrLength
	case len(rest) == 1+2: // control + FCS, no information field
		if !crcValid(body) {
			return f, ErrFCS
		}
		f.Control = rest[0]
		return f, nil
	case len(rest) < 1+2+1+2:
		// An HCS with an empty information field is not a valid frame.
		return f, ErrLength
	}
	if !crcValid(body[:headerLen+2]) {
		return f, ErrHCS
	}
	if !crcValid(body) {
		return f, ErrFCS
	}
	f.Control = rest[0]
	f.Info = rest[3 : len(rest)-2]
	if len(f.Info) > maxInfo {
		return f, fmt.Errorf("%w: %d > %d", ErrInfoTooLong, len(f.Info), maxInfo)
	}
	return f, nil
}
