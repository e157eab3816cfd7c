package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// tagVerified implements the abstract cryptography of spec/Channel.tla for
// the gateway: the GCM tag of an APDU is verified by protocol.Opener before
// the machine's Step, and the outcome is the event's m.auth, which
// Authentic reads (Authentic(m) == m.auth, as the spec defines it). No
// field is set beside the event.
type tagVerified struct{}

// Authentic is the outcome of the tag check the event carries.
func (tagVerified) Authentic(m channelNet) bool { return m.Auth }

// chStepFunc is the generated Step of the gateway's Channel machine under
// the parameters of one meter's channel (tests put a mutant here).
type chStepFunc func(*channelParams, *channelState, channelEvent, *channelOutput) error

// channelStep is the generated Step of the gateway's Channel machine.
func channelStep(p *channelParams, s *channelState, ev channelEvent, out *channelOutput) error {
	return p.Step(s, ev, out)
}

// channelMachine is the gateway's generated machine of spec/Channel.tla for
// one meter: its state (gkey, and gopen: it holds the session of gkey),
// its Lamport clock and the recorder of its steps.
type channelMachine = statemachine.Instance[channelState, channelEvent, channelOutput]

// windowStore is the machine's @store seen for one meter: RFC 6479's
// sliding bitmap. A counter the window has seen, or one older than it
// reaches, is in seen (the window refuses those old counters where the
// spec would accept them, which only leaves out behaviours). A nil window
// is the empty seen of a fresh key.
type windowStore struct{ w *protocol.ReplayWindow }

// SeenHas reports whether counter x is in seen.
func (s windowStore) SeenHas(x int64) bool {
	if s.w == nil {
		return false
	}
	if x < 0 || x > math.MaxUint32 {
		return true
	}
	return s.w.Check(uint32(x)) != nil
}

// meterChannel is the gateway's receiving side of the channel with one
// meter under one key: the generated machine (its state holds the key
// epoch, gkey) and the replay window, RFC 6479's sliding bitmap, which holds
// the machine's @store seen (the set of counters accepted under the current
// key) outside the machine (windowStore). The machine's parameters (the tag
// check and this window as seen) are built once per key, not per APDU.
type meterChannel struct {
	opener  *protocol.Opener
	machine *channelMachine
	params  channelParams
	window  protocol.ReplayWindow
	// rec is the recorder of the machine's steps (nil without a trace);
	// the machine itself records nothing, since its log holds the spec's
	// seen beside its state.
	rec *statemachine.Recorder
	// seen is the spec's seen when the gateway keeps a trace: the
	// counters the machine added under this key, in order. The window
	// decides; this copy is only logged, so that trace validation checks
	// each Receive against the set the spec keeps.
	seen []int64
}

// receive takes the machine's Receive of an authentic APDU. Without a
// trace it is statemachine.Instance's Apply without the generic call (the
// machine's Step on its state, then the clock's tick, as Apply does); with
// one, Apply itself (the step is logged by record, with seen).
func (c *meterChannel) receive(remote uint64, ev channelEvent, out *channelOutput) (uint64, error) {
	m := c.machine
	if c.rec != nil || m.Persist != nil {
		return m.Apply(remote, ev, out)
	}
	if err := m.Step(&m.State, ev, out); err != nil {
		return 0, err
	}
	return m.Clock.Observe(remote)
}

// loggedChannelState is the gateway's state in spec/Channel.tla as its log
// holds it: gkey, gopen and the @store seen.
type loggedChannelState struct {
	Gkey  int64   `json:"gkey"`
	Gopen bool    `json:"gopen"`
	Seen  []int64 `json:"seen"`
}

// record logs a step the machine took at now (when a trace is kept).
func (c *meterChannel) record(now uint64, action string, ev channelEvent) error {
	if c.rec == nil {
		return nil
	}
	if err := c.rec.Record(c.machine.Role, c.machine.Name, now, action, ev, loggedChannelState{c.machine.State.Gkey, c.machine.State.Gopen, c.seen}); err != nil {
		return fmt.Errorf("gateway: recording %s of the channel: %w", action, err)
	}
	return nil
}

// gkey is the channel's key epoch (the machine's gkey).
func (c *meterChannel) gkey() int64 { return c.machine.State.Gkey }

// channelFor returns a fresh machine for meter's channel: the previous
// key's machine carries on (its epoch and clock), or for a meter this
// gateway has not keyed since it started, one at the spec's initial state
// whose clock continues after the meter's Channel log of this gateway
// (channel/<meter>/gateway under Config.Trace), if any.
//
// A log of an earlier incarnation (this gateway restarted, or another
// gateway of the meter wrote it) is continued from its last state, and
// the new incarnation's first step is the spec's Restart: it holds no
// session (the sessions are in memory; gopen is FALSE) and its window is
// empty until its key agreement's Rekey. The restart is taken and logged
// once: a log whose last step already left the gateway without a session
// (a restart, and a key agreement that did not finish) goes on from there.
func (g *Gateway) channelFor(meter protocol.SystemTitle, prev *meterChannel) (*channelMachine, error) {
	if prev != nil {
		m := *prev.machine
		m.Rec = prev.rec
		return &m, nil
	}
	rec, err := g.cfg.Trace.Recorder(fmt.Sprintf("channel/%x/gateway", meter[:]))
	if err != nil {
		return nil, err
	}
	m := &channelMachine{Role: "gateway", Name: "gateway", State: (&channelParams{}).Init(), Rec: rec,
		Action: func(o *channelOutput) string { return o.Action }}
	if rec.LastClock() == 0 {
		return m, nil
	}
	// The log's clock and its numbering of the key epochs go on. The
	// epoch only names the key in the log (the opener holds the key;
	// Receive's m.k = gkey is the key the APDU opened under), so this
	// decides nothing.
	m.Resume()
	var last loggedChannelState
	if err := json.Unmarshal(rec.LastState(), &last); err == nil && last.Gkey > 0 {
		m.State = channelState{Gkey: last.Gkey, Gopen: last.Gopen}
	}
	if !m.State.Gopen {
		return m, nil
	}
	if err := g.restartChannel(m); err != nil {
		return nil, err
	}
	return m, nil
}

// restartChannel takes the machine's Restart (a new incarnation of the
// gateway, which holds no session) and logs it with the empty window.
func (g *Gateway) restartChannel(m *channelMachine) error {
	rec := m.Rec
	p := channelParams{Crypto: tagVerified{}, Store: windowStore{}}
	m.Rec = nil // logged below, with seen
	m.Step = func(s *channelState, ev channelEvent, out *channelOutput) error {
		return g.chStep(&p, s, ev, out)
	}
	ev := channelEvent{Kind: channelRestart}
	now, err := m.Apply(0, ev, &g.chOut)
	m.Rec = rec
	if err != nil {
		return err
	}
	if err := rec.Record(m.Role, m.Name, now, g.chOut.Action, ev, loggedChannelState{m.State.Gkey, m.State.Gopen, []int64{}}); err != nil {
		return fmt.Errorf("gateway: recording %s of the channel: %w", g.chOut.Action, err)
	}
	return nil
}

// rekey takes the machine's Rekey for a key agreement whose signatures
// verified and whose keys are derived (keys): the next epoch, an empty
// window. The step's Lamport time is the one the agreement carried to the
// meter (reserved by rekeyClock), so that in the logs the gateway's Rekey
// comes before the meter's Agree, as the spec has it.
//
// epoch, when not 0, is the number the meter gave the agreement it
// answered (it comes only while both keep a trace). An epoch further
// ahead than the next one means agreements the meter answered and the
// gateway never finished (it was killed, or the answer was lost, after
// the meter's Agree): the gateway started each of them, which is the
// spec's Rekey, so it logs those Rekeys first, then this one.
func (g *Gateway) rekey(meter protocol.SystemTitle, prev *meterChannel, keys protocol.SessionKeys, epoch int64) (*meterChannel, error) {
	o, err := protocol.NewOpener(keys)
	if err != nil {
		return nil, err
	}
	m, err := g.channelFor(meter, prev)
	if err != nil {
		return nil, err
	}
	c := &meterChannel{opener: o, machine: m, rec: m.Rec}
	m.Rec = nil // c.record logs the steps, with seen
	c.params = channelParams{Crypto: tagVerified{}, Store: windowStore{&c.window}}
	m.Step = func(s *channelState, ev channelEvent, out *channelOutput) error {
		return g.chStep(&c.params, s, ev, out)
	}
	if c.rec != nil {
		c.seen = []int64{}
	}
	if epoch-m.State.Gkey > maxUnfinished+1 {
		return nil, fmt.Errorf("%w: the meter answered agreement %d, the gateway's log is at %d", ErrEpochAhead, epoch, m.State.Gkey)
	}
	for {
		ev := channelEvent{Kind: channelKeyAgreement}
		now, err := m.Apply(0, ev, &g.chOut)
		if err != nil {
			return nil, err
		}
		if len(g.chOut.SeenAdd) != 0 {
			return nil, fmt.Errorf("gateway: Rekey added %d counters to the window", len(g.chOut.SeenAdd))
		}
		if err := c.record(now, g.chOut.Action, ev); err != nil {
			return nil, err
		}
		if m.State.Gkey >= epoch {
			return c, nil
		}
	}
}

// maxUnfinished bounds the key agreements a meter may have answered that
// the gateway never finished (see rekey): each takes a kill or a lost
// answer at one precise moment.
const maxUnfinished = 64

// ErrEpochAhead is a meter whose agreement number is further ahead of the
// gateway's log than agreements left unfinished explain (a trace value the
// medium changed, or a log that is not this meter's).
var ErrEpochAhead = errors.New("gateway: meter's key agreement number ahead of the log")

// rekeyClock is the Lamport time the gateway's next Rekey with meter will
// take (0 when the gateway keeps no trace): the key agreement carries it
// to the meter, whose Agree observes it.
func (g *Gateway) rekeyClock(meter protocol.SystemTitle, prev *meterChannel) (uint64, error) {
	if g.cfg.Trace == nil {
		return 0, nil
	}
	m, err := g.channelFor(meter, prev)
	if err != nil {
		return 0, err
	}
	return m.Clock.Now() + 1, nil
}

// open authenticates an APDU from the meter and takes the machine's
// Receive: the tag is checked first (its outcome is the event's auth), the
// machine's seen is the window's verdict on this counter (a counter the
// window has seen, or one older than it reaches, is in seen; the sliding
// window refuses those old counters where the spec would accept them,
// which only leaves out behaviours), and the machine decides: a counter in
// seen is refused as a replay, an APDU whose tag did not verify changes
// nothing and is refused, an authentic one is recorded in the window only
// when the machine put it into seen. An APDU whose tag did not verify is a
// step that changes nothing (a stuttering step, which every behaviour
// allows): it is taken but not logged. An authentic one is logged at a
// Lamport time after the meter's Seal: the answer's PDU carries the time
// of the Seal when the meter keeps a trace.
func (g *Gateway) open(c *meterChannel, apdu []byte) ([]byte, error) {
	h, plain, err := c.opener.Open(nil, apdu)
	if err != nil && !errors.Is(err, protocol.ErrAuthentication) {
		return nil, err // malformed: no counter to speak of
	}
	authErr := err
	m := c.machine
	ctr := int64(h.Counter)
	ev := channelEvent{Kind: channelReceive, M: channelNet{K: m.State.Gkey, C: ctr, Auth: authErr == nil}}
	if authErr != nil {
		st := m.State
		if err := g.chStep(&c.params, &st, ev, &g.chOut); err != nil {
			if errors.Is(err, statemachine.ErrNotEnabled) {
				return nil, fmt.Errorf("%w: counter %d: %w", protocol.ErrReplay, h.Counter, err)
			}
			return nil, err
		}
		return nil, authErr
	}
	var remote uint64
	if c.rec != nil {
		if p, err := protocol.UnmarshalPDU(plain); err == nil {
			remote = p.Clock
		}
	}
	now, err := c.receive(remote, ev, &g.chOut)
	if err != nil {
		if errors.Is(err, statemachine.ErrNotEnabled) {
			return nil, fmt.Errorf("%w: counter %d: %w", protocol.ErrReplay, h.Counter, err)
		}
		return nil, err
	}
	if slices.Contains(g.chOut.SeenAdd, ctr) {
		c.window.Update(h.Counter)
		if c.rec != nil {
			c.seen = append(c.seen, ctr)
		}
	}
	if err := c.record(now, g.chOut.Action, ev); err != nil {
		return nil, err
	}
	return plain, nil
}
