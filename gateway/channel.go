package gateway

import (
	"errors"
	"fmt"

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

// channelStep is the generated Step of the gateway's Channel machine with
// the tag check of tagVerified.
var channelStep = (&ChannelParams{Crypto: tagVerified{}}).Step

// meterChannel is the gateway's receiving side of the channel with one
// meter: the key epoch of the generated machine's state (gkey) and the
// replay window, RFC 6479's sliding bitmap, which holds the machine's seen
// (the set of counters accepted under the current key) outside the
// machine: a set as large as a key's counters does not fit a generated
// state (statemachine.SetCap).
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
	if err := g.chStep(&st, ChannelEvent{Kind: ChannelKeyAgreement}, &g.chOut); err != nil {
		return nil, err
	}
	if st.Seen.Len() != 0 {
		return nil, fmt.Errorf("gateway: Rekey left %d counters in the window", st.Seen.Len())
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
	st.Seen.Clear()
	ctr := int64(h.Counter)
	if c.window.Check(h.Counter) != nil {
		st.Seen.Insert(ctr, statemachine.CompareInt)
	}
	ev := ChannelEvent{Kind: ChannelReceive, M: ChannelNet{K: c.gkey, C: ctr, Auth: authErr == nil}}
	if err := g.chStep(st, ev, &g.chOut); err != nil {
		if errors.Is(err, statemachine.ErrNotEnabled) {
			return nil, fmt.Errorf("%w: counter %d: %w", protocol.ErrReplay, h.Counter, err)
		}
		return nil, err
	}
	if authErr != nil {
		return nil, authErr
	}
	if st.Seen.Has(ctr, statemachine.CompareInt) {
		c.window.Update(h.Counter)
	}
	return plain, nil
}
