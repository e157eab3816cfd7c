package meter

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

type kit struct {
	cfg          Config
	gwKey, heKey *ecdsa.PrivateKey
	man, auth    protocol.ManifestSigner
	gwTitle      protocol.SystemTitle
	sender       *protocol.Sender
	receiver     *protocol.Receiver
	verifier     *protocol.Verifier
	req          uint64
	keyID        [8]byte           // of the last key agreement
	op           *ecdsa.PrivateKey // the operator's trust-list key
	// staff are two staff members' own keys, approvers in the trust list:
	// k.command has both approve each disconnect.
	staff [2]*ecdsa.PrivateKey
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func spki(t testing.TB, k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKit(t testing.TB, dir string) *kit {
	k := &kit{gwKey: key(t), heKey: key(t), gwTitle: protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, 1}, staff: [2]*ecdsa.PrivateKey{key(t), key(t)}}
	op := key(t)
	k.op = op
	title := protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, 0, 7}
	tl, err := protocol.SignTrustList(protocol.TrustList{Version: 1, Issued: 1, Meter: title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spki(t, k.gwKey)}, {Role: protocol.RoleHeadEnd, SPKI: spki(t, k.heKey)},
		{Role: protocol.RoleApprover, SPKI: spki(t, k.staff[0])}, {Role: protocol.RoleApprover, SPKI: spki(t, k.staff[1])}}}, op, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.man = protocol.ManifestSigner{KeyID: []byte("man"), Key: key(t)}
	k.auth = protocol.ManifestSigner{KeyID: []byte("ptb"), Key: key(t)}
	sk := key(t)
	k.cfg = Config{Title: title, Model: "VM-E3", SigningKey: sk, ChannelKey: key(t), Operator: &op.PublicKey, TrustList: tl,
		Manufacturers: map[string]*ecdsa.PublicKey{"man": &k.man.Key.PublicKey}, Authorities: map[string]*ecdsa.PublicKey{"ptb": &k.auth.Key.PublicKey},
		Factory: Slot{Version: 4, SecurityVersion: 2, LR: []byte("lr v4"), Other: []byte("comm v4")}, Dir: dir, Source: testSource{}, Rand: rand.Reader}
	k.verifier = protocol.NewVerifier(staticKey{title: &sk.PublicKey})
	return k
}

type staticKey map[protocol.SystemTitle]*ecdsa.PublicKey

func (s staticKey) MeterKey(t protocol.SystemTitle, _ int64) (*ecdsa.PublicKey, error) {
	if k, ok := s[t]; ok {
		return k, nil
	}
	return nil, protocol.ErrCertificate
}

// agree runs the gateway's side of the key agreement against m.
func (k *kit) agree(t testing.TB, m *Meter) { k.keyAgreement(t, m, nil) }

// keyAgreement runs the gateway's side of a key agreement against m, the
// request passed through frame (nil: as it is), and returns the number
// the meter gave the agreement in its answer (0 without a trace).
func (k *kit) keyAgreement(t testing.TB, m *Meter, frame func([]byte) []byte) uint64 {
	t.Helper()
	ka, init, err := protocol.StartKeyAgreement(protocol.Suite1, k.gwTitle, m.title(), k.gwKey, nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := init.Marshal()
	req := append([]byte{protocol.TagKeyAgreement}, wire...)
	if frame != nil {
		req = frame(req)
	}
	out, err := m.HandleAPDU(req, time.Unix(0, 0))
	if err != nil || len(out) != 1 {
		t.Fatalf("key agreement: %v", err)
	}
	resp, epoch, err := protocol.UnmarshalKeyAgreementTraced(out[0][1:])
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ka.Finish(resp, &k.cfg.ChannelKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k.keyID = keys.KeyID
	k.sender, _ = protocol.NewSender(keys, protocol.NewMemStore())
	k.receiver, _ = protocol.NewReceiver(keys)
	return epoch
}

// tracedMeter is a meter of k that keeps a trace in traceDir.
func (k *kit) tracedMeter(t testing.TB, traceDir string) *Meter {
	t.Helper()
	td, err := statemachine.NewTraceDir(traceDir)
	if err != nil {
		t.Fatal(err)
	}
	k.cfg.Trace = td
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (k *kit) ask(t *testing.T, m *Meter, tag byte, p protocol.PDU) protocol.PDU {
	t.Helper()
	k.req++
	p.Request = k.req
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	apdu, err := k.sender.Seal(nil, tag, b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := m.HandleAPDU(apdu, time.Unix(86400*20000+3600, 0))
	if len(out) != 1 {
		t.Fatalf("%d answers", len(out))
	}
	_, plain, err := k.receiver.Open(nil, out[0])
	if err != nil {
		t.Fatal(err)
	}
	r, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// command has the head-end sign c for m, a disconnect on the approvals of
// both staff members, and hands it to m.
func (k *kit) command(t *testing.T, m *Meter, c protocol.Command) protocol.PDU {
	var by []*ecdsa.PrivateKey
	if c.Kind == protocol.CmdDisconnect {
		by = k.staff[:]
	}
	return k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUCommand, Body: k.signCommand(t, m, c, by...)})
}

// signCommand is c for m as the head-end signs it, carrying the approvals
// of the keys by (in that order).
func (k *kit) signCommand(t testing.TB, m *Meter, c protocol.Command, by ...*ecdsa.PrivateKey) []byte {
	t.Helper()
	c.Meter = m.title()
	for _, s := range by {
		a, err := protocol.SignApproval(c, s, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c.Approvals = append(c.Approvals, a)
	}
	b, err := protocol.SignCommand(c, k.heKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func measureDay(t *testing.T, m *Meter, day int64) {
	for i := range 96 {
		if _, err := m.Measure(day, i); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMeterBlockCommandsAndRestart(t *testing.T) {
	dir := t.TempDir()
	k := newKit(t, dir)
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	measureDay(t, m, 20000)
	k.agree(t, m)
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000})
	if r.Kind != protocol.PDUData {
		t.Fatalf("block request: %+v", r)
	}
	blk, err := protocol.UnmarshalSignedBlock(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	h, err := k.verifier.VerifyBlock(blk)
	if err != nil || h.Count != 96 || h.Register != m.importRegister() {
		t.Fatalf("block: %v %+v", err, h)
	}
	// Commands run once, in order.
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 2}); r.Status != protocol.StatusOK || m.tariff != 2 {
		t.Fatalf("tariff: %+v", r)
	}
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 3}); r.Status != protocol.StatusRejected || m.tariff != 2 {
		t.Fatalf("replayed command counter ran: %+v", r)
	}
	reg, first := m.importRegister(), r.Body
	_ = first
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart: register, tariff and command counter survive; signed-data
	// counters continue above the reservation.
	m2, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if m2.importRegister() != reg || m2.tariff != 2 {
		t.Fatalf("after restart: register %d tariff %d", m2.importRegister(), m2.tariff)
	}
	k.agree(t, m2)
	if r := k.command(t, m2, protocol.Command{Counter: 4, Kind: protocol.CmdTariff, Tariff: 1}); r.Status != protocol.StatusRejected {
		t.Fatalf("old command after restart ran: %+v", r)
	}
	r = k.ask(t, m2, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	rd, err := k.verifier.VerifyReading(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Counter <= h.Counter {
		t.Fatalf("signed-data counter went back after restart: %d <= %d", rd.Counter, h.Counter)
	}
}

func (k *kit) install(t *testing.T, m *Meter, campaign uint32, man protocol.Manifest, image []byte, signers ...protocol.ManifestSigner) protocol.PDU {
	mf, err := protocol.SignManifest(man, rand.Reader, signers...)
	if err != nil {
		t.Fatal(err)
	}
	k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUManifest, Campaign: campaign, Body: mf})
	total := (len(image) + protocol.MaxFirmwareBlock - 1) / protocol.MaxFirmwareBlock
	for i := range total {
		fb := protocol.FirmwareBlock{Campaign: campaign, Index: uint16(i), Total: uint16(total), Data: image[i*protocol.MaxFirmwareBlock : min(len(image), (i+1)*protocol.MaxFirmwareBlock)]}
		b, err := fb.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if r := k.ask(t, m, protocol.TagFirmwareBlock, protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b}); r.Status != protocol.StatusOK {
			t.Fatalf("block %d: %+v", i, r)
		}
	}
	return k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUActivate, Campaign: campaign})
}

func TestFirmwareInstallRejectRollback(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	measureDay(t, m, 20000)
	k.agree(t, m)
	oldID := m.core.SoftwareID()
	lr, other := make([]byte, 300), make([]byte, 200)
	rand.Read(lr)
	rand.Read(other)
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	image := append(append([]byte(nil), lr...), other...)

	// Manufacturer only: rejected, logged, nothing changes.
	r := k.install(t, m, 1, man, image, k.man)
	if r.Status != protocol.StatusRejected || m.core.Version() != 4 || m.core.SoftwareID() != oldID {
		t.Fatalf("manufacturer-only manifest: %+v", r)
	}
	// Self-test failure: rolled back, floor not raised.
	m.core.selfTest = func([]byte) error { return errors.New("checksum of calibration tables") }
	r = k.install(t, m, 2, man, image, k.man, k.auth)
	if r.Status != protocol.StatusRejected || m.core.Version() != 4 || m.core.securityFloor() != 2 {
		t.Fatalf("failed self-test: %+v v%d floor %d", r, m.core.Version(), m.core.securityFloor())
	}
	// Good: installed, new ID, floor raised after the self-test; energy kept.
	m.core.selfTest = nil
	reg := m.importRegister()
	r = k.install(t, m, 3, man, image, k.man, k.auth)
	if r.Status != protocol.StatusOK || m.core.Version() != 5 || m.core.securityFloor() != 3 || m.core.SoftwareID() == oldID || m.importRegister() != reg {
		t.Fatalf("install: %+v v%d floor %d", r, m.core.Version(), m.core.securityFloor())
	}
	lb := m.core.Logbook()
	if len(lb) != 3 || lb[0].Event != "rejected" || lb[1].Event != "rolled back" || lb[2].Event != "installed" || lb[2].OldID != oldID {
		t.Fatalf("logbook: %+v", lb)
	}
	// Downgrade below the new floor: rejected.
	down := protocol.Manifest{Model: "VM-E3", Version: 6, SecurityVersion: 2, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 2}
	if r := k.install(t, m, 4, down, image, k.man, k.auth); r.Status != protocol.StatusRejected {
		t.Fatalf("downgrade accepted: %+v", r)
	}
	t.Logf("%+v", m.Status())
}

func TestLogbookFullRefusesDownloads(t *testing.T) {
	k := newKit(t, "")
	k.cfg.LogbookCapacity = 2
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent([]byte("x")), Issued: 1}
	for c := range uint32(2) {
		k.install(t, m, c+1, man, []byte("x"), k.man)
	}
	r := k.install(t, m, 3, man, []byte("x"), k.man, k.auth)
	if r.Status != protocol.StatusRejected || m.core.Version() != 4 {
		t.Fatalf("download with a full logbook: %+v", r)
	}
}

// FuzzHandleAPDU: the meter's whole input from the medium. Nothing but the
// gateway's own sealed requests or signed key agreements may get an answer;
// nothing may panic.
func FuzzHandleAPDU(f *testing.F) {
	k := newKit(f, "")
	m, err := New(k.cfg)
	if err != nil {
		f.Fatal(err)
	}
	k.agree(f, m)
	accepted := map[string]bool{}
	for _, p := range []protocol.PDU{{Kind: protocol.PDUGetReading, Request: 1}, {Kind: protocol.PDUGetBlock, Request: 2, Day: 5}} {
		b, _ := p.Marshal()
		a, err := k.sender.Seal(nil, protocol.TagCommand, b)
		if err != nil {
			f.Fatal(err)
		}
		accepted[string(a)] = true
		f.Add(a)
	}
	_, init, err := protocol.StartKeyAgreement(protocol.Suite1, k.gwTitle, m.title(), key(f), nil, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	wire, _ := init.Marshal()
	f.Add(append([]byte{protocol.TagKeyAgreement}, wire...)) // signed by a key not in the trust list
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := m.HandleAPDU(b, time.Unix(0, 0))
		if len(out) > 0 && !accepted[string(b)] {
			t.Fatalf("the meter answered an APDU nobody authorised: % x", b)
		}
	})
}

func TestSignedBlockSurvivesRestartUnchanged(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	measureDay(t, m, 20000)
	k.agree(t, m)
	first := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000}).Body
	m.Close()
	m2, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	k.agree(t, m2)
	again := k.ask(t, m2, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000}).Body
	if !bytes.Equal(first, again) {
		t.Fatal("after a restart the meter signed a second version of the same day")
	}
}

// TestMeterCommandGuardVerifiesTheSignature: the Commands machine's guard
// SignedBy(m, "headend") is the real signature check (commandCrypto): a
// command signed with another key under the head-end's key id is refused
// for its signature, a valid one runs and is logged (one line, Execute),
// and its repeat is refused by the counter guard.
func TestMeterCommandGuardVerifiesTheSignature(t *testing.T) {
	k := newKit(t, "")
	traces, err := statemachine.NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k.cfg.Trace = traces
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	k.agree(t, m)
	forgedKey := key(t)
	c := protocol.Command{Meter: m.title(), Counter: 1, Kind: protocol.CmdTariff, Tariff: 4}
	forged, err := protocol.SignCommand(c, forgedKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUCommand, Body: forged})
	if r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, "signature") || m.tariff == 4 {
		t.Fatalf("forged command: %+v, tariff %d", r, m.tariff)
	}
	if r := k.command(t, m, c); r.Status != protocol.StatusOK || m.tariff != 4 {
		t.Fatalf("valid command: %+v", r)
	}
	if r := k.command(t, m, c); r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, "not above") {
		t.Fatalf("repeated command: %+v", r)
	}
	if err := traces.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(traces.Dir(), "commands", fmt.Sprintf("%x", m.title()), "meter.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := statemachine.ReadTrace(bytes.NewReader(src))
	if err != nil || len(lines) != 1 || lines[0].Action != "Execute" || string(lines[0].State) != `{"last":1,"tlVer":1}` {
		t.Fatalf("trace: %v %v", lines, err)
	}
}

// TestFirmwareTransferFloodBoundedAndGenuineCampaignInstalls: a compromised
// gateway opens a thousand bogus transfers (unsigned manifests, blocks of
// the largest image allowed, and blocks announcing a larger one). The meter
// never holds more than maxTransfers transfers, refuses a transfer above
// maxImageBytes with ErrTransferTooLarge, and a genuine dual-signed
// campaign sent afterwards still installs.
func TestFirmwareTransferFloodBoundedAndGenuineCampaignInstalls(t *testing.T) {
	k := newKit(t, "")
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	k.agree(t, m)
	junk := make([]byte, protocol.MaxFirmwareBlock)
	for i := range 1000 {
		campaign := uint32(1000 + i)
		// What the meter answers to the bogus traffic is not the point;
		// what it keeps and what it still accepts afterwards is.
		k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUManifest, Campaign: campaign, Body: []byte(fmt.Sprintf("bogus manifest %d", i))})
		total := uint16(maxImageBytes / protocol.MaxFirmwareBlock)
		for j := range 3 {
			fb := protocol.FirmwareBlock{Campaign: campaign, Index: uint16((i*7 + j*997) % int(total)), Total: total, Data: junk}
			b, _ := fb.Marshal()
			k.ask(t, m, protocol.TagFirmwareBlock, protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b})
		}
		if m.openTransfers() > maxTransfers {
			t.Fatalf("after %d bogus transfers the meter holds %d, at most %d", i+1, m.openTransfers(), maxTransfers)
		}
	}
	// A transfer announcing more than maxImageBytes is refused at its first block.
	k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUManifest, Campaign: 7, Body: []byte("huge")})
	fb := protocol.FirmwareBlock{Campaign: 7, Index: 0, Total: 65535, Data: junk}
	b, _ := fb.Marshal()
	r := k.ask(t, m, protocol.TagFirmwareBlock, protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b})
	if r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, ErrTransferTooLarge.Error()) {
		t.Fatalf("block of a %d-byte transfer: %+v, want %v", 65535*protocol.MaxFirmwareBlock, r, ErrTransferTooLarge)
	}
	if _, err := m.firmwareBlock(protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b}); !errors.Is(err, ErrTransferTooLarge) {
		t.Fatalf("firmwareBlock: %v, want ErrTransferTooLarge", err)
	}
	// The genuine campaign after the flood.
	lr, other := []byte("lr v5 genuine"), []byte("comm v5 genuine")
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	if r := k.install(t, m, 42, man, append(append([]byte(nil), lr...), other...), k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 5 {
		t.Fatalf("genuine campaign after the flood: %+v, version %d", r, m.core.Version())
	}
	if lb := m.core.Logbook(); len(lb) != 1 || lb[0].Event != "installed" {
		t.Fatalf("logbook after the flood and the campaign: %+v", lb)
	}
}

// reopen closes m and builds the meter again from its store, as a restart
// after power loss does.
func reopen(t *testing.T, k *kit, m *Meter) *Meter {
	t.Helper()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m2
}

// TestDisconnectSurvivesRestart: a meter disconnected by a signed command
// stays disconnected across a restart (no energy flows, the command does
// not run again); a reconnect only arms the breaker, which stays open
// across a restart until the customer closes it locally; the customer
// cannot close a breaker no reconnect armed.
func TestDisconnectSurvivesRestart(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdDisconnect}); r.Status != protocol.StatusOK || m.breakerState() != breakerOpen {
		t.Fatalf("disconnect: %+v, breaker %s", r, m.breakerState())
	}
	m = reopen(t, k, m)
	if m.breakerState() != breakerOpen {
		t.Fatalf("after a restart the disconnected meter's breaker is %s", m.breakerState())
	}
	if wh, err := m.Measure(20000, 0); err != nil || wh != 0 {
		t.Fatalf("a disconnected meter measured %d Wh after a restart: %v", wh, err)
	}
	if err := m.closeBreaker(); !errors.Is(err, ErrBreakerNotArmed) || m.breakerState() != breakerOpen {
		t.Fatalf("local close of a breaker no reconnect armed: %v, breaker %s", err, m.breakerState())
	}
	k.agree(t, m)
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdReconnect}); r.Status != protocol.StatusRejected {
		t.Fatalf("a command with the disconnect's counter ran after the restart: %+v", r)
	}
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdReconnect}); r.Status != protocol.StatusOK || m.breakerState() != breakerArmed {
		t.Fatalf("reconnect: %+v, breaker %s", r, m.breakerState())
	}
	if wh, _ := m.Measure(20000, 1); wh != 0 {
		t.Fatalf("an armed breaker let %d Wh through", wh)
	}
	m = reopen(t, k, m)
	if m.breakerState() != breakerArmed || m.cmds.State.Last != 6 {
		t.Fatalf("after a restart: breaker %s, last command %d; want armed, 6", m.breakerState(), m.cmds.State.Last)
	}
	if err := m.closeBreaker(); err != nil || m.breakerState() != breakerClosed {
		t.Fatalf("local close: %v, breaker %s", err, m.breakerState())
	}
	m = reopen(t, k, m)
	defer m.Close()
	if m.breakerState() != breakerClosed || m.cmds.State.Last != 6 {
		t.Fatalf("after the local close and a restart: breaker %s, last command %d", m.breakerState(), m.cmds.State.Last)
	}
	if wh, _ := m.Measure(20000, 2); wh == 0 {
		t.Fatal("a closed breaker measured nothing")
	}
	if st := m.Status(); st.Breaker != "closed" {
		t.Fatalf("status: %+v", st)
	}
}

// TestClockOffsetSurvivesRestart: the clock offset a clock-set command
// made is journaled with its counter: after a restart the signed readings
// still carry the adjusted time and the command does not run again.
func TestClockOffsetSurvivesRestart(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	for i, step := range []int64{120, -45} {
		if r := k.command(t, m, protocol.Command{Counter: uint64(5 + i), Kind: protocol.CmdClockSet, ClockStep: step}); r.Status != protocol.StatusOK {
			t.Fatalf("clock set %+d: %+v", step, r)
		}
	}
	m = reopen(t, k, m)
	defer m.Close()
	if m.clockOffset() != 75 || m.cmds.State.Last != 6 {
		t.Fatalf("after a restart: clock offset %+d s, last command %d; want +75, 6", m.clockOffset(), m.cmds.State.Last)
	}
	k.agree(t, m)
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdClockSet, ClockStep: -45}); r.Status != protocol.StatusRejected || m.clockOffset() != 75 {
		t.Fatalf("the clock set ran again after the restart: %+v, offset %+d", r, m.clockOffset())
	}
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	rd, err := k.verifier.VerifyReading(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(86400*20000+3600) + 75; rd.Time != want {
		t.Fatalf("signed reading time %d, want %d (the adjusted clock)", rd.Time, want)
	}
}

// trustList signs version v of the kit's meter's trust list naming
// gateway key gw and the kit's head-end key.
func (k *kit) trustList(t *testing.T, v uint64, gw *ecdsa.PrivateKey) []byte {
	t.Helper()
	tl, err := protocol.SignTrustList(protocol.TrustList{Version: v, Issued: int64(v), Meter: k.cfg.Title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spki(t, gw)}, {Role: protocol.RoleHeadEnd, SPKI: spki(t, k.heKey)}}}, k.op, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// TestTrustListSurvivesRestart: the operator change (a trust list naming
// the new operator's gateway, installed by a signed command) survives a
// power loss: after the restart the old gateway's key agreement is
// refused and the new one's accepted; the old list, replayed in a new
// command, is refused and does not consume the command's counter; a list
// that does not verify makes its command refused.
func TestTrustListSurvivesRestart(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	oldGW, newGW := k.gwKey, key(t)
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTrustList, Payload: k.trustList(t, 2, newGW)}); r.Status != protocol.StatusOK {
		t.Fatalf("operator change: %+v", r)
	}
	m = reopen(t, k, m)
	defer func() { m.Close() }()
	if m.trust.Version != 2 || m.cmds.State.Last != 5 || m.cmds.State.TlVer != 2 {
		t.Fatalf("after a restart: trust list v%d (machine's tlVer %d), last command %d; want v2, 5", m.trust.Version, m.cmds.State.TlVer, m.cmds.State.Last)
	}
	ka, init, err := protocol.StartKeyAgreement(protocol.Suite1, k.gwTitle, m.title(), oldGW, nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_ = ka
	wire, _ := init.Marshal()
	if _, err := m.HandleAPDU(append([]byte{protocol.TagKeyAgreement}, wire...), time.Unix(0, 0)); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("the old operator's gateway after the restart: %v, want ErrUntrusted", err)
	}
	k.gwKey = newGW
	k.agree(t, m)
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdTrustList, Payload: k.trustList(t, 1, oldGW)}); r.Status != protocol.StatusRejected || m.trust.Version != 2 || !strings.Contains(r.Detail, "l.ver > tlVer") {
		t.Fatalf("the old trust list replayed: %+v, now v%d (want the machine's guard l.ver > tlVer)", r, m.trust.Version)
	}
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdTrustList, Payload: k.trustList(t, 2, newGW)}); r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, "l.ver > tlVer") {
		t.Fatalf("the installed trust list again after the restart: %+v (want the machine's guard l.ver > tlVer)", r)
	}
	forged := k.trustList(t, 3, oldGW)
	forged[len(forged)-1] ^= 1
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdTrustList, Payload: forged}); r.Status != protocol.StatusRejected || m.trust.Version != 2 || !strings.Contains(r.Detail, "ListSignedBy") {
		t.Fatalf("a trust list that does not verify: %+v, now v%d (want the machine's guard ListSignedBy)", r, m.trust.Version)
	}
	if r := k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdTariff, Tariff: 2}); r.Status != protocol.StatusOK {
		t.Fatalf("counter 6 after the refused lists: %+v (a refused list must not consume it)", r)
	}
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	m = reopen(t, k, m)
	if m.trust.Version != 2 || m.cmds.State.Last != 6 || m.cmds.State.TlVer != 2 {
		t.Fatalf("after compaction and a restart: trust list v%d (machine's tlVer %d), last command %d; want v2, 6", m.trust.Version, m.cmds.State.TlVer, m.cmds.State.Last)
	}
}
