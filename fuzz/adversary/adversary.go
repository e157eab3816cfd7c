package adversary

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/protocol"
)

// Class is one kind of attack: Attempt performs one attack against a fresh
// or running target and returns what the target answered. The attack is
// rejected when that answer matches Expect (errors.Is).
type Class struct {
	Name    string
	Expect  error
	Attempt func(env *Env, rng *rand.Rand) error
}

// Config sizes a campaign.
type Config struct {
	Seed     uint64
	Attempts int          // per class
	Log      *slog.Logger // every attempt is logged; nil discards
}

// Tally counts the attempts of one class.
type Tally struct {
	Class     string
	Expect    error
	Attempts  int
	Rejected  int   // with the expected error
	Accepted  int   // the target took the attack: a security failure
	WrongErr  int   // rejected, but for another reason than the expected one
	FirstMiss error // the first accepted or wrongly rejected attempt, for the report
}

// Report is the outcome of a campaign, one tally per class.
type Report struct {
	Tallies []Tally
}

// OK reports whether every attempt of every class was rejected with its
// expected error.
func (r Report) OK() bool {
	for _, t := range r.Tallies {
		if t.Rejected != t.Attempts {
			return false
		}
	}
	return len(r.Tallies) > 0
}

// Write prints the report as a Markdown table.
func (r Report) Write(w io.Writer) {
	fmt.Fprintln(w, "| attack class | expected rejection | attempts | rejected | accepted | other error |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for _, t := range r.Tallies {
		fmt.Fprintf(w, "| %s | %v | %d | %d | %d | %d |\n", t.Class, t.Expect, t.Attempts, t.Rejected, t.Accepted, t.WrongErr)
	}
	for _, t := range r.Tallies {
		if t.FirstMiss != nil {
			fmt.Fprintf(w, "\n%s: %v\n", t.Class, t.FirstMiss)
		}
	}
}

// errAccepted stands for "the target returned no error".
var errAccepted = errors.New("attack accepted")

// Run executes cfg.Attempts attempts of every class (the built-in classes
// first, then extra ones contributed by the roles) against one environment
// and returns the tallies. It fails only when the environment cannot be
// built; attacks that succeed are in the report, not in the error.
func Run(cfg Config, extra ...Class) (Report, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	env, err := NewEnv(rng)
	if err != nil {
		return Report{}, err
	}
	classes := append(Classes(), extra...)
	var rep Report
	for _, c := range classes {
		t := Tally{Class: c.Name, Expect: c.Expect}
		for i := range cfg.Attempts {
			err := c.Attempt(env, rng)
			t.Attempts++
			switch {
			case err == nil:
				t.Accepted++
				if t.FirstMiss == nil {
					t.FirstMiss = fmt.Errorf("attempt %d: %w", i, errAccepted)
				}
				log.Error("attack accepted", "class", c.Name, "attempt", i)
			case errors.Is(err, c.Expect):
				t.Rejected++
				log.Info("attack rejected", "class", c.Name, "attempt", i, "error", err.Error())
			default:
				t.WrongErr++
				if t.FirstMiss == nil {
					t.FirstMiss = fmt.Errorf("attempt %d: rejected with %q, want %v", i, err, c.Expect)
				}
				log.Warn("attack rejected for an unexpected reason", "class", c.Name, "attempt", i, "error", err.Error(), "want", c.Expect.Error())
			}
		}
		rep.Tallies = append(rep.Tallies, t)
	}
	return rep, nil
}

// Env holds the targets the attacks run against: a meter and a gateway with
// a keyed channel, a meter that signs readings, a head-end's verifier backed
// by the PKI (with one revoked and one expired meter), a meter's firmware
// policy and its command keys.
type Env struct {
	T0  time.Time
	rng io.Reader

	MeterTitle, GatewayTitle protocol.SystemTitle
	MeterKeys, GatewayKeys   protocol.SessionKeys
	Sender                   *protocol.Sender   // the meter's side
	Receiver                 *protocol.Receiver // the gateway's side
	sent                     [][]byte           // data APDUs the gateway accepted
	cmdSender                *protocol.Sender   // the gateway's side of commands
	cmdReceiver              *protocol.Receiver // the meter's side
	cmdSent                  [][]byte

	Signer        *protocol.MeterSigner
	Verifier      *protocol.Verifier
	Revoked       *protocol.MeterSigner // signs after its invalidity date
	RevokedAt     time.Time
	Expired       *protocol.MeterSigner
	ExpiredAt     time.Time
	attackerKey   *ecdsa.PrivateKey
	manufacturer  protocol.ManifestSigner
	authority     protocol.ManifestSigner
	Policy        protocol.ManifestPolicy
	headEnd       *ecdsa.PrivateKey
	gatewayCmdKey *ecdsa.PrivateKey
	CommandKeys   protocol.CommandKeys
	counter       uint64
}

// rngReader adapts a math/rand source to io.Reader so a campaign is
// reproducible from its seed. It is for the simulation only: the keys it
// makes protect nothing real.
type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// NewEnv builds the environment from rng.
func NewEnv(rng *rand.Rand) (*Env, error) {
	rr := rngReader{rng}
	e := &Env{
		T0:           time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		rng:          rr,
		MeterTitle:   protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 1},
		GatewayTitle: protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 9},
	}
	// The PKI: the deployment's hierarchy (internal/sim); every key of the
	// environment is drawn from the campaign's seed.
	pki, err := sim.NewPKI(e.T0, rr)
	if err != nil {
		return nil, err
	}
	key := pki.Key
	// The channel: a signed ephemeral key agreement, as on PLC.
	mk, gk := key(), key()
	gw, init, err := protocol.StartKeyAgreement(protocol.Suite1, e.GatewayTitle, e.MeterTitle, gk, nil, rr)
	if err != nil {
		return nil, err
	}
	m, resp, err := protocol.StartKeyAgreement(protocol.Suite1, e.MeterTitle, e.GatewayTitle, mk, init.Ephemeral, rr)
	if err != nil {
		return nil, err
	}
	if e.MeterKeys, err = m.Finish(init, &gk.PublicKey); err != nil {
		return nil, err
	}
	if e.GatewayKeys, err = gw.Finish(resp, &mk.PublicKey); err != nil {
		return nil, err
	}
	if e.Sender, err = protocol.NewSender(e.MeterKeys, protocol.NewMemStore()); err != nil {
		return nil, err
	}
	if e.Receiver, err = protocol.NewReceiver(e.GatewayKeys); err != nil {
		return nil, err
	}
	if e.cmdSender, err = protocol.NewSender(e.GatewayKeys, protocol.NewMemStore()); err != nil {
		return nil, err
	}
	if e.cmdReceiver, err = protocol.NewReceiver(e.MeterKeys); err != nil {
		return nil, err
	}

	// Three meters' signing certificates, one revoked, one expiring.
	var good, revoked, expired *x509.Certificate
	if e.Signer, good, err = pki.MeterSigner(e.MeterTitle, e.T0, 5*365*24*time.Hour); err != nil {
		return nil, err
	}
	if e.Revoked, revoked, err = pki.MeterSigner(protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 2}, e.T0, 5*365*24*time.Hour); err != nil {
		return nil, err
	}
	if e.Expired, expired, err = pki.MeterSigner(protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 3}, e.T0, 30*24*time.Hour); err != nil {
		return nil, err
	}
	e.RevokedAt = e.T0.Add(90 * 24 * time.Hour)
	e.ExpiredAt = e.T0.Add(30 * 24 * time.Hour)
	crl, err := pki.Subs["manufacturer"].NewCRL([]protocol.Revocation{{Serial: revoked.SerialNumber, RevokedAt: e.RevokedAt.Add(24 * time.Hour), InvalidAt: e.RevokedAt, ReasonCode: 1}}, 1, e.RevokedAt.Add(24*time.Hour), e.RevokedAt.Add(60*24*time.Hour))
	if err != nil {
		return nil, err
	}
	v, err := pki.Validator(crl)
	if err != nil {
		return nil, err
	}
	dir, err := protocol.NewMeterDirectory(v, []*x509.Certificate{good, revoked, expired})
	if err != nil {
		return nil, err
	}
	e.Verifier = protocol.NewVerifier(dir)
	e.attackerKey = key()

	// Firmware: the meter's policy names its manufacturer and authority.
	e.manufacturer = protocol.ManifestSigner{KeyID: []byte("manufacturer-1"), Key: key()}
	e.authority = protocol.ManifestSigner{KeyID: []byte("authority-1"), Key: key()}
	e.Policy = protocol.ManifestPolicy{
		Model: "VM-E3", InstalledVersion: 4, SecurityFloor: 2,
		Manufacturers: map[string]*ecdsa.PublicKey{"manufacturer-1": &e.manufacturer.Key.PublicKey},
		Authorities:   map[string]*ecdsa.PublicKey{"authority-1": &e.authority.Key.PublicKey},
	}

	// Commands: the head-end may send every kind, a gateway none.
	e.headEnd, e.gatewayCmdKey = key(), key()
	e.CommandKeys = func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		switch string(kid) {
		case "head-end":
			return &e.headEnd.PublicKey, func(protocol.CommandKind) bool { return true }, nil
		case "gateway":
			return &e.gatewayCmdKey.PublicKey, func(protocol.CommandKind) bool { return false }, nil
		}
		return nil, nil, fmt.Errorf("%w: unknown issuer %q", protocol.ErrWrongSigner, kid)
	}
	return e, nil
}

// deliverData seals a fresh reading on the meter's side and delivers it to
// the gateway, as the honest traffic between attacks.
func (e *Env) deliverData(rng *rand.Rand) ([]byte, error) {
	e.counter++
	r, err := e.Signer.SignReading(protocol.Reading{Meter: e.MeterTitle, Counter: e.counter, Time: e.T0.Unix() + int64(e.counter)*900, OBIS: protocol.ActiveEnergyImport, Value: e.counter * 250})
	if err != nil {
		return nil, err
	}
	apdu, err := e.Sender.Seal(nil, protocol.TagDataNotification, r)
	if err != nil {
		return nil, err
	}
	if _, _, err := e.Receiver.Open(nil, apdu); err != nil {
		return nil, fmt.Errorf("honest traffic refused: %w", err)
	}
	e.sent = append(e.sent, apdu)
	return apdu, nil
}

func (e *Env) deliverCommand() ([]byte, error) {
	e.counter++
	c, err := protocol.SignCommand(protocol.Command{Meter: e.MeterTitle, Counter: e.counter, Kind: protocol.CmdTariff, Issued: e.T0.Unix(), Tariff: 2}, e.headEnd, []byte("head-end"), e.rng)
	if err != nil {
		return nil, err
	}
	apdu, err := e.cmdSender.Seal(nil, protocol.TagCommand, c)
	if err != nil {
		return nil, err
	}
	if _, _, err := e.cmdReceiver.Open(nil, apdu); err != nil {
		return nil, fmt.Errorf("honest command refused: %w", err)
	}
	e.cmdSent = append(e.cmdSent, apdu)
	return apdu, nil
}

// Names lists the classes of a report in order, for logs and tests.
func (r Report) Names() []string {
	var n []string
	for _, t := range r.Tallies {
		n = append(n, t.Class)
	}
	sort.Strings(n)
	return n
}
