package protocol

import (
	"encoding/binary"
	"hash"
)

// ConcatKDF is the single-step key derivation of NIST SP 800-56A rev. 3,
// 5.8.2.1 (the "concatenation KDF"), as DLMS/COSEM uses it (Green Book
// 9.2.3.4.6.5): K(i) = H(counter_i || Z || OtherInfo) with a 32-bit big-endian
// counter starting at 1, concatenated and truncated to keyLen bytes.
// OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo, where the party infos
// are the system titles of initiator (U) and responder (V).
func ConcatKDF(h func() hash.Hash, z, otherInfo []byte, keyLen int) []byte {
	out := make([]byte, 0, keyLen+64)
	var ctr [4]byte
	d := h()
	for i := uint32(1); len(out) < keyLen; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		d.Reset()
		d.Write(ctr[:])
		d.Write(z)
		d.Write(otherInfo)
		out = d.Sum(out)
	}
	return out[:keyLen]
}
