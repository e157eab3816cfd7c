package gateway

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/wan"
)

// Errors of the gateway.
var (
	ErrWANDown    = errors.New("gateway: WAN unreachable")
	ErrNoSession  = errors.New("gateway: meter not commissioned")
	ErrNoAnswer   = errors.New("gateway: meter did not answer")
	ErrMeterRefus = errors.New("gateway: meter refused the request")
	// ErrRelayed: the command was relayed already by this gateway since it
	// started (spec/Commands.tla, Relay: c \notin relayed).
	ErrRelayed = errors.New("gateway: command already relayed")
)

// Uplink is the gateway's outbound connection to the head-end (TLS 1.3 with
// mutual authentication in production; in process in the demo). The gateway
// never accepts inbound connections on the WAN.
type Uplink interface {
	Ingest(ctx context.Context, gateway string, items []wan.Item) (wan.IngestResult, error)
}

// Config is what a gateway runs with.
type Config struct {
	Name       string
	Title      protocol.SystemTitle
	ChannelKey *ecdsa.PrivateKey // signs key agreements on PLC (role gateway)
	Dir        string            // persistent queue; "" keeps it in memory
	// fs is the filesystem the queue is written through; nil is the
	// operating system's (crash-point and full-disk tests inject one).
	fs      journal.FS
	Rand    io.Reader
	Segment PLC
	// Trace, when set, records the steps of the gateway's Commands machine
	// for each meter in commands/<meter>/gateway-<Name>.ndjson and of its
	// Collection machine in collection/<meter>/gateway-<Name>.ndjson and of
	// its Tamper machine in tamper/<meter>/gateway.ndjson, for trace
	// validation against spec/Commands.tla, spec/Collection.tla and
	// spec/Tamper.tla, and of its Channel machine in
	// channel/<meter>/gateway.ndjson (one log per meter whichever gateway
	// keys it: spec/Channel.tla has one gateway), against spec/Channel.tla.
	Trace *statemachine.TraceDir
}

// commandsMachine is the gateway's generated machine of spec/Commands.tla
// for one meter: which of its commands this gateway relayed since it
// started (volatile, as the spec has it).
type commandsMachine = statemachine.Instance[commandsState, commandsEvent, commandsOutput]

// PLC is how a gateway reaches its meters: the simulated segment of
// internal/sim in the demo and tests, SocketPLC between processes, a serial modem on hardware.
type PLC interface {
	// Exchange sends one APDU to meter and returns the APDUs it answered.
	Exchange(meter protocol.SystemTitle, apdu []byte) ([][]byte, error)
	// Refused returns what the meter's side refused, where it can be seen
	// (only in simulation).
	Refused(meter protocol.SystemTitle) []error
}

type session struct {
	sender   *protocol.Sender
	channel  *meterChannel // the receiving side, on the generated Channel machine
	meterKey *ecdsa.PublicKey
	keyID    [8]byte
}

// Gateway is one gateway: its sessions with its meters, its store-and-forward
// queues and the generated machines they run on. Its owner (a `verimeter
// gateway run` process) drives it on the collection schedule: Commission each
// meter, CollectDay or ReadNow, then Forward (or Flush) to the head-end
// through an Uplink; tamper events go CollectTamper, UploadTamper,
// RelayTamperAcks. It does no I/O besides its PLC link, its queues and the
// Uplink it is handed.
type Gateway struct {
	cfg      Config
	queue    *Queue
	tamper   *tamperQueue // tamper events (UC9), on the generated Tamper machines (tamper.go)
	sessions map[protocol.SystemTitle]*session
	cmds     map[protocol.SystemTitle]*commandsMachine
	cmdOut   commandsOutput
	// chStep is the generated Step of the Channel machine (channelStep;
	// tests put a mutant here), chOut its reused output.
	chStep chStepFunc
	chOut  channelOutput
	// colls are the meters' Collection machines (gateway/collection.go),
	// collOut their reused output, batch the batch being uploaded.
	colls   map[protocol.SystemTitle]*meterCollection
	collOut collectionOutput
	batch   batchIDs
	// dataAcks are the head-end's signed end-to-end acknowledgements of
	// uploaded items, by meter, not yet relayed (gateway/collection.go).
	dataAcks map[protocol.SystemTitle][][]byte
	req      uint64
	// wakeUps journals the counters of accepted wake-ups (wakeup.go),
	// lastWakeUp is the last of them.
	wakeUps    *journal.Journal
	lastWakeUp uint64
	// Refused records the APDUs from meters the gateway's receiver
	// refused (replayed, tampered): all counted, the last few kept.
	Refused Refusals
	// stats counts the uploads to the head-end (stats.go).
	stats uploadStats
}

// New opens a gateway (reloading its queue after a restart).
func New(cfg Config) (*Gateway, error) {
	path := ""
	if cfg.Dir != "" {
		path = filepath.Join(cfg.Dir, "queue")
	}
	q, err := openQueueWith(path, queueOptions{fs: cfg.fs})
	if err != nil {
		return nil, err
	}
	tq, err := openTamper(cfg)
	if err != nil {
		q.Close()
		return nil, err
	}
	wj, lastWake, err := openWakeUps(cfg)
	if err != nil {
		q.Close()
		tq.j.Close()
		return nil, err
	}
	return &Gateway{cfg: cfg, queue: q, tamper: tq, wakeUps: wj, lastWakeUp: lastWake, sessions: map[protocol.SystemTitle]*session{}, cmds: map[protocol.SystemTitle]*commandsMachine{},
		chStep: channelStep, chOut: channelOutput{Kas: make([]int64, 0, 1)},
		colls: map[protocol.SystemTitle]*meterCollection{}, dataAcks: map[protocol.SystemTitle][][]byte{}}, nil
}

// Close closes the queues.
func (g *Gateway) Close() error {
	return errors.Join(g.queue.Close(), g.tamper.j.Close(), g.wakeUps.Close())
}

// Name is the gateway's name.
func (g *Gateway) Name() string { return g.cfg.Name }

// Queue returns the store-and-forward queue.
func (g *Gateway) Queue() *Queue { return g.queue }

// Commission runs the signed key agreement with a meter whose channel key
// the gateway knows from the meter's certificate (UC1). A new agreement
// replaces the session: fresh keys, fresh counters.
func (g *Gateway) Commission(meter protocol.SystemTitle, meterKey *ecdsa.PublicKey) error {
	ka, init, err := protocol.StartKeyAgreement(protocol.Suite1, g.cfg.Title, meter, g.cfg.ChannelKey, nil, g.cfg.Rand)
	if err != nil {
		return err
	}
	wire, err := init.Marshal()
	if err != nil {
		return err
	}
	var prev *meterChannel
	if old := g.sessions[meter]; old != nil {
		prev = old.channel
	}
	clock, err := g.rekeyClock(meter, prev)
	if err != nil {
		return err
	}
	out, err := g.cfg.Segment.Exchange(meter, protocol.AppendTraceTrailer(append([]byte{protocol.TagKeyAgreement}, wire...), clock))
	if err != nil {
		return err
	}
	if len(out) != 1 || len(out[0]) == 0 || out[0][0] != protocol.TagKeyAgreement {
		if r := g.cfg.Segment.Refused(meter); len(r) > 0 {
			return fmt.Errorf("%w: %w", ErrMeterRefus, r[len(r)-1])
		}
		return ErrNoAnswer
	}
	resp, epoch, err := protocol.UnmarshalKeyAgreementTraced(out[0][1:])
	if err != nil {
		return err
	}
	if g.cfg.Trace == nil || epoch > math.MaxInt64 {
		epoch = 0
	}
	keys, err := ka.Finish(resp, meterKey)
	if err != nil {
		return err
	}
	s := &session{meterKey: meterKey, keyID: keys.KeyID}
	if s.sender, err = protocol.NewSender(keys, protocol.NewMemStore()); err != nil {
		return err
	}
	if s.channel, err = g.rekey(meter, prev, keys, int64(epoch)); err != nil {
		return err
	}
	g.sessions[meter] = s
	return nil
}

// SessionKeyID returns the key id of the current session with meter (for
// the nonce audit of the crash campaign), and whether there is one.
func (g *Gateway) SessionKeyID(meter protocol.SystemTitle) ([8]byte, bool) {
	s := g.sessions[meter]
	if s == nil {
		return [8]byte{}, false
	}
	return s.keyID, true
}

func (g *Gateway) request(meter protocol.SystemTitle, tag byte, p protocol.PDU) (protocol.PDU, error) {
	s := g.sessions[meter]
	if s == nil {
		return protocol.PDU{}, fmt.Errorf("%w: %x", ErrNoSession, meter)
	}
	g.req++
	p.Request = g.req
	b, err := p.Marshal()
	if err != nil {
		return protocol.PDU{}, err
	}
	apdu, err := s.sender.Seal(nil, tag, b)
	if err != nil {
		return protocol.PDU{}, err
	}
	out, err := g.cfg.Segment.Exchange(meter, apdu)
	if err != nil {
		return protocol.PDU{}, err
	}
	for _, a := range out {
		plain, err := g.open(s.channel, a)
		if err != nil {
			g.Refused.add(err)
			continue
		}
		r, err := protocol.UnmarshalPDU(plain)
		if err != nil {
			g.Refused.add(err)
			continue
		}
		if r.Request == p.Request {
			return r, nil
		}
	}
	if r := g.cfg.Segment.Refused(meter); len(r) > 0 {
		return protocol.PDU{}, fmt.Errorf("%w: %w", ErrMeterRefus, r[len(r)-1])
	}
	return protocol.PDU{}, ErrNoAnswer
}

func result(r protocol.PDU) error {
	if r.Kind == protocol.PDUResult && r.Status != protocol.StatusOK {
		return fmt.Errorf("%w: %s", ErrMeterRefus, r.Detail)
	}
	return nil
}

// CollectDay fetches a meter's signed load-profile block of day and
// queues it durably for the head-end: the Collection machine's Collect
// (gateway/collection.go). The meter keeps the block until the head-end's
// end-to-end acknowledgement, which the gateway relays first (RelayAcks).
func (g *Gateway) CollectDay(meter protocol.SystemTitle, day int64) error {
	g.relayPendingAcks(meter)
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: day})
	if err != nil {
		return err
	}
	if err := result(r); err != nil {
		return err
	}
	if r.Kind != protocol.PDUData {
		return fmt.Errorf("%w: answer of kind %d", ErrNoAnswer, r.Kind)
	}
	return g.collect(meter, wan.Item{Kind: wan.KindBlock, Raw: r.Body}, r.Clock)
}

// ReadNow takes an on-demand signed reading (UC3) and queues it, as
// CollectDay does a block.
func (g *Gateway) ReadNow(meter protocol.SystemTitle) ([]byte, error) {
	g.relayPendingAcks(meter)
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	if err != nil {
		return nil, err
	}
	if err := result(r); err != nil {
		return nil, err
	}
	return r.Body, g.collect(meter, wan.Item{Kind: wan.KindReading, Raw: r.Body}, r.Clock)
}

// Command relays a head-end-signed command; the meter checks it. Which
// commands are relayed is the gateway's generated machine of
// spec/Commands.tla (action Relay): each counter once per meter since the
// gateway started (a repeat is ErrRelayed). The PDU carries the relay's
// Lamport time when the gateway keeps a trace.
func (g *Gateway) Command(meter protocol.SystemTitle, signed []byte) error {
	c, err := protocol.PeekCommand(signed)
	if err != nil {
		return err
	}
	if c.Meter != meter || c.Counter > math.MaxInt64 {
		return fmt.Errorf("%w: command %d for %x relayed to %x", protocol.ErrMalformed, c.Counter, c.Meter, meter)
	}
	// Only to a commissioned meter: a command for any other title would
	// make the gateway keep a machine (and a trace) per title it is sent.
	if g.sessions[meter] == nil {
		return fmt.Errorf("%w: command %d for %x", ErrNoSession, c.Counter, meter)
	}
	m, err := g.commands(meter)
	if err != nil {
		return err
	}
	ev := commandsEvent{Kind: commandsRelay, C: int64(c.Counter)}
	clock, err := m.Apply(c.Trace, ev, &g.cmdOut)
	var full *statemachine.CapacityError
	if errors.As(err, &full) {
		// The relayed set is full: forget it, as a restart does (the spec's
		// Restart; the meter's counter check makes a repeat harmless).
		if _, err := m.Apply(0, commandsEvent{Kind: commandsRestart}, &g.cmdOut); err != nil {
			return err
		}
		clock, err = m.Apply(c.Trace, ev, &g.cmdOut)
	}
	if errors.Is(err, statemachine.ErrNotEnabled) {
		return fmt.Errorf("%w: command %d to %x: %w", ErrRelayed, c.Counter, meter, err)
	}
	if err != nil {
		return err
	}
	p := protocol.PDU{Kind: protocol.PDUCommand, Body: signed}
	if m.Rec != nil {
		p.Clock = clock
	}
	r, err := g.request(meter, protocol.TagCommand, p)
	if err != nil {
		// No answer: the command may not have arrived. Forget what was
		// relayed (the spec's Restart) so that the head-end's retry is
		// relayed again; the meter's counter check makes a repeat harmless.
		if _, rerr := m.Apply(0, commandsEvent{Kind: commandsRestart}, &g.cmdOut); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return result(r)
}

// commands returns the meter's Commands machine of this gateway
// incarnation. When the trace already holds steps of an earlier
// incarnation (the gateway restarted), the new one records its restart
// first: it has forgotten what it relayed.
func (g *Gateway) commands(meter protocol.SystemTitle) (*commandsMachine, error) {
	if m, ok := g.cmds[meter]; ok {
		return m, nil
	}
	rec, err := g.cfg.Trace.Recorder(fmt.Sprintf("commands/%x/gateway-%s", meter[:], g.cfg.Name))
	if err != nil {
		return nil, err
	}
	p := &commandsParams{}
	m := &commandsMachine{Role: "gateway", Name: "gateway-" + g.cfg.Name, Step: p.Step, State: p.Init(), Rec: rec,
		Action: func(o *commandsOutput) string { return o.Action }}
	if rec.LastClock() > 0 {
		m.Resume()
		if _, err := m.Apply(0, commandsEvent{Kind: commandsRestart}, &g.cmdOut); err != nil {
			return nil, err
		}
	}
	g.cmds[meter] = m
	return m, nil
}

// Firmware transfers a campaign's manifest and image to a meter in blocks
// and asks it to activate; the meter's legally relevant core decides.
func (g *Gateway) Firmware(meter protocol.SystemTitle, campaign uint32, manifest, image []byte) error {
	r, err := g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUManifest, Campaign: campaign, Body: manifest})
	if err != nil {
		return err
	}
	if err := result(r); err != nil {
		return err
	}
	total := (len(image) + protocol.MaxFirmwareBlock - 1) / protocol.MaxFirmwareBlock
	for i := range total {
		fb := protocol.FirmwareBlock{Campaign: campaign, Index: uint16(i), Total: uint16(total), Data: image[i*protocol.MaxFirmwareBlock : min(len(image), (i+1)*protocol.MaxFirmwareBlock)]}
		b, err := fb.Marshal()
		if err != nil {
			return err
		}
		r, err := g.request(meter, protocol.TagFirmwareBlock, protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b})
		if err != nil {
			return err
		}
		if err := result(r); err != nil {
			return err
		}
	}
	r, err = g.request(meter, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUActivate, Campaign: campaign})
	if err != nil {
		return err
	}
	return result(r)
}

// Flush forwards queued items to the head-end in batches and acknowledges
// each batch only after the head-end confirmed its durable commit: the
// Collection machines' Upload and Uploaded (gateway/collection.go). It
// returns how many items were forwarded; with the WAN down the items stay
// queued.
func (g *Gateway) Flush(ctx context.Context, up Uplink, batch int) (int, wan.IngestResult, error) {
	var total wan.IngestResult
	sent := 0
	for g.queue.Len() > 0 {
		n, res, err := g.flushBatch(ctx, up, batch)
		if err != nil {
			return sent, total, err
		}
		sent += n
		total.Stored += res.Stored
		total.Duplicates += res.Duplicates
		total.Intervals += res.Intervals
		total.Rejected = append(total.Rejected, res.Rejected...)
	}
	return sent, total, nil
}

// openFromMeter runs an APDU as if it arrived from the meter (the attacker
// injecting toward the gateway) and returns the gateway's verdict.
func (g *Gateway) openFromMeter(meter protocol.SystemTitle, apdu []byte) error {
	s := g.sessions[meter]
	if s == nil {
		return fmt.Errorf("%w: %x", ErrNoSession, meter)
	}
	_, err := g.open(s.channel, apdu)
	return err
}
