package meter

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/statemachine"
)

// maxUnloggedFirmware bounds the durable steps a restart logs for its
// Firmware log (see logUnloggedFirmware): a kill loses at most the line of
// the step it interrupted, and an install is six durable writes.
const maxUnloggedFirmware = 8

// durableFirmware is s without the core's volatile position (pc, fcause):
// what the store keeps of the machine's state.
func durableFirmware(s firmwareState) firmwareState {
	s.Pc, s.Fcause = "", ""
	return s
}

// logUnloggedFirmware continues the Firmware log of an earlier incarnation
// (a meter killed and started again) up to the durable state st the store
// gives. Each durable step is logged after its write, so a kill between
// the two leaves the step in the store and not in the log; the restart
// logs it, as the spec's step it was, from the log's last state: the next
// step of the install the log's position names (the attempt's Offer, the
// slot write, the activation, the self-test's entry, the floor, the
// clearing, the rollback, the settling), until the log's durable state is
// the store's. It returns the log's last state brought to st (its pc and
// fcause continue the log's: a restart while idle changes neither in the
// spec); a log with no line yet is continued from the spec's initial
// state. This only writes the log: the core restarts from its store
// whatever it finds, and a log these steps do not bring to the store's
// state is left for the trace check to reject.
func (c *Core) logUnloggedFirmware(st firmwareState) (firmwareState, error) {
	if c.rec == nil {
		return st, nil
	}
	// A log without a line continues from the spec's initial state: a
	// kill between the first install's first write and its line (the
	// Offer) leaves an empty log and the attempt in the store.
	last := c.params.Init()
	if raw := c.rec.LastState(); raw != nil {
		var err error
		if last, err = decodeFirmwareState(raw); err != nil {
			return st, nil
		}
	}
	c.m.State = last
	for range maxUnloggedFirmware {
		if durableFirmware(c.m.State) == durableFirmware(st) {
			break
		}
		var ev firmwareEvent
		switch s := c.m.State; s.Pc {
		case "idle":
			if st.Trial == (firmwareManifest{}) || s.Trial != (firmwareManifest{}) {
				return st, nil // not an admitted attempt: nothing this can explain
			}
			ev = firmwareEvent{Kind: firmwareOffer, M: st.Trial, Chk: "ok"}
		case "admitted":
			ev.Kind = firmwareWrite
		case "written":
			ev.Kind = firmwareActivate
		case "trial":
			ev.Kind = firmwareSelftestFail
			if c.LogbookHas(firmwareEntry{N: s.Tseq, V: s.Trial.V, Outcome: "installed"}) {
				ev.Kind = firmwareSelftestPass
			}
		case "commit":
			ev.Kind = firmwareRaiseFloor
		case "clear":
			ev.Kind = firmwareClear
		case "rollback":
			ev.Kind = firmwareRollback
		case "settle":
			ev.Kind = firmwareSettle
		default:
			return st, nil
		}
		if err := c.stepLogged(ev); err != nil {
			if errors.Is(err, statemachine.ErrNotEnabled) {
				return st, nil
			}
			return st, err
		}
	}
	st.Pc, st.Fcause = "idle", c.m.State.Fcause
	return st, nil
}

// stepLogged applies ev to the machine without persistence (the step is
// durable already) and records it with the logbook entries the step's
// state counts.
func (c *Core) stepLogged(ev firmwareEvent) error {
	persist := c.m.Persist
	c.m.Persist = nil
	defer func() { c.m.Persist = persist }()
	now, err := c.m.Apply(0, ev, &c.out)
	if err != nil {
		return err
	}
	n := min(int(c.m.State.Entries), len(c.logbook))
	st := tracedFirmware{firmwareState: c.m.State, Logbook: make([]firmwareEntry, n)}
	for i, e := range c.logbook[:n] {
		st.Logbook[i] = firmwareEntry{N: int64(e.Seq), V: int64(e.NewVersion), Outcome: e.Event, Cause: string(e.Cause)}
	}
	if err := c.rec.Record(c.m.Role, c.m.Name, now, c.out.Action, ev, st); err != nil {
		return fmt.Errorf("statemachine: recording %s: %w", c.out.Action, err)
	}
	return nil
}

// loggedManifest is a firmwareManifest as a log line holds it (its
// signers a JSON array).
type loggedManifest struct {
	V                int64    `json:"v"`
	Sv               int64    `json:"sv"`
	Lr               bool     `json:"lr"`
	Sigs             []string `json:"sigs"`
	ReplacesVerifier bool     `json:"replacesVerifier"`
}

func (l loggedManifest) manifest() firmwareManifest {
	m := firmwareManifest{V: l.V, Sv: l.Sv, Lr: l.Lr, ReplacesVerifier: l.ReplacesVerifier}
	for _, s := range l.Sigs {
		m.Sigs.Insert(s, statemachine.CompareString)
	}
	return m
}

// decodeFirmwareState reads the machine's state from a log line's state.
func decodeFirmwareState(raw []byte) (firmwareState, error) {
	var l struct {
		Rec0, Rec1, Img0, Img1, Trial    loggedManifest
		Act, Tslot, Tseq, Floor, Entries int64
		VerifierIntact                   bool
		Pc, Fcause                       string
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return firmwareState{}, err
	}
	return firmwareState{Rec0: l.Rec0.manifest(), Rec1: l.Rec1.manifest(), Img0: l.Img0.manifest(), Img1: l.Img1.manifest(),
		Act: l.Act, Trial: l.Trial.manifest(), Tslot: l.Tslot, Tseq: l.Tseq, Floor: l.Floor, VerifierIntact: l.VerifierIntact,
		Entries: l.Entries, Pc: l.Pc, Fcause: l.Fcause}, nil
}
