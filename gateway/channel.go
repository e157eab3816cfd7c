package gateway

import (
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
func (tagVerified) Authentic(m ChannelNet) bool { return m.Auth }

// chStepFunc is the generated Step of the gateway's Channel machine with
// the machine's @store seen given per step (tests put a mutant here).
type chStepFunc func(ChannelStore, *ChannelState, ChannelEvent, *ChannelOutput) error

// channelStep is the generated Step of the gateway's Channel machine with
// the tag check of tagVerified and seen read from store.
func channelStep(store ChannelStore, s *ChannelState, ev ChannelEvent, out *ChannelOutput) error {
	p := ChannelParams{Crypto: tagVerified{}, Store: store}
	return p.Step(s, ev, out)
}

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
// meter: the key epoch of the generated machine's state (gkey) and the
// replay window, RFC 6479's sliding bitmap, which holds the machine's
// @store seen (the set of counters accepted under the current key) outside
// the machine (windowStore).
type meterChannel struct {
	opener *protocol.Opener
	gkey   int64
	window protocol.ReplayWindow
}

// rekey takes the machine's Rekey for a key agreement whose signatures
// verified and whose keys are derived (keys): the next epoch, an empty
// window.
func (g *Gateway) rekey(prev *meterChannel, keys protocol.SessionKeys) (*meterChannel, error) {
	o, err := protocol.NewOpener(keys)
	if err != nil {
		return nil, err
	}
	st := ChannelState{Gkey: 1}
	if prev != nil {
		st.Gkey = prev.gkey
	}
	if err := g.chStep(windowStore{}, &st, ChannelEvent{Kind: ChannelKeyAgreement}, &g.chOut); err != nil {
		return nil, err
	}
	if len(g.chOut.SeenAdd) != 0 {
		return nil, fmt.Errorf("gateway: Rekey added %d counters to the window", len(g.chOut.SeenAdd))
	}
	return &meterChannel{opener: o, gkey: st.Gkey}, nil
}

// open authenticates an APDU from the meter and takes the machine's
// Receive: the tag is checked first (its outcome is the event's auth), the
// machine's seen is the window's verdict on this counter (a counter the
// window has seen, or one older than it reaches, is in seen; the sliding
// window refuses those old counters where the spec would accept them,
// which only leaves out behaviours), and the machine decides: a counter in
// seen is refused as a replay, an APDU whose tag did not verify changes
// nothing and is refused, an authentic one is recorded in the window only
// when the machine put it into seen.
func (g *Gateway) open(c *meterChannel, apdu []byte) ([]byte, error) {
	h, plain, err := c.opener.Open(nil, apdu)
	if err != nil && !errors.Is(err, protocol.ErrAuthentication) {
		return nil, err // malformed: no counter to speak of
	}
	authErr := err
	// The machine's state for this counter, in a buffer the gateway
	// reuses (a state passed to Step through a func value would otherwise
	// be allocated per APDU).
	st := &g.chState
	st.Gkey = c.gkey
	ctr := int64(h.Counter)
	ev := ChannelEvent{Kind: ChannelReceive, M: ChannelNet{K: c.gkey, C: ctr, Auth: authErr == nil}}
	if err := g.chStep(windowStore{&c.window}, st, ev, &g.chOut); err != nil {
		if errors.Is(err, statemachine.ErrNotEnabled) {
			return nil, fmt.Errorf("%w: counter %d: %w", protocol.ErrReplay, h.Counter, err)
		}
		return nil, err
	}
	if authErr != nil {
		return nil, authErr
	}
	if slices.Contains(g.chOut.SeenAdd, ctr) {
		c.window.Update(h.Counter)
	}
	return plain, nil
}
