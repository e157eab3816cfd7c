package meter

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/verimeter/verimeter/protocol"
)

// TestDisconnectNeedsTwoDistinctApprovers: a disconnect the head-end
// signed runs only with approvals, over that command, of two distinct
// approver keys of the meter's trust list (spec/Commands.tla
// ExecuteDisconnect, S6_FourEyes). The head-end's signature alone, one
// approval, one approver counted twice, an approval by a key the trust
// list does not name as an approver (the head-end's own) and approvals
// made for another command are refused with ErrApprovals; nothing runs
// and the counter is not used up. Two distinct approvers run it.
func TestDisconnectNeedsTwoDistinctApprovers(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.staff[0], k.staff[1]
	disc := protocol.Command{Counter: 3, Kind: protocol.CmdDisconnect, Issued: 1700000000}
	// Approvals made for counter 2, carried by counter 3.
	moved := func() []byte {
		c := disc
		c.Meter = m.title()
		c.Counter = 2
		for _, s := range []*ecdsa.PrivateKey{a, b} {
			ap, err := protocol.SignApproval(c, s, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			c.Approvals = append(c.Approvals, ap)
		}
		c.Counter = 3
		out, err := protocol.SignCommand(c, k.heKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		body []byte
		also error
	}{
		{"head-end signature alone", k.signCommand(t, m, disc), nil},
		{"one approver", k.signCommand(t, m, disc, a), nil},
		{"one approver twice", k.signCommand(t, m, disc, a, a), nil},
		{"the head-end's key as an approver", k.signCommand(t, m, disc, a, k.heKey), nil},
		{"approvals of another counter", moved(), protocol.ErrApproval},
	} {
		_, err := m.command(protocol.PDU{Kind: protocol.PDUCommand, Body: tc.body})
		if !errors.Is(err, ErrApprovals) || tc.also != nil && !errors.Is(err, tc.also) {
			t.Fatalf("%s: %v, want ErrApprovals", tc.name, err)
		}
		if m.breakerState() != breakerClosed || m.cmds.State.Last != 0 {
			t.Fatalf("%s: refused, yet breaker %s and last counter %d", tc.name, m.breakerState(), m.cmds.State.Last)
		}
	}
	// A non-disconnect runs on the head-end's signature (one approver
	// suffices, and the meter does not count it).
	if _, err := m.command(protocol.PDU{Kind: protocol.PDUCommand, Body: k.signCommand(t, m, protocol.Command{Counter: 1, Kind: protocol.CmdTariff, Tariff: 2})}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.command(protocol.PDU{Kind: protocol.PDUCommand, Body: k.signCommand(t, m, disc, b, a)}); err != nil {
		t.Fatalf("two distinct approvers: %v", err)
	}
	if m.breakerState() != breakerOpen || m.cmds.State.Last != 3 {
		t.Fatalf("approved disconnect: breaker %s, last counter %d", m.breakerState(), m.cmds.State.Last)
	}
}
