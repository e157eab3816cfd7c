// Package protocol holds everything a meter says and everything it accepts:
// the wire formats and the crypto core of verimeter.
//
//   - Secure channel (channel.go, kdf.go, replay.go, counters.go): APDU
//     protection in the style of DLMS/COSEM security suite 1 (suite 2
//     selectable): security control byte, system title, 4-byte invocation
//     counter, AES-GCM with a 12-byte tag and nonce = system title ||
//     counter; one key per direction from an ephemeral ECDH key agreement
//     signed with ECDSA and the NIST SP 800-56A concatenation KDF; an RFC 6479
//     sliding window for data and strictly increasing counters for commands,
//     both updated only after authentication; counters reserved in persisted
//     blocks before use so that a crash never reuses a nonce, and never
//     wrapping.
//   - End-to-end signed data (signed.go, merkle.go): readings, load-profile
//     blocks and events signed by the meter's metrological key as COSE_Sign1
//     (RFC 9052) over CBOR; a block signs the Merkle root of its intervals so
//     one interval verifies alone with its proof.
//   - Firmware manifests (manifest.go): after the SUIT information model
//     (RFC 9124), signed as COSE_Sign by the manufacturer and, for the legally
//     relevant part, the metrology authority.
//   - SM-PKI (pki.go, profile.go, pkilint.go; the profile in PKI.md): an
//     X.509 hierarchy with roles as certificate policies under the project's
//     UUID arc, the standard extended key usages TLS and code signing need,
//     validity nested in the issuer's, CRL distribution points and CRLs with
//     invalidity dates, status judged at signing time, a lint of any chain
//     against the profile, and operator-signed trust lists for meters.
//
// Parsers are strict (exact lengths, caps, no trailing bytes) and every error
// matches one of the Err values of this package with errors.Is. Randomness
// and time are injected.
package protocol
