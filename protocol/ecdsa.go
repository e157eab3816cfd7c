package protocol

import (
	"crypto/ecdsa"
	"io"
	"math/big"
)

// signRaw signs the hash of msg and returns r || s, each padded to the
// curve's size (the COSE and DLMS signature format).
func signRaw(k *ecdsa.PrivateKey, s Suite, msg []byte, rand io.Reader) ([]byte, error) {
	h := s.cryptoHash().New()
	h.Write(msg)
	r, ss, err := ecdsa.Sign(rand, k, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	n := sigHalf(s)
	out := make([]byte, 2*n)
	r.FillBytes(out[:n])
	ss.FillBytes(out[n:])
	return out, nil
}

// verifyRaw checks an r || s signature over the hash of msg.
func verifyRaw(k *ecdsa.PublicKey, s Suite, msg, sig []byte) bool {
	n := sigHalf(s)
	if len(sig) != 2*n {
		return false
	}
	h := s.cryptoHash().New()
	h.Write(msg)
	r := new(big.Int).SetBytes(sig[:n])
	ss := new(big.Int).SetBytes(sig[n:])
	return ecdsa.Verify(k, h.Sum(nil), r, ss)
}
