package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/protocol"
)

// StepTamper is the demo's tamper step (UC9), reported between the
// attacker and the operator change.
const StepTamper = "6b tamper"

// Tamper is the in-process WAN path of tamper events (gateway.TamperUplink);
// it is down when the gateway's WAN is.
func (u uplink) Tamper(ctx context.Context, gw string, b protocol.TamperBatch) (protocol.TamperBatch, error) {
	if u.w.wanDown[gw] {
		return protocol.TamperBatch{}, gateway.ErrWANDown
	}
	return u.w.he.Tamper(ctx, gw, b)
}

// TamperFigures are what the tamper step measured.
type TamperFigures struct {
	Detected, Meters     int
	QueuedDuringOutage   int
	QueueAfterRestart    int
	Uploads, Acked       int
	Stored, Alarms       int
	StillPending         int
	AlarmsAcknowledged   int
	RefusedAltered       bool
	DuplicateAlarmRaised bool
}

// tamper runs UC9 on a few meters of gateway 0: covers opened (one meter
// also sees a magnetic field), events collected during a WAN outage, the gateway restarted with them
// queued, uploaded when the WAN is back, resent once before the
// acknowledgements reach the meters (the head-end stores each once and
// raises one alarm), acknowledged end to end; an altered event is refused;
// an operator acknowledges an alarm.
func (w *world) tamper(rep *Report) error {
	ctx := context.Background()
	g := w.gws[0]
	var nodes []*meterNode
	for _, n := range w.meters {
		if n.gw == g && n.cfg.Dir != "" && len(nodes) < 3 {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	var f TamperFigures
	f.Meters = len(nodes)
	for i, n := range nodes {
		if _, err := n.m.Tamper(protocol.TamperCover, w.now); err != nil {
			return err
		}
		f.Detected++
		if i == 1 {
			if _, err := n.m.Tamper(protocol.TamperMagnetic, w.now); err != nil {
				return err
			}
			f.Detected++
		}
	}
	// Collected while the WAN is down: the gateway holds them.
	w.wanDown[g.name] = true
	for _, n := range nodes {
		if _, err := g.g.CollectTamper(n.cfg.Title); err != nil {
			return err
		}
	}
	if _, err := g.g.UploadTamper(ctx, uplink{w}); !errors.Is(err, gateway.ErrWANDown) {
		return fmt.Errorf("upload during the outage: %v, want ErrWANDown", err)
	}
	f.QueuedDuringOutage = g.g.TamperQueued()
	// The gateway restarts with the events queued.
	if err := w.restartGateway(g); err != nil {
		return err
	}
	f.QueueAfterRestart = g.g.TamperQueued()
	w.wanDown[g.name] = false
	acked, err := g.g.UploadTamper(ctx, uplink{w})
	if err != nil {
		return err
	}
	f.Uploads, f.Acked = f.Uploads+1, f.Acked+acked
	// The meters have not seen the acknowledgements yet: they resend, the
	// gateway queues again, the head-end answers duplicates.
	alarmsBefore, err := w.alice.alarms(ctx, false)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if _, err := g.g.CollectTamper(n.cfg.Title); err != nil {
			return err
		}
	}
	if _, err := g.g.UploadTamper(ctx, uplink{w}); err != nil {
		return err
	}
	f.Uploads++
	alarms, err := w.alice.alarms(ctx, false)
	if err != nil {
		return err
	}
	f.DuplicateAlarmRaised = len(alarms) != len(alarmsBefore)
	for _, n := range nodes {
		if _, err := g.g.RelayTamperAcks(n.cfg.Title); err != nil {
			return err
		}
		f.StillPending += n.m.Status().TamperPending
	}
	f.Alarms = len(alarms)
	// An altered event (a compromised gateway flips a byte of the kind)
	// is refused with a typed error and stores nothing.
	ev, err := w.signedEventOf(nodes[0])
	if err != nil {
		return err
	}
	bad := append([]byte(nil), ev...)
	bad[len(bad)-1] ^= 0x01
	refusedBefore, err := w.auditCount(ctx, "tamper-rejected", "signature")
	if err != nil {
		return err
	}
	acks, err := w.he.Tamper(ctx, g.name, protocol.TamperBatch{Items: [][]byte{bad}})
	if err != nil {
		return err
	}
	refusedAfter, err := w.auditCount(ctx, "tamper-rejected", "signature")
	if err != nil {
		return err
	}
	f.RefusedAltered = len(acks.Items) == 0 && refusedAfter == refusedBefore+1
	if len(alarms) > 0 {
		if err := w.alice.ackAlarm(ctx, alarms[0].ID); err != nil {
			return err
		}
		open, err := w.alice.alarms(ctx, true)
		if err != nil {
			return err
		}
		f.AlarmsAcknowledged = len(alarms) - len(open)
	}
	f.Stored = len(alarms)
	rep.add(StepTamper, "tamper events: one alarm per event, stored once despite resends", f.Alarms == f.Detected && !f.DuplicateAlarmRaised,
		fmt.Sprintf("%d events on %s, %d alarms raised, %d acknowledged end to end in %d uploads", f.Detected, plural(f.Meters, "meter"), f.Alarms, f.Acked, f.Uploads),
		fmt.Sprintf("%d alarms, no duplicate", f.Detected), "")
	rep.add(StepTamper, "tamper events survive a WAN outage and a gateway restart, kept by the meters until acknowledged", f.QueuedDuringOutage == f.Detected && f.QueueAfterRestart == f.Detected && f.StillPending == 0,
		fmt.Sprintf("%d queued during the outage, %d after restart; %d unacknowledged at the meters", f.QueuedDuringOutage, f.QueueAfterRestart, f.StillPending),
		fmt.Sprintf("all %d queued, 0 unacknowledged", f.Detected), "")
	rep.add(StepTamper, "altered tamper event refused; operator acknowledges an alarm", f.RefusedAltered && f.AlarmsAcknowledged == 1,
		fmt.Sprintf("altered refused: %v; %d alarm acknowledged", f.RefusedAltered, f.AlarmsAcknowledged), "refused; 1", "")
	return nil
}

// signedEventOf signs an event with a meter's key as the meter would, for
// the altered-event check (its signature is then altered: the gateway's
// forgery).
func (w *world) signedEventOf(n *meterNode) ([]byte, error) {
	s, err := protocol.NewMeterSigner(n.cfg.Title, n.cfg.SigningKey, n.cfg.Rand)
	if err != nil {
		return nil, err
	}
	return s.SignEvent(protocol.Event{Meter: n.cfg.Title, Counter: 1000, Time: w.now.Unix(), Code: protocol.EventCoverOpened})
}

// restartMeter is a meter's power loss: it is closed and built again from
// its directory, put back on its segment and recommissioned.
func (w *world) restartMeter(n *meterNode) error {
	if err := n.m.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
		return err
	}
	m, err := meter.New(n.cfg)
	if err != nil {
		return err
	}
	n.m = m
	if err := n.gw.seg.Replace(n.cfg.Title, n.addr, m); err != nil {
		return err
	}
	return n.gw.g.Commission(n.cfg.Title, n.channelPub)
}

// auditCount counts the audit log's entries of action whose detail
// contains word: how an operator sees what the head-end refused (the
// operator API's audit log).
func (w *world) auditCount(ctx context.Context, action, word string) (int, error) {
	log, err := w.alice.audit(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range log {
		if e.Action == action && strings.Contains(e.Detail, word) {
			n++
		}
	}
	return n, nil
}
