package gateway

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// ErrWakeUp marks a refused wake-up.
var ErrWakeUp = errors.New("gateway: wake-up refused")

// wakeUpRecord is the journal record of an accepted wake-up: its counter,
// 8 bytes big-endian.
const wakeUpRecord = 1

// openWakeUps opens the journal of accepted wake-up counters (a file of
// its own in the gateway's directory, compacted to the last record) and
// returns it with the last counter accepted. A wake-up's counter is
// durable before the gateway calls out, so a recorded wake-up replayed
// after a restart, or to the next `gateway run`, is refused.
func openWakeUps(cfg Config) (*journal.Journal, uint64, error) {
	path := ""
	if cfg.Dir != "" {
		path = filepath.Join(cfg.Dir, "wakeup")
	}
	j, err := journal.OpenWith(path, journal.Options{FS: cfg.fs, Live: func(recs []journal.Record) []journal.Record {
		return recs[max(len(recs)-1, 0):]
	}})
	if err != nil {
		return nil, 0, fmt.Errorf("%w: wake-up counters: %w", ErrQueue, err)
	}
	var last uint64
	err = j.Each(wakeUpRecord, func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("%w: wake-up record of %d bytes", ErrQueue, len(b))
		}
		last = binary.BigEndian.Uint64(b)
		return nil
	})
	if err != nil {
		j.Close()
		return nil, 0, err
	}
	return j, last, nil
}

// AcceptWakeUp checks a signed wake-up from the head-end (protocol.CmdWakeUp
// for this gateway, signed with the head-end's command key headEnd, its
// counter above the last one accepted, so a recorded wake-up cannot be
// replayed) and, if it holds, makes its counter durable. Only on nil does
// the caller connect out (Flush or Forward): the gateway never listens on
// the WAN, and this is how the head-end asks it to call (the operator
// API's wake-up, delivered by a side channel such as SMS). A refusal is
// ErrWakeUp; a counter that could not be made durable is ErrQueue.
func (g *Gateway) AcceptWakeUp(signed []byte, headEnd *ecdsa.PublicKey) error {
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		if !bytes.Equal(kid, protocol.SubjectKeyID(headEnd)) {
			return nil, nil, fmt.Errorf("%w: unknown signer", ErrWakeUp)
		}
		return headEnd, func(k protocol.CommandKind) bool { return k == protocol.CmdWakeUp }, nil
	}
	c, err := protocol.VerifyCommand(signed, g.cfg.Title, keys)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWakeUp, err)
	}
	if c.Counter <= g.lastWakeUp {
		return fmt.Errorf("%w: counter %d not above %d", ErrWakeUp, c.Counter, g.lastWakeUp)
	}
	if err := g.wakeUps.Append(wakeUpRecord, binary.BigEndian.AppendUint64(nil, c.Counter), true); err != nil {
		return fmt.Errorf("%w: wake-up counter %d: %w", ErrQueue, c.Counter, err)
	}
	g.lastWakeUp = c.Counter
	return nil
}
