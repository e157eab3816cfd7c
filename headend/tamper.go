package headend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// Tamper events (UC9, spec/Tamper.tla). The head-end verifies each event a
// gateway uploads under its meter's key before its machine sees it (the
// outcome is the event's signed field), and the generated Tamper machine
// of that meter decides: only a signed event is stored (Ingest's guard),
// once (the @store stored is the table tamper_events, read through
// tamperStore), with one alarm (tamper_alarms) the first time, and an
// acknowledgement every time, which the head-end signs for the meter. The
// alarms are the @store alarms, the table tamper_alarms: as many as events
// are stored, the machine keeps no copy (its state is empty).

// Errors of the tamper flow.
var (
	// ErrTamperEvent refuses an uploaded event: it does not parse, or its
	// signature does not verify under its meter's key (an unsigned or
	// altered event, the spec's Inject); the cause is wrapped beside it.
	// Nothing is stored, no alarm raised, no acknowledgement returned.
	ErrTamperEvent = errors.New("headend: tamper event refused")
	// ErrAlarm: no open alarm has that id (unknown, or acknowledged before).
	ErrAlarm = errors.New("headend: no open alarm with that id")
)

// tamperMachine is the head-end's generated machine of spec/Tamper.tla
// for one meter: stored and alarms are kept in the database (tamper_events
// and tamper_alarms), so its own state is empty.
type tamperMachine = statemachine.Instance[tamperTraced, tamperEvent, tamperOutput]

// tamperTraced is the machine's state with, for the trace only, the
// meter's part of the @stores stored and alarms: trace validation reads the
// head-end's whole state of spec/Tamper.tla in each line. They are kept
// (loaded from tamper_events and tamper_alarms, then grown by the steps)
// only while the head-end records a trace; the machine itself reads the
// database through tamperStore.
type tamperTraced struct {
	tamperState
	Stored []tamperItem `json:"stored"`
	Alarms []int64      `json:"alarms"`
}

// tamperMachines holds the head-end's Tamper machines, one per meter that
// uploaded an event since start, loaded from the database on first use.
type tamperMachines struct {
	mu       sync.Mutex
	machines map[protocol.SystemTitle]*tamperMachine
	out      tamperOutput
	found    storedRow // what the database holds for the event being stepped
	pending  pendingEvent
}

// storedRow is the row of tamper_events for one (meter, n), and whether
// tamper_alarms has its alarm, read before the step: the machine's
// StoredHas and AlarmsHas answer from it, so Step stays pure.
type storedRow struct {
	ok    bool
	item  tamperItem
	alarm bool
}

// StoredHas is the machine's read of the @store stored (tamperStore).
func (r *storedRow) StoredHas(x tamperItem) bool { return r.ok && r.item == x }

// AlarmsHas is the machine's read of the @store alarms (tamperStore), for
// the event read before the step.
func (r *storedRow) AlarmsHas(n int64) bool { return r.alarm && r.item.N == n }

// pendingEvent is what the step's Persist writes besides the machine's
// output: the event's bytes, its meter and times.
type pendingEvent struct {
	ctx      context.Context
	meter    protocol.SystemTitle
	raw      []byte
	signedAt int64
	gateway  string
	at       time.Time
}

// alarm is one tamper alarm as an operator sees it.
type alarm struct {
	ID      int64
	Meter   protocol.SystemTitle
	Event   uint64 // the event's number
	Kind    string // protocol.TamperCover, protocol.TamperMagnetic
	Raised  time.Time
	AckedBy string // "" while open
	AckedAt time.Time
}

// tamperMachine returns the meter's Tamper machine; when a trace is
// recorded, a meter seen first since start gets its stored events and
// alarms from the database (the trace's view of the @stores).
func (h *HeadEnd) tamperMachine(ctx context.Context, meter protocol.SystemTitle) (*tamperMachine, error) {
	t := &h.tamper
	if m, ok := t.machines[meter]; ok {
		return m, nil
	}
	rec, err := h.cfg.Trace.Recorder(fmt.Sprintf("tamper/%x/headend", meter[:]))
	if err != nil {
		return nil, err
	}
	p := &tamperParams{Store: &t.found}
	traced := rec != nil
	m := &tamperMachine{Role: "headend", Name: "headend", State: tamperTraced{tamperState: p.Init()}, Rec: rec,
		Step:   func(s *tamperTraced, ev tamperEvent, o *tamperOutput) error { return p.Step(&s.tamperState, ev, o) },
		Action: func(o *tamperOutput) string { return o.Action },
		Persist: func(s *tamperTraced, o *tamperOutput) error {
			if err := h.cfg.Store.persistTamper(&t.pending, o); err != nil {
				return err
			}
			if traced {
				s.Stored = addStored(s.Stored, o.StoredAdd)
				s.Alarms = addAlarms(s.Alarms, o.AlarmsAdd)
			}
			return nil
		}}
	if traced {
		if m.State.Stored, err = h.cfg.Store.storedItems(ctx, meter); err != nil {
			return nil, err
		}
		m.State.Stored = addStored(m.State.Stored, nil)
		ns, err := h.cfg.Store.alarmNumbers(ctx, meter)
		if err != nil {
			return nil, err
		}
		m.State.Alarms = addAlarms(nil, ns)
	}
	m.Resume()
	if t.machines == nil {
		t.machines = map[protocol.SystemTitle]*tamperMachine{}
	}
	t.machines[meter] = m
	return m, nil
}

// addStored adds items to a meter's stored set, kept without duplicates
// (never nil: the trace writes an empty set as []).
func addStored(set, add []tamperItem) []tamperItem {
	out := append(make([]tamperItem, 0, len(set)+len(add)), set...)
	for _, x := range add {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// addAlarms adds event numbers to a meter's alarms, kept sorted without
// duplicates (never nil: the trace writes an empty set as []).
func addAlarms(set, add []int64) []int64 {
	out := append(make([]int64, 0, len(set)+len(add)), set...)
	for _, n := range add {
		if i, found := slices.BinarySearch(out, n); !found {
			out = slices.Insert(out, i, n)
		}
	}
	return out
}

// Tamper is a gateway's upload of tamper events (the shape of
// gateway.TamperUplink): the acknowledgements of the events stored, now or
// before. A refused event gets no acknowledgement and is in the audit log
// (tamper-rejected, with the reason); an error means the store failed and
// what was not acknowledged must be sent again. serveTamper is this over
// HTTPS; a gateway in the head-end's process uses it directly.
func (h *HeadEnd) Tamper(ctx context.Context, gateway string, batch protocol.TamperBatch) (protocol.TamperBatch, error) {
	acks, _, err := h.ingestTamper(ctx, gateway, batch)
	return acks, err
}

// ingestTamper takes a gateway's batch of tamper events: each is verified,
// then stepped through its meter's machine (Ingest), stored and alarmed
// durably in one transaction, and acknowledged with the head-end's
// signature. It returns the acknowledgements (with the Lamport time of the
// last step when traced) and why each refused event was refused; an error
// means the store failed and what was not acknowledged must be sent again.
func (h *HeadEnd) ingestTamper(ctx context.Context, gateway string, batch protocol.TamperBatch) (_ protocol.TamperBatch, rejected []error, err error) {
	t := &h.tamper
	t.mu.Lock()
	defer t.mu.Unlock()
	acks := protocol.TamperBatch{Items: [][]byte{}}
	fresh := 0 // events stored for the first time
	defer func() { h.st.tampered(fresh, len(rejected), err) }()
	v := h.verifiers.Get().(*protocol.Verifier)
	defer h.verifiers.Put(v)
	for _, raw := range batch.Items {
		e, err := protocol.PeekEvent(raw)
		var kind string
		if err == nil {
			kind, err = protocol.TamperKind(e.Code)
		}
		if err == nil && (e.Counter == 0 || e.Counter > 1<<62) {
			err = fmt.Errorf("%w: event number %d", protocol.ErrMalformed, e.Counter)
		}
		if err != nil {
			rejected = append(rejected, h.refuseTamper(gateway, fmt.Errorf("%w: %w", ErrTamperEvent, err)))
			continue
		}
		// The cryptography before the step: its outcome is the event's
		// signed field, and the machine's guard refuses what is not signed.
		_, verr := v.VerifyEvent(raw)
		item := tamperItem{N: int64(e.Counter), Kind: kind, Signed: verr == nil}
		m, err := h.tamperMachine(ctx, e.Meter)
		if err != nil {
			return acks, rejected, err
		}
		if t.found, err = h.cfg.Store.storedTamper(ctx, e.Meter, item.N); err != nil {
			return acks, rejected, err
		}
		before := t.found.ok
		t.pending = pendingEvent{ctx: ctx, meter: e.Meter, raw: raw, signedAt: e.Time, gateway: gateway, at: h.cfg.Now()}
		now, err := m.Apply(batch.Clock, tamperEvent{Kind: tamperIngest, E: item}, &t.out)
		if errors.Is(err, statemachine.ErrNotEnabled) {
			rejected = append(rejected, h.refuseTamper(gateway, fmt.Errorf("%w: meter %x event %d: %w (%w)", ErrTamperEvent, e.Meter, e.Counter, verr, err)))
			continue
		}
		var full *statemachine.CapacityError
		if errors.As(err, &full) {
			rejected = append(rejected, fmt.Errorf("%w: meter %x event %d: %w", ErrTamperEvent, e.Meter, e.Counter, err))
			continue
		}
		if err != nil {
			return acks, rejected, err
		}
		if !before {
			fresh++
		}
		for _, n := range t.out.Acks {
			a, err := protocol.SignTamperAck(protocol.TamperAck{Meter: e.Meter, Seq: uint64(n), Digest: protocol.EventDigest(raw), Time: t.pending.at.Unix()},
				h.cfg.Key, protocol.SubjectKeyID(&h.cfg.Key.PublicKey), h.cfg.Rand)
			if err != nil {
				return acks, rejected, err
			}
			acks.Items = append(acks.Items, a)
		}
		if m.Rec != nil {
			acks.Clock = max(acks.Clock, now)
		}
	}
	return acks, rejected, nil
}

// refuseTamper audits a refused event and returns why.
func (h *HeadEnd) refuseTamper(gateway string, why error) error {
	return h.refuse(gateway, "tamper-rejected", why.Error(), why)
}

// alarms returns the tamper alarms, oldest first; only the open ones when
// open is set.
func (h *HeadEnd) alarms(ctx context.Context, open bool) ([]alarm, error) {
	return h.cfg.Store.alarms(ctx, open)
}

// acknowledgeAlarm is an operator taking note of an open alarm: it is
// closed with the operator's name and time, with an audit entry in the same
// transaction. An unknown or closed alarm is ErrAlarm.
func (h *HeadEnd) acknowledgeAlarm(ctx context.Context, id int64, operator string) error {
	return h.cfg.Store.ackAlarm(ctx, id, operator, h.cfg.Now())
}

// serveTamper is POST /v1/tamper: a gateway's batch of tamper events
// (CBOR protocol.TamperBatch); the answer, after the durable commit, is the
// batch of signed acknowledgements.
func (h *HeadEnd) serveTamper(w http.ResponseWriter, r *http.Request) {
	c, err := h.client(r, protocol.RoleGateway)
	if err != nil {
		httpError(w, http.StatusForbidden, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("reading the batch: %w", err))
		return
	}
	batch, err := protocol.UnmarshalTamperBatch(body)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	acks, err := h.Tamper(r.Context(), c.Subject.CommonName, batch)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err)
		return
	}
	b, err := acks.Marshal()
	if err != nil {
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(b)
}

// storedTamper reads the row of tamper_events for (meter, n) and whether
// tamper_alarms has an alarm for it.
func (s *Store) storedTamper(ctx context.Context, meter protocol.SystemTitle, n int64) (storedRow, error) {
	var alarms int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM tamper_alarms WHERE meter = ? AND n = ?`), meter[:], n).Scan(&alarms); err != nil {
		return storedRow{}, storeErr("alarms", err)
	}
	var kind string
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT kind FROM tamper_events WHERE meter = ? AND n = ?`), meter[:], n).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return storedRow{item: tamperItem{N: n}, alarm: alarms > 0}, nil
	}
	if err != nil {
		return storedRow{}, storeErr("tamper event", err)
	}
	// Only what verified is stored (the spec's stored holds signed items).
	return storedRow{ok: true, item: tamperItem{N: n, Kind: kind, Signed: true}, alarm: alarms > 0}, nil
}

// storedItems is a meter's part of stored (its rows of tamper_events).
func (s *Store) storedItems(ctx context.Context, meter protocol.SystemTitle) (out []tamperItem, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT n, kind FROM tamper_events WHERE meter = ? ORDER BY n`), meter[:])
	if err != nil {
		return nil, storeErr("tamper events", err)
	}
	defer closeRows(rows, "tamper events", &err)
	for rows.Next() {
		it := tamperItem{Signed: true}
		if err := rows.Scan(&it.N, &it.Kind); err != nil {
			return nil, storeErr("tamper events", err)
		}
		out = append(out, it)
	}
	return out, nil
}

// alarmNumbers is a meter's alarms in the order raised: the event numbers.
func (s *Store) alarmNumbers(ctx context.Context, meter protocol.SystemTitle) (out []int64, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT n FROM tamper_alarms WHERE meter = ? ORDER BY id`), meter[:])
	if err != nil {
		return nil, storeErr("alarms", err)
	}
	defer closeRows(rows, "alarms", &err)
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, storeErr("alarms", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// persistTamper applies a step of a meter's Tamper machine in one
// transaction: the @store changes (StoredAdd: the event with its bytes;
// AlarmsAdd: the alarms the step raised), and an audit entry for each new
// alarm. The acknowledgement is signed only after it committed.
func (s *Store) persistTamper(p *pendingEvent, o *tamperOutput) error {
	ctx := p.ctx
	if o.StoredClear || len(o.StoredRemove) > 0 {
		return fmt.Errorf("%w: the tamper store only grows", ErrStore)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	for _, e := range o.StoredAdd {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO tamper_events (meter, n, kind, signed_at, stored_at, gateway, raw) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`),
			p.meter[:], e.N, e.Kind, p.signedAt, p.at.UnixNano(), p.gateway, p.raw); err != nil {
			return storeErr("tamper event", err)
		}
	}
	if o.AlarmsClear || len(o.AlarmsRemove) > 0 {
		return fmt.Errorf("%w: the alarm table only grows", ErrStore)
	}
	for _, n := range o.AlarmsAdd {
		kind := ""
		for _, e := range o.StoredAdd {
			if e.N == n {
				kind = e.Kind
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO tamper_alarms (meter, n, kind, raised_at) VALUES (?,?,?,?)`), p.meter[:], n, kind, p.at.UnixNano()); err != nil {
			return storeErr("alarm", err)
		}
		if err := s.audit(ctx, tx, auditEntry{p.at, p.gateway, "tamper-alarm", fmt.Sprintf("meter %x event %d %s", p.meter, n, kind)}); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return storeErr("commit", err)
	}
	return nil
}

// alarms lists the tamper alarms.
func (s *Store) alarms(ctx context.Context, open bool) ([]alarm, error) {
	q := alarmSelect
	if open {
		q += ` WHERE acked_by IS NULL`
	}
	return s.alarmRows(ctx, q+` ORDER BY id`)
}

const alarmSelect = `SELECT id, meter, n, kind, raised_at, acked_by, acked_at FROM tamper_alarms`

// alarmRows runs a query of alarmSelect's columns.
func (s *Store) alarmRows(ctx context.Context, q string, args ...any) (out []alarm, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, storeErr("alarms", err)
	}
	defer closeRows(rows, "alarms", &err)
	for rows.Next() {
		var a alarm
		var meter []byte
		var raised int64
		var by sql.NullString
		var at sql.NullInt64
		if err := rows.Scan(&a.ID, &meter, &a.Event, &a.Kind, &raised, &by, &at); err != nil {
			return nil, storeErr("alarms", err)
		}
		copy(a.Meter[:], meter)
		a.Raised = time.Unix(0, raised)
		if by.Valid {
			a.AckedBy, a.AckedAt = by.String, time.Unix(0, at.Int64)
		}
		out = append(out, a)
	}
	return out, nil
}

// ackAlarm closes an open alarm with its audit entry in one transaction.
func (s *Store) ackAlarm(ctx context.Context, id int64, operator string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE tamper_alarms SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL`), operator, at.UnixNano(), id)
	if err != nil {
		return storeErr("alarm", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return storeErr("alarm", err)
	} else if n == 0 {
		return fmt.Errorf("%w: %d", ErrAlarm, id)
	}
	if err := s.audit(ctx, tx, auditEntry{at, operator, "tamper-alarm-acknowledged", fmt.Sprintf("alarm %d", id)}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}
