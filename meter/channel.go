package meter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// channelMachine is the meter's generated machine of spec/Channel.tla: it
// decides which invocation counter an APDU is sealed under (Seal), when a
// block of counters is made durable (Reserve) and which key epoch a key
// agreement starts (Agree); a restart is its Crash.
type channelMachine = statemachine.Instance[channelState, channelEvent, channelOutput]

// ErrChannelState is a counter store whose channel records do not fit
// together (an epoch or a reservation beyond what the machine can hold).
var ErrChannelState = errors.New("meter: channel state in the counter store is inconsistent")

// epochKey is the counter-store key of the meter's key epoch (mkey of
// spec/Channel.tla, @persist): the number of key agreements it answered,
// plus one. The store keeps the highest value, and epochs only grow.
var epochKey = [8]byte{'c', 'h', 'a', 'n', 'e', 'p', 'o', 'c'}

// agreedAtKey is the counter-store key of the Lamport time carried by the
// key agreement of the meter's latest Agree (the time of the gateway's
// Rekey), kept only when the meter keeps a trace. A restart that logs an
// Agree its log lacks (logUnlogged) logs it after that time, as the Agree
// itself would have been: the Rekey comes before it in the logs. Lamport
// times grow, and the store keeps the highest value.
var agreedAtKey = [8]byte{'c', 'h', 'a', 'n', 'a', 'g', 'a', 't'}

// epochSlot is the counter-store key under which the key id of epoch e is
// kept (as the 8 bytes of a uint64), so that a restart finds the
// reservation of the session it sealed under (reserved, @persist).
func epochSlot(e int64) [8]byte {
	k := [8]byte{'k', 'e', 'y', '#'}
	binary.BigEndian.PutUint32(k[4:], uint32(e))
	return k
}

// channel is the meter's sending side of the channel to its gateway: the
// generated machine takes every decision, protocol.Sealer does the
// AES-GCM, and the counter store keeps the machine's @persist variables
// (reserved per key id, as protocol.Sender does; mkey and its key id).
type channel struct {
	machine     channelMachine
	persistHook func(*channelState, *channelOutput) error // c.persist, set on the machine for the steps that write
	out         channelOutput
	sealer      *protocol.Sealer // nil until a key agreement (keys are not persisted)
	store       protocol.CounterStore
	agreed      [8]byte // key id of the agreement being stepped (what Persist writes)
	agreedAt    uint64  // Lamport time its key agreement carried (0 without a trace)
}

// init builds the machine and restores its durable part after a restart:
// the epoch, its key id and that key's reservation. The meter's power loss
// is then the spec's Crash: the next counter is the durable reservation.
func (c *channel) init(store protocol.CounterStore, rec *statemachine.Recorder) error {
	p := &channelParams{Block: protocol.CounterBlock, MaxCtr: math.MaxUint32 + 1}
	c.store = store
	c.out.Net = make([]channelNet, 0, 1)
	c.persistHook = c.persist
	c.machine = channelMachine{Role: "meter", Name: "meter", Step: p.Step, State: p.Init(),
		Action: func(o *channelOutput) string { return o.Action }, Rec: rec}
	if rec != nil {
		c.machine.Resume()
	}
	e, err := store.Reserved(epochKey)
	if err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
	}
	if e == 0 {
		return nil // never agreed: the spec's initial state
	}
	if e > math.MaxInt32 {
		return fmt.Errorf("%w: epoch %d", ErrChannelState, e)
	}
	id, err := store.Reserved(epochSlot(int64(e)))
	if err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
	}
	var kid [8]byte
	binary.BigEndian.PutUint64(kid[:], id)
	r, err := store.Reserved(kid)
	if err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
	}
	if r > math.MaxInt64 {
		return fmt.Errorf("%w: reservation %d", ErrChannelState, r)
	}
	if err := c.logUnlogged(int64(e), int64(r)); err != nil {
		return err
	}
	c.machine.State.Mkey, c.machine.State.Reserved = int64(e), int64(r)
	_, err = c.machine.Apply(0, channelEvent{Kind: channelPowerLoss}, &c.out)
	return err
}

// maxUnlogged bounds the durable steps a restart logs for its log (see
// logUnlogged): one kill loses at most the step it interrupted.
const maxUnlogged = 8

// logUnlogged continues the log of an earlier incarnation (a process
// killed and started again). A durable step is logged after its write, so
// a kill between the two leaves an Agree or a Reserve in the counter store
// (epoch e, reservation r) that the log lacks; the restart logs it before
// its Crash, as the spec's step it was. The log's last state gives the seal
// count (sent, which only tells the spec's plaintexts apart) and the
// durable state the log had reached; the steps are the generated machine's,
// without persistence (they are durable already). This only writes the
// log: whatever it finds, the meter restarts from its store (init), and a
// log these steps do not bring to the store's state is left for the trace
// check to reject.
//
// An Agree is logged after the Lamport time its key agreement carried,
// which the store keeps with it (agreedAtKey), as agree logs it. The
// gateway never got that agreement's answer: it logs the agreement's Rekey
// when a later answer gives it the meter's number (gateway.rekey), at or
// after the time the agreement carried. At the restart's own time (the
// meter's clock is behind the gateway's, whose Receives observe the
// meter's Seals) the Agree would come before its Rekey in the merged logs,
// which spec/Channel.tla does not allow (Agree(k) needs k \in kas).
func (c *channel) logUnlogged(e, r int64) error {
	if c.machine.Rec == nil {
		return nil // no log to continue
	}
	// A log with no line yet continues from the spec's initial state (the
	// machine's state until init restores the store's): a kill between
	// the first agreement's writes and its line leaves an empty log.
	last := c.machine.State
	if raw := c.machine.Rec.LastState(); raw != nil {
		var logged channelState
		if err := json.Unmarshal(raw, &logged); err != nil {
			return nil
		}
		last = logged
	}
	if last.Mkey < 1 || last.Mkey > e {
		return nil
	}
	at, err := c.store.Reserved(agreedAtKey)
	if err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
	}
	c.machine.State = last
	for range maxUnlogged {
		ev, remote := channelEvent{Kind: channelReserve}, uint64(0)
		switch st := c.machine.State; {
		case st.Mkey < e:
			ev, remote = channelEvent{Kind: channelKeyAgreement, K: st.Mkey + 1}, at
		case st.Reserved >= r:
			return nil
		}
		_, err := c.machine.Apply(remote, ev, &c.out)
		if errors.Is(err, statemachine.ErrNotEnabled) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// durable applies an event whose action assigns @persist variables
// (Reserve, Agree) with the persistence hook on the machine: the write
// happens after Step and before the step counts, and a failed write undoes
// the step (statemachine.Instance). Seal assigns none, so the hot path runs
// without the hook (next checks that it still assigns none).
func (c *channel) durable(remote uint64, ev channelEvent) (uint64, error) {
	c.machine.Persist = c.persistHook
	now, err := c.machine.Apply(remote, ev, &c.out)
	c.machine.Persist = nil
	return now, err
}

// persist makes a step durable before it counts (statemachine.Instance):
// a Reserve writes the reservation of the session's key id, an Agree the
// Lamport time its key agreement carried (with a trace, for logUnlogged),
// the new key id and then the epoch, so the epoch never names a missing
// key nor an Agree whose time is lost.
func (c *channel) persist(s *channelState, o *channelOutput) error {
	if !o.Persist {
		return nil
	}
	switch o.Action {
	case "Reserve":
		if c.sealer == nil {
			return ErrNoSession
		}
		return c.store.Reserve(c.sealer.KeyID(), uint64(s.Reserved))
	case "Agree":
		if c.agreedAt != 0 {
			if err := c.store.Reserve(agreedAtKey, c.agreedAt); err != nil {
				return err
			}
		}
		if err := c.store.Reserve(epochSlot(s.Mkey), binary.BigEndian.Uint64(c.agreed[:])); err != nil {
			return err
		}
		return c.store.Reserve(epochKey, uint64(s.Mkey))
	}
	return nil
}

// agree steps the meter's Agree once the key agreement's signatures
// verified and its keys are derived (keys): the meter answers it as the
// next epoch after its own (the wire message carries no epoch; the meter
// numbers the agreements it answers) and seals under the new key with
// counters from 0, the new key id being a fresh counter in the store.
// remote is the Lamport time of the gateway's Rekey the agreement carried
// (0 if none).
func (c *channel) agree(keys protocol.SessionKeys, remote uint64) error {
	sealer, err := protocol.NewSealer(keys)
	if err != nil {
		return err
	}
	if r, err := c.store.Reserved(keys.KeyID); err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrCounterStore, err)
	} else if r != 0 {
		// A key id seen before would restart its counters at 0: never.
		return fmt.Errorf("%w: key id %x already has counters", ErrChannelState, keys.KeyID)
	}
	c.agreed, c.agreedAt = keys.KeyID, remote
	if _, err := c.durable(remote, channelEvent{Kind: channelKeyAgreement, K: c.machine.State.Mkey + 1}); err != nil {
		return err
	}
	c.sealer = sealer
	return nil
}

// next takes the machine's Seal for one APDU and returns the counter it
// chose and the step's Lamport time. When Seal is not enabled (the durable
// reservation is used up) the machine's Reserve makes the next block
// durable first, and Seal is tried again.
func (c *channel) next() (uint64, uint64, error) {
	if c.sealer == nil {
		return 0, 0, ErrNoSession
	}
	now, err := c.send()
	if err != nil && errors.Is(err, statemachine.ErrNotEnabled) {
		if _, err = c.durable(0, channelEvent{Kind: channelReserve}); err != nil {
			return 0, 0, err
		}
		now, err = c.send()
	}
	if err != nil {
		return 0, 0, err
	}
	if c.out.Persist {
		// A spec whose Seal assigns a @persist variable: write it before
		// the counter is used (if the write fails, the counter is burned
		// unused, which never reuses a nonce).
		if err := c.persist(&c.machine.State, &c.out); err != nil {
			return 0, 0, err
		}
	}
	return uint64(c.out.Net[0].C), now, nil
}

// send takes the machine's Seal. Without a recorder or a persistence hook
// it is statemachine.Instance's Apply without the generic call: the
// machine's Step on its state, then the clock's tick, as Apply does (the
// seal path's bound is 1.25x raw AES-GCM); with a recorder, Apply itself,
// which records the step.
func (c *channel) send() (uint64, error) {
	ev := channelEvent{Kind: channelSend}
	if c.machine.Rec != nil || c.machine.Persist != nil {
		return c.machine.Apply(0, ev, &c.out)
	}
	if err := c.machine.Step(&c.machine.State, ev, &c.out); err != nil {
		return 0, err
	}
	return c.machine.Clock.Tick()
}

// seal is the meter's whole seal path: the machine's decision, then the
// AES-GCM under the counter it chose. With capacity in dst and no trace
// recorder it does not allocate.
func (c *channel) seal(dst []byte, tag byte, plaintext []byte) ([]byte, error) {
	ctr, _, err := c.next()
	if err != nil {
		return dst, err
	}
	return c.sealer.Seal(dst, tag, ctr, plaintext)
}
