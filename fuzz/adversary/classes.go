package adversary

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/verimeter/verimeter/protocol"
)

// Classes returns the attacks on the protocol layer, one per spec mutant of
// DESIGN.md's adversary (the attacker on the PLC medium and a compromised
// gateway). Each attempt first lets some honest traffic through, so the
// targets are in a realistic state, then attacks.
func Classes() []Class {
	return []Class{
		{"replay of a data APDU", protocol.ErrReplay, replayData},
		{"replay of an APDU older than the window", protocol.ErrReplay, replayOld},
		{"duplicated command", protocol.ErrOutOfOrder, duplicateCommand},
		{"reordered command", protocol.ErrOutOfOrder, reorderCommand},
		{"counter rollback (meter store reset)", protocol.ErrReplay, counterRollback},
		{"wrapped counter", protocol.ErrCounterExhausted, wrappedCounter},
		{"tampered ciphertext", protocol.ErrAuthentication, tamperCiphertext},
		{"data APDU replayed as a command", protocol.ErrAuthentication, dataAsCommand},
		{"forged reading signature", protocol.ErrBadSignature, forgedSignature},
		{"missing reading signature", protocol.ErrMalformed, missingSignature},
		{"tampered signed reading", protocol.ErrBadSignature, tamperedReading},
		{"manufacturer-only firmware manifest", protocol.ErrManifestAuthority, manufacturerOnly},
		{"firmware downgrade", protocol.ErrManifestDowngrade, downgrade},
		{"reading signed with a revoked certificate", protocol.ErrRevoked, revokedCert},
		{"reading signed with an expired certificate", protocol.ErrExpired, expiredCert},
		{"command signed by a compromised gateway", protocol.ErrRole, gatewayCommand},
		{"large clock step", protocol.ErrClockStep, largeClockStep},
	}
}

func honest(e *Env, rng *rand.Rand) error {
	for range 1 + rng.IntN(4) {
		if _, err := e.deliverData(rng); err != nil {
			return err
		}
	}
	return nil
}

func open(e *Env, apdu []byte) error {
	_, _, err := e.Receiver.Open(nil, apdu)
	return err
}

func replayData(e *Env, rng *rand.Rand) error {
	if err := honest(e, rng); err != nil {
		return err
	}
	// Any APDU already accepted, recent enough to be inside the window.
	lo := max(0, len(e.sent)-50)
	return open(e, e.sent[lo+rng.IntN(len(e.sent)-lo)])
}

func replayOld(e *Env, rng *rand.Rand) error {
	for len(e.sent) < 1100 { // push the first APDUs out of the 960-counter window
		if _, err := e.deliverData(rng); err != nil {
			return err
		}
	}
	return open(e, e.sent[rng.IntN(50)])
}

func duplicateCommand(e *Env, rng *rand.Rand) error {
	apdu, err := e.deliverCommand()
	if err != nil {
		return err
	}
	_, _, err = e.cmdReceiver.Open(nil, apdu)
	return err
}

func reorderCommand(e *Env, rng *rand.Rand) error {
	// The attacker holds back a command and delivers it after a later one.
	held, err := e.deliverCommandHeld()
	if err != nil {
		return err
	}
	if _, err := e.deliverCommand(); err != nil {
		return err
	}
	_, _, err = e.cmdReceiver.Open(nil, held)
	return err
}

// deliverCommandHeld seals a command the attacker intercepts.
func (e *Env) deliverCommandHeld() ([]byte, error) {
	e.counter++
	c, err := protocol.SignCommand(protocol.Command{Meter: e.MeterTitle, Counter: e.counter, Kind: protocol.CmdTariff, Issued: e.T0.Unix(), Tariff: 1}, e.headEnd, []byte("head-end"), e.rng)
	if err != nil {
		return nil, err
	}
	return e.cmdSender.Seal(nil, protocol.TagCommand, c)
}

func counterRollback(e *Env, rng *rand.Rand) error {
	if err := honest(e, rng); err != nil {
		return err
	}
	// An attacker with physical access wipes the meter's counter store: the
	// meter restarts its counter under the same key. The gateway's window
	// refuses every counter it has already seen.
	wiped, err := protocol.NewSender(e.MeterKeys, protocol.NewMemStore())
	if err != nil {
		return err
	}
	n := 1 + rng.IntN(len(e.sent))
	var apdu []byte
	for range n {
		if apdu, err = wiped.Seal(nil, protocol.TagDataNotification, []byte("reading after reset")); err != nil {
			return err
		}
	}
	return open(e, apdu)
}

func wrappedCounter(e *Env, rng *rand.Rand) error {
	// A sender whose durable reservation is at the top of the 32-bit space:
	// it must refuse to seal rather than wrap to counter 0 under the same key.
	store := protocol.NewMemStore()
	if err := store.Reserve(e.MeterKeys.KeyID, math.MaxUint32-uint64(rng.IntN(3))); err != nil {
		return err
	}
	s, err := protocol.NewSender(e.MeterKeys, store)
	if err != nil {
		return err
	}
	for {
		if _, err := s.Seal(nil, protocol.TagDataNotification, []byte("x")); err != nil {
			return err
		}
		if s.Counter() > math.MaxUint32+1 {
			return fmt.Errorf("counter went past 2^32: %d", s.Counter())
		}
	}
}

func tamperCiphertext(e *Env, rng *rand.Rand) error {
	apdu, err := e.sealOnly()
	if err != nil {
		return err
	}
	// Flip one bit after the header (ciphertext or GCM tag).
	i := 7 + rng.IntN(len(apdu)-7)
	apdu[i] ^= 1 << rng.IntN(8)
	return open(e, apdu)
}

// sealOnly seals a fresh reading the attacker intercepts before delivery.
func (e *Env) sealOnly() ([]byte, error) {
	e.counter++
	r, err := e.Signer.SignReading(protocol.Reading{Meter: e.MeterTitle, Counter: e.counter, Time: e.T0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: e.counter})
	if err != nil {
		return nil, err
	}
	return e.Sender.Seal(nil, protocol.TagDataNotification, r)
}

func dataAsCommand(e *Env, rng *rand.Rand) error {
	// A data APDU from the gateway's own sender relabelled as a command:
	// the tag is in the associated data, so it cannot authenticate.
	apdu, err := e.cmdSender.Seal(nil, protocol.TagDataNotification, []byte("not a command"))
	if err != nil {
		return err
	}
	apdu[0] = protocol.TagCommand
	_, _, err = e.cmdReceiver.Open(nil, apdu)
	return err
}

func forgedSignature(e *Env, rng *rand.Rand) error {
	forger, err := protocol.NewMeterSigner(e.MeterTitle, e.attackerKey, e.rng)
	if err != nil {
		return err
	}
	r, err := forger.SignReading(protocol.Reading{Meter: e.MeterTitle, Counter: rng.Uint64N(1 << 40), Time: e.T0.Unix() + 3600, OBIS: protocol.ActiveEnergyImport, Value: rng.Uint64N(1 << 30)})
	if err != nil {
		return err
	}
	_, err = e.Verifier.VerifyReading(r)
	return err
}

func signedReading(e *Env, rng *rand.Rand) ([]byte, error) {
	return e.Signer.SignReading(protocol.Reading{Meter: e.MeterTitle, Counter: rng.Uint64N(1 << 40), Time: e.T0.Unix() + 3600, OBIS: protocol.ActiveEnergyImport, Value: rng.Uint64N(1 << 30)})
}

func missingSignature(e *Env, rng *rand.Rand) error {
	r, err := signedReading(e, rng)
	if err != nil {
		return err
	}
	// Replace the 64-byte signature by an empty byte string.
	stripped := append(bytes.Clone(r[:len(r)-66]), 0x40)
	_, err = e.Verifier.VerifyReading(stripped)
	return err
}

func tamperedReading(e *Env, rng *rand.Rand) error {
	r, err := signedReading(e, rng)
	if err != nil {
		return err
	}
	// The last payload byte is the status field (0); setting it to 1 keeps
	// the CBOR valid, so only the signature can notice.
	tampered := bytes.Clone(r)
	tampered[len(r)-67] ^= 1 // status: 0 -> 1, still valid CBOR
	_, err = e.Verifier.VerifyReading(tampered)
	return err
}

func manifest(e *Env, version, security uint32, signers ...protocol.ManifestSigner) error {
	lr := protocol.NewComponent([]byte(fmt.Sprintf("legally relevant code v%d", version)))
	m := protocol.Manifest{Model: "VM-E3", Version: version, SecurityVersion: security, LR: lr, Issued: e.T0.Unix()}
	data, err := protocol.SignManifest(m, e.rng, signers...)
	if err != nil {
		return err
	}
	_, err = protocol.VerifyManifest(data, e.Policy)
	return err
}

func manufacturerOnly(e *Env, rng *rand.Rand) error {
	return manifest(e, 5+uint32(rng.IntN(5)), 3, e.manufacturer)
}

func downgrade(e *Env, rng *rand.Rand) error {
	// Newer version number, but a security version below the meter's floor.
	return manifest(e, 5+uint32(rng.IntN(5)), uint32(rng.IntN(2)), e.manufacturer, e.authority)
}

func revokedCert(e *Env, rng *rand.Rand) error {
	// Signed after the invalidity date: the key is presumed compromised.
	at := e.RevokedAt.Unix() + 1 + rng.Int64N(30*24*3600)
	r, err := e.Revoked.SignReading(protocol.Reading{Meter: e.Revoked.Meter, Counter: rng.Uint64N(1 << 40), Time: at, OBIS: protocol.ActiveEnergyImport, Value: 1})
	if err != nil {
		return err
	}
	_, err = e.Verifier.VerifyReading(r)
	return err
}

func expiredCert(e *Env, rng *rand.Rand) error {
	at := e.ExpiredAt.Unix() + 1 + rng.Int64N(365*24*3600)
	r, err := e.Expired.SignReading(protocol.Reading{Meter: e.Expired.Meter, Counter: rng.Uint64N(1 << 40), Time: at, OBIS: protocol.ActiveEnergyImport, Value: 1})
	if err != nil {
		return err
	}
	_, err = e.Verifier.VerifyReading(r)
	return err
}

func gatewayCommand(e *Env, rng *rand.Rand) error {
	kinds := []protocol.CommandKind{protocol.CmdDisconnect, protocol.CmdTariff, protocol.CmdClockSet, protocol.CmdKeyRotation}
	c := protocol.Command{Meter: e.MeterTitle, Counter: rng.Uint64N(1 << 40), Kind: kinds[rng.IntN(len(kinds))], Issued: e.T0.Unix(), Tariff: 1, ClockStep: 10}
	data, err := protocol.SignCommand(c, e.gatewayCmdKey, []byte("gateway"), e.rng)
	if err != nil {
		return err
	}
	_, err = protocol.VerifyCommand(data, e.MeterTitle, e.CommandKeys)
	return err
}

func largeClockStep(e *Env, rng *rand.Rand) error {
	// Even the head-end's own key cannot move the clock by more than
	// MaxClockStep at once. SignCommand refuses to make such a command, so
	// the attacker (holding a stolen head-end key) builds the COSE_Sign1
	// itself and the meter's verifier must refuse it.
	step := int64(protocol.MaxClockStep) + 1 + rng.Int64N(86400)
	if rng.IntN(2) == 0 {
		step = -step
	}
	c := protocol.Command{Meter: e.MeterTitle, Counter: rng.Uint64N(1 << 40), Kind: protocol.CmdClockSet, Issued: e.T0.Unix(), ClockStep: step}
	if _, err := protocol.SignCommand(c, e.headEnd, []byte("head-end"), e.rng); err == nil {
		return fmt.Errorf("SignCommand signed a clock step of %d s", step)
	}
	data, err := rawSign1(c, e.headEnd, []byte("head-end"), "application/vnd.verimeter.command+cbor", e.rng)
	if err != nil {
		return err
	}
	_, err = protocol.VerifyCommand(data, e.MeterTitle, e.CommandKeys)
	return err
}

// rawSign1 signs any CBOR payload as the protocol's COSE_Sign1 would,
// without the protocol's own checks: the attacker's signing tool.
func rawSign1(payload any, key *ecdsa.PrivateKey, kid []byte, content string, rand io.Reader) ([]byte, error) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	p, err := em.Marshal(payload)
	if err != nil {
		return nil, err
	}
	s, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return nil, err
	}
	m := cose.Sign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: content},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid},
		},
		Payload: p,
	}
	if err := m.Sign(rand, nil, s); err != nil {
		return nil, err
	}
	return m.MarshalCBOR()
}
