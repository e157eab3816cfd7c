package plc

// crcTable is the table of the reflected CRC-16/X.25 (CRC-16/IBM-SDLC):
// polynomial x^16 + x^12 + x^5 + 1 (0x1021, reflected 0x8408), initial value
// 0xFFFF, final XOR 0xFFFF, as IEC 62056-46 8.4.1.4 prescribes for HCS and FCS
// (the FCS of ISO/IEC 13239, RFC 1662 appendix C).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16X25 returns the CRC-16/X.25 of b. Its check value over "123456789" is
// 0x906E. On the wire the result is sent least significant byte first.
func CRC16X25(b []byte) uint16 {
	return ^crcUpdate(0xFFFF, b)
}

func crcUpdate(c uint16, b []byte) uint16 {
	for _, x := range b {
		c = c>>8 ^ crcTable[byte(c)^x]
	}
	return c
}

// crcValid reports whether b ends with a correct little-endian FCS over the
// bytes before it.
func crcValid(b []byte) bool {
	return crcUpdate(0xFFFF, b) == crcGood
}
