package sim

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/protocol"
)

// attacks is the Dolev-Yao attacker on the PLC medium (step 6): it
// records what crosses the medium and replays, reorders, alters and forges.
// Each attack class counts what it tried and why each try was refused.
func (w *world) attacks(rep *Report) error {
	newTally := func(class string) *AttackTally {
		return &AttackTally{Class: class, Reasons: map[string]int{}}
	}
	replayDown := newTally("replayed request to a meter")
	replayUp := newTally("replayed meter data to the gateway")
	reorder := newTally("reordered requests")
	tamper := newTally("tampered ciphertext")
	forged := newTally("forged key agreement")
	try := func(t *AttackTally, err error, want ...error) {
		t.Tried++
		c := reasonClass(err)
		if c == "" {
			c = "accepted"
		}
		t.Reasons[c]++
		for _, e := range want {
			if errors.Is(err, e) {
				t.Rejected++
				return
			}
		}
	}
	// The attacker records what crosses the medium.
	type rec struct {
		meter protocol.SystemTitle
		dir   gateway.Direction
		apdu  []byte
	}
	var seen []rec
	for _, g := range w.gws {
		prev := g.seg.Tap
		g.seg.Tap = func(m protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
			if prev != nil {
				prev(m, dir, apdu)
			}
			seen = append(seen, rec{m, dir, append([]byte(nil), apdu...)})
		}
	}
	sample := w.meters[:min(len(w.meters), 20)]
	for _, n := range sample {
		if _, err := n.gw.g.ReadNow(n.cfg.Title); err != nil {
			continue
		}
	}
	byMeter := map[protocol.SystemTitle]*meterNode{}
	for _, n := range w.meters {
		byMeter[n.cfg.Title] = n
	}
	for _, r := range seen {
		n := byMeter[r.meter]
		if len(r.apdu) == 0 || r.apdu[0] == protocol.TagKeyAgreement {
			continue
		}
		if r.dir == gateway.Down {
			try(replayDown, n.gw.seg.InjectDown(r.meter, r.apdu), protocol.ErrOutOfOrder, protocol.ErrReplay)
		} else {
			try(replayUp, w.replayUp(n, r.apdu), protocol.ErrReplay)
		}
	}
	for _, n := range sample {
		// The attacker takes three requests of the gateway off the medium
		// (each read then goes unanswered).
		n.gw.seg.Intercept(n.cfg.Title, 3)
		for range 3 {
			n.gw.g.ReadNow(n.cfg.Title)
		}
		held := n.gw.seg.Intercepted(n.cfg.Title)
		if len(held) != 3 {
			return fmt.Errorf("attacker: %d of 3 requests to %x intercepted", len(held), n.cfg.Title)
		}
		a1, a2, a3 := held[0], held[1], held[2]
		// Deliver the later one first: it is accepted; the earlier one
		// then arrives out of order and is refused.
		n.gw.seg.InjectDown(n.cfg.Title, a2)
		try(reorder, n.gw.seg.InjectDown(n.cfg.Title, a1), protocol.ErrOutOfOrder)
		a3[7+w.rng.IntN(len(a3)-7)] ^= 1 << w.rng.IntN(8)
		try(tamper, n.gw.seg.InjectDown(n.cfg.Title, a3), protocol.ErrAuthentication)
		// A key agreement signed with the attacker's own key.
		_, init, err := protocol.StartKeyAgreement(protocol.Suite1, n.gw.cfg.Title, n.cfg.Title, key(), nil, rand.Reader)
		if err != nil {
			continue
		}
		wire, _ := init.Marshal()
		try(forged, n.gw.seg.InjectDown(n.cfg.Title, append([]byte{protocol.TagKeyAgreement}, wire...)), meter.ErrUntrusted)
	}
	for _, t := range []*AttackTally{replayDown, replayUp, reorder, tamper, forged} {
		rep.Fig.Attacks = append(rep.Fig.Attacks, *t)
		rep.add(StepAttacker, t.Class, t.Tried > 0 && t.Rejected == t.Tried,
			fmt.Sprintf("%d of %d refused (%s)", t.Rejected, t.Tried, Classes(t.Reasons)), "all refused, > 0 tried", "")
	}
	return nil
}

// replayUp slips a recorded APDU of meter n in before its answers to the
// next read, and returns the gateway's verdict on it: the error the gateway
// recorded for it, nil if it took it.
func (w *world) replayUp(n *meterNode, apdu []byte) error {
	g := n.gw.g
	before := g.Refused.Total()
	if err := n.gw.seg.InjectUp(n.cfg.Title, apdu); err != nil {
		return err
	}
	if _, err := g.ReadNow(n.cfg.Title); err != nil {
		return fmt.Errorf("read after the replay: %w", err)
	}
	if g.Refused.Total() == before {
		return nil
	}
	last := g.Refused.Last()
	return last[len(last)-1]
}
