package meter

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// Errors of the communication part.
var (
	ErrNoSession    = errors.New("meter: no channel session; a key agreement is needed first")
	ErrUntrusted    = errors.New("meter: key not in the meter's trust list")
	ErrCommandOrder = errors.New("meter: command counter not above the last executed one")
	// ErrApprovals refuses a disconnect that does not carry approvals,
	// over that command, of two distinct approver keys of the trust list
	// (four eyes, spec/Commands.tla ExecuteDisconnect): the head-end's
	// signature alone, or one approver counted twice, runs nothing.
	ErrApprovals  = errors.New("meter: disconnect without two distinct approvers' signatures")
	ErrNoTransfer = errors.New("meter: no firmware transfer for this campaign")
	// ErrTransferTooLarge refuses a firmware block whose transfer would
	// hold more than the meter buffers (1 MiB): a gateway cannot make the
	// meter buffer more than that per campaign.
	ErrTransferTooLarge = errors.New("meter: firmware transfer larger than the meter buffers")
	// ErrBreakerNotArmed refuses the customer's local close of the breaker
	// unless a reconnect command armed it (UC4: a reconnect only arms the
	// relay; the customer closes it locally).
	ErrBreakerNotArmed = errors.New("meter: breaker not armed for a local close")
)

// breaker is the state of the meter's supply relay (UC4). A disconnect
// opens it; a reconnect only arms it; the customer closes an armed breaker
// locally (Meter.closeBreaker). Energy flows only while it is closed. The
// state is journaled before a command's answer leaves the meter, so a
// restart never undoes a disconnect.
type breaker uint8

// The breaker states; the zero value is closed (as delivered).
const (
	breakerClosed breaker = iota // supply on
	breakerOpen                  // disconnected by command
	breakerArmed                 // reconnect received: still open until the customer closes it
)

// String names the state for the display.
func (b breaker) String() string {
	switch b {
	case breakerClosed:
		return "closed"
	case breakerOpen:
		return "open"
	case breakerArmed:
		return "armed"
	}
	return fmt.Sprintf("breaker(%d)", uint8(b))
}

// Bounds of the firmware transfers a gateway can open (UC5). A compromised
// gateway can send any number of manifests and blocks; the meter holds at
// most maxTransfers transfers of at most maxImageBytes each. A manifest
// beyond maxTransfers drops the transfer least recently used, so transfers
// that are never activated (a flood of bogus ones) cannot lock out a later
// genuine campaign, which is then transferred and activated in one go.
const (
	maxTransfers  = 4
	maxImageBytes = 1 << 20
)

// Config is what a meter is manufactured and commissioned with.
type Config struct {
	Title      protocol.SystemTitle
	Model      string
	SigningKey *ecdsa.PrivateKey // metrological key: signs readings end to end
	ChannelKey *ecdsa.PrivateKey // signs the key agreement on PLC
	Operator   *ecdsa.PublicKey  // verifies trust lists
	TrustList  []byte            // the signed trust list installed at commissioning (UC1)
	// Manufacturers and Authorities are the manifest keys the legally
	// relevant core trusts, by key id.
	Manufacturers, Authorities map[string]*ecdsa.PublicKey
	Factory                    Slot
	Dir                        string // persistent state; "" keeps it in memory
	// SelfTest is the device's check of a freshly activated legally
	// relevant image (a failure rolls the install back); nil accepts every
	// image that verified. A process or the simulation supplies the
	// device's test, or one that fails on purpose.
	SelfTest func(lr []byte) error
	// Source is the metrology front end the meter reads each quarter
	// hour's consumption from (required).
	Source          Source
	Rand            io.Reader
	LogbookCapacity int // 0: 64
	// fs is the filesystem the meter's journal and counter file are
	// written through; nil is the operating system's. Crash-point and
	// full-disk tests inject statemachine/journal/crashfs.
	fs journal.FS
	// Trace, when set, records the steps of the meter's Commands machine in
	// commands/<meter>/meter.ndjson, of its Channel machine in
	// channel/<meter>/meter.ndjson, of its Collection machine in
	// collection/<meter>/meter.ndjson, of its Firmware machine in
	// firmware/<meter>/meter.ndjson and of its Tamper machine in
	// tamper/<meter>/meter.ndjson, for trace validation against
	// spec/Commands.tla, spec/Channel.tla, spec/Collection.tla,
	// spec/Firmware.tla and spec/Tamper.tla.
	Trace *statemachine.TraceDir
}

// commandCrypto implements the abstract cryptography of spec/Commands.tla
// for the meter: SignedBy(m, r) holds when the command being handled
// (data) carries a valid signature, for this meter, under a key the trust
// list gives role r, and its counter is m's. It keeps the verified command
// for the effect and the reason a check failed for the caller.
type commandCrypto struct {
	meter *Meter
	data  []byte
	cmd   protocol.Command
	err   error
	// tl is the trust list a CmdTrustList command carries, verified before
	// the step (signed by the operator's trust-list key, for this meter):
	// the outcome is the event's l.by, and whether it is newer than the
	// installed one is the machine's guard.
	tl protocol.TrustList
}

// Approves verifies the approval that event parameter s stands for: the
// approval, among the command's, by the trust list's approver key number
// s.Who (approverIndex), is a signature over the command (whose signature
// and counter SignedBy verified) and the command is of kind k. s.Id must be
// the command's counter.
func (c *commandCrypto) Approves(s commandsSig, msg commandsNet, k string) bool {
	if c.err != nil || s.Id != msg.Id || s.Kind != k || k != "disconnect" || c.cmd.Kind != protocol.CmdDisconnect {
		return false
	}
	keys := c.meter.trustedKey(protocol.RoleApprover)
	if s.Who < 1 || s.Who > int64(len(keys)) {
		c.err = fmt.Errorf("%w: %w: approver not in the trust list", ErrApprovals, protocol.ErrApproval)
		return false
	}
	pub := keys[s.Who-1]
	kid := protocol.SubjectKeyID(pub)
	for _, a := range c.cmd.Approvals {
		if bytes.Equal(a.KeyID, kid) {
			if err := protocol.VerifyApproval(c.cmd, a, pub); err != nil {
				c.err = fmt.Errorf("%w: %w", ErrApprovals, err)
				return false
			}
			return true
		}
	}
	c.err = fmt.Errorf("%w: no approval by approver %x", ErrApprovals, kid)
	return false
}

// approverIndex is the number the spec's staff member has whose key signed
// approval a: the position (from 1) of the first approver key of the trust
// list with a's key id, or 0 when none has it (the approval then approves
// nothing). Equal keys get equal numbers, so one approver is never counted
// twice.
func (m *Meter) approverIndex(a protocol.Approval) int64 {
	for i, pub := range m.trustedKey(protocol.RoleApprover) {
		if bytes.Equal(protocol.SubjectKeyID(pub), a.KeyID) {
			return int64(i + 1)
		}
	}
	return 0
}

// ListSignedBy is the outcome of the trust list's signature check, made
// before the step and carried by the event (l.by is "trustlist" when the
// list verified under the operator's trust-list key): the step itself
// verifies nothing.
func (c *commandCrypto) ListSignedBy(l commandsList, r string) bool { return l.By == r }

// SignedBy verifies the command's COSE signature (protocol.VerifyCommand).
func (c *commandCrypto) SignedBy(msg commandsNet, r string) bool {
	var role protocol.Role
	if r == "headend" { // the spec's role names; only the head-end signs commands
		role = protocol.RoleHeadEnd
	}
	if role == "" || c.data == nil {
		c.err = fmt.Errorf("%w: no key of role %q signs commands", ErrUntrusted, r)
		return false
	}
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		for _, pub := range c.meter.trustedKey(role) {
			if bytes.Equal(protocol.SubjectKeyID(pub), kid) {
				return pub, func(protocol.CommandKind) bool { return true }, nil
			}
		}
		return nil, nil, fmt.Errorf("%w: command issuer %x", ErrUntrusted, kid)
	}
	cmd, err := protocol.VerifyCommand(c.data, c.meter.cfg.Title, keys)
	if err == nil && cmd.Counter != uint64(msg.Id) {
		err = fmt.Errorf("%w: command counter %d, claimed %d", protocol.ErrMalformed, cmd.Counter, msg.Id)
	}
	c.cmd, c.err = cmd, err
	return err == nil
}

// commandsMachine is the meter's generated machine of spec/Commands.tla:
// it decides whether a command whose signature verified runs (its counter
// above the last one run) and asks for the counter to be persisted first.
type commandsMachine = statemachine.Instance[commandsState, commandsEvent, commandsOutput]

// Meter is one meter. It is driven by its owner (a `verimeter meter run`
// process on a PLC link, or the simulation): Measure for each quarter hour,
// HandleAPDU for each APDU from the PLC link, Tamper when a sensor fires. It
// does no I/O besides its own persistent store.
type Meter struct {
	cfg      Config
	store    *Store
	counters protocol.CounterStore
	core     *Core
	signer   *protocol.MeterSigner
	source   Source
	trust    protocol.TrustList

	register uint64 // Wh, import
	foldedWh uint64 // Wh of the intervals a compaction folded into one register record
	days     map[int64][]protocol.Interval
	blocks   map[int64][]byte // signed blocks of closed days (same answer on every request)
	coll     collection       // the Collection machine: signed-data counters, items kept until acknowledged

	ch        channel // the sending side, on the generated Channel machine
	receiver  *protocol.Receiver
	cmds      commandsMachine
	cmdOut    commandsOutput
	cmdCrypto commandCrypto
	tariff    uint8
	clockOff  int64   // seconds added to the meter's clock by clock-set commands (journaled)
	breaker   breaker // journaled

	transfers     map[uint32]*transfer
	transferClock uint64

	tamper tamperLog // UC9, on the generated Tamper machine (tamper.go)
}

type transfer struct {
	manifest []byte
	total    uint16
	blocks   map[uint16][]byte
	used     uint64 // m.transferClock when last touched: the least recent is dropped first
}

// dataCounterKey is the counter-store key under which signed-data counters
// were reserved before the Collection machine journaled each counter with
// its item: a meter's first counter stays above every one reserved there.
var dataCounterKey = [8]byte{'d', 'a', 't', 'a', 'c', 't', 'r', 0}

// New builds a meter from its configuration and persisted state (a restart
// after power loss resumes where the durable state says).
func New(cfg Config) (*Meter, error) {
	if cfg.LogbookCapacity == 0 {
		cfg.LogbookCapacity = 64
	}
	m := &Meter{cfg: cfg, days: map[int64][]protocol.Interval{}, blocks: map[int64][]byte{}, transfers: map[uint32]*transfer{}, source: cfg.Source}
	if cfg.Source == nil {
		return nil, ErrNoSource
	}
	var err error
	storePath, counterPath := "", ""
	if cfg.Dir != "" {
		storePath, counterPath = filepath.Join(cfg.Dir, "meter.log"), filepath.Join(cfg.Dir, "counters")
	}
	if m.store, err = openStoreFS(cfg.fs, storePath); err != nil {
		return nil, err
	}
	if counterPath != "" && cfg.fs != nil {
		f, err := cfg.fs.OpenFile(counterPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
		}
		if m.counters, err = protocol.NewFileStore(f); err != nil {
			return nil, err
		}
	} else if counterPath != "" {
		if m.counters, err = protocol.OpenFileStore(counterPath); err != nil {
			return nil, err
		}
	} else {
		m.counters = protocol.NewMemStore()
	}
	pol := protocol.ManifestPolicy{Model: cfg.Model, Manufacturers: cfg.Manufacturers, Authorities: cfg.Authorities}
	fwRec, err := cfg.Trace.Recorder(fmt.Sprintf("firmware/%x/meter", cfg.Title[:]))
	if err != nil {
		return nil, err
	}
	if m.core, err = newCoreTrace(cfg.fs, cfg.Dir, m.store, pol, cfg.Factory, cfg.LogbookCapacity, fwRec); err != nil {
		return nil, err
	}
	m.core.selfTest = cfg.SelfTest
	if m.signer, err = protocol.NewMeterSigner(cfg.Title, cfg.SigningKey, cfg.Rand); err != nil {
		return nil, err
	}
	if m.trust, err = protocol.VerifyTrustList(cfg.TrustList, cfg.Operator, cfg.Title, 0); err != nil {
		return nil, err
	}
	m.cmdCrypto.meter = m
	cp := &commandsParams{Crypto: &m.cmdCrypto}
	m.cmds = commandsMachine{Role: "meter", Name: "meter", Step: cp.Step, State: cp.Init(),
		Action: func(o *commandsOutput) string { return o.Action },
		Persist: func(s *commandsState, o *commandsOutput) error {
			if !o.Persist {
				return nil
			}
			// A command whose effect is durable state journals the effect
			// and its counter in one record: a crash leaves both or
			// neither, so the effect is never lost after the counter
			// counted, nor applied twice by a replay.
			if kind, rec, ok := m.effectRecord(m.cmdCrypto.cmd, s.Last); ok {
				return m.store.Append(kind, rec, true)
			}
			var rec [8]byte
			binary.BigEndian.PutUint64(rec[:], uint64(s.Last))
			return m.store.Append(recCommand, rec[:], true)
		}}
	if m.cmds.Rec, err = cfg.Trace.Recorder(fmt.Sprintf("commands/%x/meter", cfg.Title[:])); err != nil {
		return nil, err
	}
	if err := m.recover(); err != nil {
		return nil, err
	}
	// The machine's tlVer is the installed list's version: the
	// commissioning list's, or the last one a command installed (recover).
	if m.trust.Version > math.MaxInt64 {
		return nil, fmt.Errorf("%w: trust list version %d", protocol.ErrTrustList, m.trust.Version)
	}
	m.cmds.State.TlVer = int64(m.trust.Version)
	m.cmds.Resume()
	tRec, err := cfg.Trace.Recorder(fmt.Sprintf("tamper/%x/meter", cfg.Title[:]))
	if err != nil {
		return nil, err
	}
	if err := m.initTamper(tRec); err != nil {
		return nil, err
	}
	chRec, err := cfg.Trace.Recorder(fmt.Sprintf("channel/%x/meter", cfg.Title[:]))
	if err != nil {
		return nil, err
	}
	if err := m.ch.init(m.counters, chRec); err != nil {
		return nil, err
	}
	collRec, err := cfg.Trace.Recorder(fmt.Sprintf("collection/%x/meter", cfg.Title[:]))
	if err != nil {
		return nil, err
	}
	if err := m.initCollection(collRec); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Meter) recover() error {
	if err := m.store.Each(recRegister, func(b []byte) error {
		if len(b) != 16 {
			return fmt.Errorf("%w: register record", ErrStore)
		}
		m.foldedWh = binary.BigEndian.Uint64(b[8:])
		return nil
	}); err != nil {
		return err
	}
	m.register = m.foldedWh
	if err := m.store.Each(recInterval, func(b []byte) error {
		if len(b) != 8+2+4 {
			return fmt.Errorf("%w: interval record", ErrStore)
		}
		day := int64(binary.BigEndian.Uint64(b))
		iv := protocol.Interval{Index: binary.BigEndian.Uint16(b[8:]), Value: binary.BigEndian.Uint32(b[10:])}
		if int(iv.Index) != len(m.days[day]) {
			return nil // a duplicate after a crash between append and sync: already counted
		}
		m.days[day] = append(m.days[day], iv)
		m.register += uint64(iv.Value)
		return nil
	}); err != nil {
		return err
	}
	if err := m.store.Each(recCommand, func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("%w: command record", ErrStore)
		}
		last := binary.BigEndian.Uint64(b)
		if last > math.MaxInt64 {
			return fmt.Errorf("%w: command record %d", ErrStore, last)
		}
		m.cmds.State.Last = max(m.cmds.State.Last, int64(last))
		return nil
	}); err != nil {
		return err
	}
	if err := m.store.Each(recBlock, func(b []byte) error {
		if len(b) < 8 {
			return fmt.Errorf("%w: block record", ErrStore)
		}
		m.blocks[int64(binary.BigEndian.Uint64(b))] = append([]byte(nil), b[8:]...)
		return nil
	}); err != nil {
		return err
	}
	if err := m.store.Each(recBreaker, func(b []byte) error {
		if len(b) != 9 || breaker(b[0]) > breakerArmed || binary.BigEndian.Uint64(b[1:]) > math.MaxInt64 {
			return fmt.Errorf("%w: breaker record", ErrStore)
		}
		m.breaker = breaker(b[0])
		m.cmds.State.Last = max(m.cmds.State.Last, int64(binary.BigEndian.Uint64(b[1:])))
		return nil
	}); err != nil {
		return err
	}
	// The trust lists installed by commands, oldest first: the operator
	// change survives a power loss (the commissioning list of Config would
	// otherwise be back, and with it the old operator's gateway). Each is
	// verified again as it was when installed: a newer version than the
	// one before it.
	if err := m.store.Each(recTrust, func(b []byte) error {
		if len(b) <= 8 || binary.BigEndian.Uint64(b) > math.MaxInt64 {
			return fmt.Errorf("%w: trust list record", ErrStore)
		}
		tl, err := protocol.VerifyTrustList(b[8:], m.cfg.Operator, m.cfg.Title, m.trust.Version)
		if err != nil {
			return fmt.Errorf("%w: trust list record: %w", ErrStore, err)
		}
		m.trust = tl
		m.cmds.State.Last = max(m.cmds.State.Last, int64(binary.BigEndian.Uint64(b)))
		return nil
	}); err != nil {
		return err
	}
	if err := m.store.Each(recClock, func(b []byte) error {
		if len(b) != 16 || binary.BigEndian.Uint64(b[8:]) > math.MaxInt64 {
			return fmt.Errorf("%w: clock record", ErrStore)
		}
		m.clockOff = int64(binary.BigEndian.Uint64(b))
		m.cmds.State.Last = max(m.cmds.State.Last, int64(binary.BigEndian.Uint64(b[8:])))
		return nil
	}); err != nil {
		return err
	}
	return m.store.Each(recTariff, func(b []byte) error {
		switch len(b) {
		case 1: // written before the counter was journaled with it
		case 9:
			if binary.BigEndian.Uint64(b[1:]) > math.MaxInt64 {
				return fmt.Errorf("%w: tariff record", ErrStore)
			}
			m.cmds.State.Last = max(m.cmds.State.Last, int64(binary.BigEndian.Uint64(b[1:])))
		default:
			return fmt.Errorf("%w: tariff record", ErrStore)
		}
		m.tariff = b[0]
		return nil
	})
}

// breakerRecord is a recBreaker record: the state and the counter of the
// command that set it (for the customer's local close, the last one run).
func breakerRecord(b breaker, counter int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{byte(b)}, uint64(counter))
}

// nextBreaker is the breaker after a disconnect or reconnect: a reconnect
// arms an open breaker and leaves a closed or armed one as it is.
func nextBreaker(cur breaker, kind protocol.CommandKind) breaker {
	if kind == protocol.CmdDisconnect {
		return breakerOpen
	}
	if cur == breakerOpen {
		return breakerArmed
	}
	return cur
}

// effectRecord is the journal record of a command whose effect is durable
// state beyond the counter (breaker, clock offset, tariff, trust list), with the
// counter in it; ok is false for the other commands.
func (m *Meter) effectRecord(c protocol.Command, counter int64) (kind byte, rec []byte, ok bool) {
	switch c.Kind {
	case protocol.CmdDisconnect, protocol.CmdReconnect:
		return recBreaker, breakerRecord(nextBreaker(m.breaker, c.Kind), counter), true
	case protocol.CmdClockSet:
		rec := binary.BigEndian.AppendUint64(nil, uint64(m.clockOff+c.ClockStep))
		return recClock, binary.BigEndian.AppendUint64(rec, uint64(counter)), true
	case protocol.CmdTariff:
		return recTariff, binary.BigEndian.AppendUint64([]byte{c.Tariff}, uint64(counter)), true
	case protocol.CmdTrustList:
		return recTrust, append(binary.BigEndian.AppendUint64(nil, uint64(counter)), c.Payload...), true
	}
	return 0, nil, false
}

// Close closes the persistent store.
func (m *Meter) Close() error {
	if c, ok := m.counters.(*protocol.FileStore); ok {
		c.Close()
	}
	return m.store.Close()
}

// StoreReport is what opening the meter's journal found (records, and a
// torn tail cut after a power loss); `verimeter meter run` logs it.
func (m *Meter) StoreReport() journal.Report { return m.store.Report() }

// title is the meter's system title.
func (m *Meter) title() protocol.SystemTitle { return m.cfg.Title }

// importRegister is the import register in Wh.
func (m *Meter) importRegister() uint64 { return m.register }

// breakerState is the state of the supply relay.
func (m *Meter) breakerState() breaker { return m.breaker }

// clockOffset is the seconds that clock-set commands moved the meter's
// clock by, in total (signed readings carry the adjusted time).
func (m *Meter) clockOffset() int64 { return m.clockOff }

// closeBreaker is the customer closing the breaker at the meter after a
// reconnect armed it (UC4). It is journaled before it takes effect; an
// open breaker that no reconnect armed stays open (ErrBreakerNotArmed).
func (m *Meter) closeBreaker() error {
	switch m.breaker {
	case breakerClosed:
		return nil
	case breakerOpen:
		return ErrBreakerNotArmed
	}
	// The record carries the last command counter run, so that a
	// compaction keeping only the last breaker record keeps that too.
	if err := m.store.Append(recBreaker, breakerRecord(breakerClosed, m.cmds.State.Last), true); err != nil {
		return err
	}
	m.breaker = breakerClosed
	return nil
}

// Day returns the intervals measured on day.
func (m *Meter) Day(day int64) []protocol.Interval {
	return append([]protocol.Interval(nil), m.days[day]...)
}

// Measure takes quarter hour i of day from the consumption source into the
// register and the load profile. The record is written at once and made
// durable when the day closes (i = 95): a power loss inside a day loses at
// most the unsynced quarter hours, never a value already signed or sent.
func (m *Meter) Measure(day int64, i int) (uint32, error) {
	if i != len(m.days[day]) {
		return 0, fmt.Errorf("meter: interval %d of day %d measured out of order", i, day)
	}
	wh := m.source.Interval(i)
	if m.breaker != breakerClosed {
		wh = 0 // breaker open or only armed: no consumption
	}
	var rec [14]byte
	binary.BigEndian.PutUint64(rec[:], uint64(day))
	binary.BigEndian.PutUint16(rec[8:], uint16(i))
	binary.BigEndian.PutUint32(rec[10:], wh)
	if err := m.store.Append(recInterval, rec[:], i == 95); err != nil {
		return 0, err
	}
	m.days[day] = append(m.days[day], protocol.Interval{Index: uint16(i), Value: wh})
	m.register += uint64(wh)
	return wh, nil
}

// dayStart is the Unix time of a day's first interval (days since epoch).
func dayStart(day int64) int64 { return day * 86400 }

// HandleAPDU processes one APDU from the gateway and returns the APDUs to
// send back. Errors from a refused APDU are returned for the log; a refused
// request is answered (a PDUResult naming the reason) when the channel
// allows it.
func (m *Meter) HandleAPDU(apdu []byte, now time.Time) ([][]byte, error) {
	if len(apdu) == 0 {
		return nil, protocol.ErrTruncated
	}
	if apdu[0] == protocol.TagKeyAgreement {
		return m.keyAgreement(apdu[1:])
	}
	if m.receiver == nil {
		return nil, ErrNoSession
	}
	_, plain, err := m.receiver.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	var out *protocol.PDU
	var herr error
	switch p.Kind {
	case protocol.PDUGetBlock:
		out, herr = m.getBlock(p)
	case protocol.PDUGetReading:
		out, herr = m.getReading(p, now)
	case protocol.PDUAck:
		out, herr = m.ack(p)
	case protocol.PDUGetKept:
		out, herr = m.getKept(p)
	case protocol.PDUCommand:
		out, herr = m.command(p)
	case protocol.PDUManifest:
		m.openTransfer(p.Campaign, p.Body)
		out = &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}
	case protocol.PDUFirmwareBlock:
		out, herr = m.firmwareBlock(p)
	case protocol.PDUActivate:
		out, herr = m.activate(p, now)
	case protocol.PDUTamperEvents:
		out, herr = m.tamperEvents(p)
	case protocol.PDUTamperAcks:
		out, herr = m.tamperAcks(p)
	default:
		herr = fmt.Errorf("%w: PDU kind %d not for a meter", protocol.ErrMalformed, p.Kind)
	}
	if herr != nil {
		out = &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request, Status: protocol.StatusRejected, Detail: truncate(herr.Error(), 200)}
	}
	if out == nil {
		return nil, herr
	}
	// The machine decides the counter first; the answer carries the
	// step's Lamport time when the steps are recorded.
	ctr, clock, err := m.ch.next()
	if err != nil {
		return nil, err
	}
	if m.ch.machine.Rec != nil {
		// The answer follows the Collection step it carries too (a Take):
		// the gateway's Collect observes the later of the two clocks.
		out.Clock = max(clock, m.coll.m.Clock.Now())
	}
	b, err := out.Marshal()
	if err != nil {
		return nil, err
	}
	tag := protocol.TagResponse
	if out.Kind == protocol.PDUData {
		tag = protocol.TagDataNotification
	}
	sealed, err := m.ch.sealer.Seal(nil, tag, ctr, b)
	if err != nil {
		return nil, err
	}
	return [][]byte{sealed}, herr
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// keyAgreement answers a gateway's signed ephemeral key: the gateway's key
// must be in the trust list with the gateway role. A fresh agreement gives
// fresh keys under a fresh key id, so counters restart only under new keys.
//
// When the meter keeps a trace, its Agree observes the Lamport time of the
// gateway's Rekey that the agreement carries, and the answer carries the
// number of the agreement (the machine's mkey), so that the gateway's log
// numbers its epochs as the meter's does (protocol.AppendTraceTrailer).
func (m *Meter) keyAgreement(b []byte) ([][]byte, error) {
	msg, clock, err := protocol.UnmarshalKeyAgreementTraced(b)
	if err != nil {
		return nil, err
	}
	if m.ch.machine.Rec == nil {
		clock = 0
	}
	if msg.To != m.cfg.Title {
		return nil, fmt.Errorf("%w: key agreement for %x", protocol.ErrWrongSigner, msg.To)
	}
	gw := m.trustedKey(protocol.RoleGateway)
	var keys protocol.SessionKeys
	var resp protocol.KeyAgreementMessage
	for _, pub := range gw {
		ka, r, err := protocol.StartKeyAgreement(msg.Suite, m.cfg.Title, msg.From, m.cfg.ChannelKey, msg.Ephemeral, m.cfg.Rand)
		if err != nil {
			return nil, err
		}
		if keys, err = ka.Finish(msg, pub); err == nil {
			resp = r
			break
		}
	}
	if resp.Signature == nil {
		return nil, fmt.Errorf("%w: gateway %x", ErrUntrusted, msg.From)
	}
	if err := m.ch.agree(keys, clock); err != nil {
		return nil, err
	}
	if m.receiver, err = protocol.NewReceiver(keys); err != nil {
		return nil, err
	}
	wire, err := resp.Marshal()
	if err != nil {
		return nil, err
	}
	frame := append([]byte{protocol.TagKeyAgreement}, wire...)
	if m.ch.machine.Rec != nil {
		frame = protocol.AppendTraceTrailer(frame, uint64(m.ch.machine.State.Mkey))
	}
	return [][]byte{frame}, nil
}

func (m *Meter) trustedKey(role protocol.Role) []*ecdsa.PublicKey {
	var out []*ecdsa.PublicKey
	for _, e := range m.trust.Entries {
		if e.Role != role {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(e.SPKI)
		if err != nil {
			continue
		}
		if pub, ok := k.(*ecdsa.PublicKey); ok {
			out = append(out, pub)
		}
	}
	return out
}

func (m *Meter) getBlock(p protocol.PDU) (*protocol.PDU, error) {
	if b, ok := m.blocks[p.Day]; ok {
		return &protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Day: p.Day, Body: b}, nil
	}
	iv := m.days[p.Day]
	if len(iv) != 96 {
		return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request, Status: protocol.StatusMissing, Detail: fmt.Sprintf("day %d has %d of 96 intervals", p.Day, len(iv))}, nil
	}
	// A block handed out is evidence: the Collection machine's Take
	// decides its counter and it is journaled with it before it leaves,
	// so after a power loss the meter answers with the same signed block
	// (same counter) and the head-end sees a duplicate, not a second
	// version; it is kept until the gateway acknowledges it.
	reg := m.registerAtEnd(p.Day)
	w, err := m.take(takenBlock, p.Day, p.Clock, func(ctr uint64) ([]byte, error) {
		blk, err := m.signer.SignBlock(protocol.BlockHeader{Meter: m.cfg.Title, Counter: ctr, Start: dayStart(p.Day), Period: 900, OBIS: protocol.ActiveEnergyImport, Register: reg}, iv)
		if err != nil {
			return nil, err
		}
		return blk.Marshal()
	})
	if err != nil {
		return nil, err
	}
	m.blocks[p.Day] = w
	return &protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Day: p.Day, Body: w}, nil
}

// registerAtEnd is the register at the end of day (sum of all intervals up
// to and including that day).
func (m *Meter) registerAtEnd(day int64) uint64 {
	var days []int64
	for d := range m.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	sum := m.foldedWh
	for _, d := range days {
		if d > day {
			break
		}
		for _, iv := range m.days[d] {
			sum += uint64(iv.Value)
		}
	}
	return sum
}

func (m *Meter) getReading(p protocol.PDU, now time.Time) (*protocol.PDU, error) {
	// An on-demand reading is taken as a block is (Take decides its
	// counter, journaled with it, kept until acknowledged).
	r, err := m.take(takenReading, 0, p.Clock, func(ctr uint64) ([]byte, error) {
		return m.signer.SignReading(protocol.Reading{Meter: m.cfg.Title, Counter: ctr, Time: now.Unix() + m.clockOff, OBIS: protocol.ActiveEnergyImport, Value: m.register})
	})
	if err != nil {
		return nil, err
	}
	return &protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Body: r}, nil
}

// command runs a signed command through the meter's Commands machine: the
// abstract message is the command's counter as its issuer claims it (read
// without trust), and the machine's guard SignedBy(m, "headend") verifies
// the signature under a head-end key of the trust list (commandCrypto);
// the counter must be above the last one run, and is made durable before
// the effect.
func (m *Meter) command(p protocol.PDU) (*protocol.PDU, error) {
	claim, err := protocol.PeekCommand(p.Body)
	if err != nil {
		return nil, err
	}
	if claim.Counter > math.MaxInt64 {
		return nil, fmt.Errorf("%w: command counter %d", protocol.ErrMalformed, claim.Counter)
	}
	m.cmdCrypto.data, m.cmdCrypto.err = p.Body, nil
	defer func() { m.cmdCrypto.data = nil }()
	ev := commandsEvent{Kind: commandsCommand, M: commandsNet{Id: int64(claim.Counter), By: "headend"}}
	var listErr error
	if claim.Kind == protocol.CmdDisconnect {
		// A disconnect names the two approvals it runs on (the first two
		// it carries, as its issuer claims them); the machine's guards
		// verify them (commandCrypto.Approves) and demand two distinct
		// approvers. A missing one is the zero approval, which approves
		// nothing.
		ev.Kind = commandsDisconnect
		for i, a := range claim.Approvals[:min(2, len(claim.Approvals))] {
			s := commandsSig{Id: ev.M.Id, Kind: "disconnect", Who: m.approverIndex(a)}
			if i == 0 {
				ev.S1 = s
			} else {
				ev.S2 = s
			}
		}
	}
	if claim.Kind == protocol.CmdTrustList {
		// The list carried is verified on its own (the operator's
		// trust-list key, this meter) before the step; the machine
		// decides on the outcome and on the version.
		ev.Kind, ev.L.By = commandsTrustList, "unverified"
		m.cmdCrypto.tl, listErr = protocol.VerifyTrustList(claim.Payload, m.cfg.Operator, m.cfg.Title, 0)
		if listErr == nil && m.cmdCrypto.tl.Version > math.MaxInt64 {
			listErr = fmt.Errorf("%w: version %d", protocol.ErrTrustList, m.cmdCrypto.tl.Version)
		}
		if listErr == nil {
			ev.L = commandsList{Ver: int64(m.cmdCrypto.tl.Version), By: "trustlist"}
		}
	}
	if _, err := m.cmds.Apply(p.Clock, ev, &m.cmdOut); errors.Is(err, statemachine.ErrNotEnabled) {
		var g *statemachine.GuardError
		errors.As(err, &g)
		switch {
		case m.cmdCrypto.err != nil:
			return nil, m.cmdCrypto.err // the signature or an approval: why it did not verify
		case g == errCommandsExecuteDisconnectGuard3, g == errCommandsExecuteDisconnectGuard4:
			return nil, fmt.Errorf("%w: %d approvals: %w", ErrApprovals, len(claim.Approvals), err)
		case g == errCommandsExecuteDisconnectGuard5:
			return nil, fmt.Errorf("%w: one approver counted twice: %w", ErrApprovals, err)
		case g == errCommandsExecuteTrustListGuard3:
			return nil, fmt.Errorf("%w: %w", listErr, err)
		case g == errCommandsExecuteTrustListGuard4:
			return nil, fmt.Errorf("%w: version %d not newer than installed %d: %w", protocol.ErrTrustList, ev.L.Ver, m.cmds.State.TlVer, err)
		}
		return nil, fmt.Errorf("%w: %d after %d: %w", ErrCommandOrder, claim.Counter, m.cmds.State.Last, err)
	} else if err != nil {
		return nil, err
	}
	c := m.cmdCrypto.cmd
	switch c.Kind {
	case protocol.CmdTariff:
		m.tariff = c.Tariff // journaled with the counter (effectRecord)
	case protocol.CmdDisconnect, protocol.CmdReconnect:
		m.breaker = nextBreaker(m.breaker, c.Kind) // journaled with the counter (effectRecord)
	case protocol.CmdClockSet:
		m.clockOff += c.ClockStep // journaled with the counter (effectRecord)
	case protocol.CmdTrustList:
		m.trust = m.cmdCrypto.tl // the machine's ExecuteTrustList, journaled with the counter (effectRecord)
	}
	return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}, nil
}

// openTransfer starts (or restarts) campaign's transfer, dropping the
// least recently used one when maxTransfers are open.
func (m *Meter) openTransfer(campaign uint32, manifest []byte) {
	if _, ok := m.transfers[campaign]; !ok && len(m.transfers) >= maxTransfers {
		var lru uint32
		oldest := uint64(math.MaxUint64)
		for c, t := range m.transfers {
			if t.used < oldest {
				lru, oldest = c, t.used
			}
		}
		delete(m.transfers, lru)
	}
	m.transferClock++
	m.transfers[campaign] = &transfer{manifest: manifest, blocks: map[uint16][]byte{}, used: m.transferClock}
}

// openTransfers is the number of firmware transfers open (tests, display).
func (m *Meter) openTransfers() int { return len(m.transfers) }

func (m *Meter) firmwareBlock(p protocol.PDU) (*protocol.PDU, error) {
	fb, err := protocol.UnmarshalFirmwareBlock(p.Body)
	if err != nil {
		return nil, err
	}
	t := m.transfers[fb.Campaign]
	if t == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoTransfer, fb.Campaign)
	}
	if int(fb.Total)*protocol.MaxFirmwareBlock > maxImageBytes {
		return nil, fmt.Errorf("%w: %d blocks of up to %d bytes, at most %d bytes", ErrTransferTooLarge, fb.Total, protocol.MaxFirmwareBlock, maxImageBytes)
	}
	m.transferClock++
	t.used = m.transferClock
	if t.total != 0 && t.total != fb.Total {
		return nil, fmt.Errorf("%w: block count changed from %d to %d", protocol.ErrMalformed, t.total, fb.Total)
	}
	t.total = fb.Total
	t.blocks[fb.Index] = fb.Data
	return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}, nil
}

func (m *Meter) activate(p protocol.PDU, now time.Time) (*protocol.PDU, error) {
	t := m.transfers[p.Campaign]
	if t == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoTransfer, p.Campaign)
	}
	delete(m.transfers, p.Campaign)
	party := "head-end campaign " + fmt.Sprint(p.Campaign)
	var image []byte
	if t.total == 0 {
		// An attempt the logbook records although its image never came.
		return nil, m.core.abort(t.manifest, party, now.Unix(), fmt.Errorf("%w: no block of campaign %d received", ErrNoTransfer, p.Campaign))
	}
	for i := uint16(0); i < t.total; i++ {
		b, ok := t.blocks[i]
		if !ok {
			return nil, m.core.abort(t.manifest, party, now.Unix(), fmt.Errorf("%w: block %d of %d missing", ErrNoTransfer, i, t.total))
		}
		image = append(image, b...)
	}
	if err := m.core.install(t.manifest, image, party, now.Unix()); err != nil {
		return nil, err
	}
	return &protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}, nil
}

// Status is what the meter's display shows (WELMEC 7.2: the software ID,
// version and logbook must be viewable on the device) and what an operator
// on site reads off it: registers, tariff, breaker, the legally relevant
// core's identification and logbook, and the tamper events not yet
// acknowledged. `verimeter meter run` renders it.
type Status struct {
	Title         protocol.SystemTitle
	ImportWh      uint64 // register 1.8.0, Wh
	Tariff        uint8  // active tariff register (1 or 2)
	Breaker       string // "closed", "open", "armed"
	Version       uint32 // active firmware version
	SoftwareID    string // first 8 bytes of SHA-256 of the legally relevant code, hex
	SecurityFloor uint32 // lowest security version the meter still installs
	Logbook       []LogEntry
	TamperPending int // signed tamper events the head-end has not acknowledged
	// Unacknowledged are the signed items (readings, blocks) the meter
	// keeps until the head-end's end-to-end acknowledgement.
	Unacknowledged int
}

// Status returns the meter's display values now.
func (m *Meter) Status() Status {
	return Status{Title: m.cfg.Title, ImportWh: m.register, Tariff: m.tariff, Breaker: m.breaker.String(),
		Version: m.core.Version(), SoftwareID: m.core.SoftwareID(), SecurityFloor: m.core.securityFloor(),
		Logbook: m.core.Logbook(), TamperPending: m.tamperPending(), Unacknowledged: m.unacknowledged()}
}
