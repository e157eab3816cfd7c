package headend

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// On-demand reads (UC3) through the operator API. An operator asks for a
// meter's signed register reading now; the request waits in the store
// (surviving a restart, and shared by every head-end on one PostgreSQL)
// until the gateway that forwarded the meter's newest item fetches it on
// its own outbound connection. The gateway takes the reading over PLC,
// forwards it as any signed item (Ingest verifies the meter's signature)
// and reports its counter; the request is done only when the store holds
// a reading of that meter with that counter, so a gateway cannot close a
// request with a reading that never arrived. A reading needs no second
// operator: it changes nothing on the meter.

var (
	// errNoRead means no read request has that id (for this gateway).
	errNoRead = errors.New("headend: no such read request")
	// errReadState means the read request is no longer pending.
	errReadState = errors.New("headend: read request is not pending")
)

// maxGatewayReads bounds one fetch of read requests.
const maxGatewayReads = 100

// registerReads adds the operator's and the gateway's routes of on-demand
// reads. The patterns are literals: the OpenAPI test reads them from the
// source.
func (h *HeadEnd) registerReads(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/operator/meters/{meter}/reads", h.op(h.opRequestRead))
	mux.HandleFunc("GET /v1/operator/reads/{id}", h.op(h.opRead))
	mux.HandleFunc("GET /v1/gateway/reads", h.gw(h.gwReads))                   // wan.GatewayReadsPath
	mux.HandleFunc("POST /v1/gateway/reads/{id}/result", h.gw(h.gwReadResult)) // wan.GatewayReadsPath
}

func (h *HeadEnd) opRequestRead(w http.ResponseWriter, r *http.Request, a approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	id, err := h.cfg.Store.addReadRequest(r.Context(), meter, a.Name, h.cfg.Now())
	if err != nil {
		return err
	}
	rr, err := h.cfg.Store.readRequest(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, rr)
}

func (h *HeadEnd) opRead(w http.ResponseWriter, r *http.Request, _ approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	rr, err := h.cfg.Store.readRequest(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rr)
}

func (h *HeadEnd) gwReads(w http.ResponseWriter, r *http.Request, gateway string) error {
	out, err := h.cfg.Store.pendingReadsFor(r.Context(), gateway, maxGatewayReads)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) gwReadResult(w http.ResponseWriter, r *http.Request, gateway string) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var res wan.ReadResult
	if err := decodeBody(r, &res); err != nil {
		return err
	}
	if (res.Counter == 0) == (res.Error == "") {
		return fmt.Errorf("%w: a read result names either the reading's counter or the meter's refusal", ErrOperatorInput)
	}
	if err := h.cfg.Store.readResult(r.Context(), id, gateway, res, h.cfg.Now()); err != nil {
		return err
	}
	rr, err := h.cfg.Store.readRequest(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rr)
}

// lastGatewayOfRead is newestGateway of a read request's meter.
var lastGatewayOfRead = newestGateway("read_requests")

// addReadRequest stores an operator's read request and its audit entry in
// one transaction and returns its id.
func (s *Store) addReadRequest(ctx context.Context, meter protocol.SystemTitle, by string, at time.Time) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, storeErr("begin", err)
	}
	defer tx.Rollback()
	// Only a meter some gateway forwarded: no other gateway would fetch it.
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM data WHERE meter = ? LIMIT 1) AS known`), meter[:]).Scan(&n); err != nil {
		return 0, storeErr("request read", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: meter %x has sent nothing yet, so no gateway is known to read it", ErrNoItem, meter)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, s.rebind(`INSERT INTO read_requests (meter, requested_by, requested_at, status) VALUES (?,?,?,?) RETURNING id`),
		meter[:], by, at.UnixNano(), wan.ReadPending).Scan(&id); err != nil {
		return 0, storeErr("request read", err)
	}
	if err := s.audit(ctx, tx, auditEntry{at, by, "read-requested", fmt.Sprintf("read %d: meter %x", id, meter)}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return id, nil
}

// readRequest returns a read request by id, with the stored reading's
// value once done; errNoRead when none has that id.
func (s *Store) readRequest(ctx context.Context, id int64) (wan.OperatorRead, error) {
	var (
		meter            []byte
		at               int64
		gw, reason       sql.NullString
		counter, valueWh sql.NullInt64
	)
	rr := wan.OperatorRead{ID: id}
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT r.meter, r.requested_by, r.requested_at, r.status, r.gateway, r.counter, r.reason, d.value
		FROM read_requests r LEFT JOIN data d ON d.meter = r.meter AND d.counter = r.counter WHERE r.id = ?`), id).
		Scan(&meter, &rr.RequestedBy, &at, &rr.Status, &gw, &counter, &reason, &valueWh)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rr, fmt.Errorf("%w: %d", errNoRead, id)
	case err != nil:
		return rr, storeErr("read request", err)
	}
	rr.Meter, rr.RequestedAt = hex.EncodeToString(meter), rfc3339(time.Unix(0, at))
	rr.Gateway, rr.Reason = gw.String, reason.String
	if counter.Valid {
		rr.Counter = uint64(counter.Int64)
	}
	if valueWh.Valid && rr.Status == wan.ReadDone {
		rr.Wh = uint32(valueWh.Int64)
	}
	return rr, nil
}

// pendingReadsFor lists the pending read requests of the meters whose
// newest item gateway forwarded.
func (s *Store) pendingReadsFor(ctx context.Context, gateway string, limit int) (out []wan.GatewayRead, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, meter FROM read_requests WHERE status = ? AND `+lastGatewayOfRead+` = ? ORDER BY id LIMIT ?`),
		wan.ReadPending, gateway, limit)
	if err != nil {
		return nil, storeErr("pending reads", err)
	}
	defer closeRows(rows, "pending reads", &err)
	out = []wan.GatewayRead{}
	for rows.Next() {
		var r wan.GatewayRead
		var meter []byte
		if err := rows.Scan(&r.ID, &meter); err != nil {
			return nil, storeErr("pending reads", err)
		}
		r.Meter = hex.EncodeToString(meter)
		out = append(out, r)
	}
	return out, nil
}

// readResult records a gateway's report of a read request, with its audit
// entry, in one transaction: errNoRead when the request is not one this
// gateway was given, errReadState when it is no longer pending (a report
// sent twice), ErrNoItem when the reading the report names is not stored
// as a reading of that meter.
func (s *Store) readResult(ctx context.Context, id int64, gateway string, res wan.ReadResult, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	var st string
	var meter []byte
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT status, meter FROM read_requests WHERE id = ? AND `+lastGatewayOfRead+` = ?`), id, gateway).Scan(&st, &meter)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %d for gateway %s", errNoRead, id, gateway)
	case err != nil:
		return storeErr("read result", err)
	case st != wan.ReadPending:
		return fmt.Errorf("%w: read %d is %s", errReadState, id, st)
	}
	status, detail := wan.ReadDone, fmt.Sprintf("read %d: meter %x reading %d", id, meter, res.Counter)
	var counter, reason any
	if res.Error != "" {
		status, detail, reason = wan.ReadFailed, fmt.Sprintf("read %d: meter %x: %s", id, meter, res.Error), res.Error
	} else {
		if res.Counter > 1<<63-1 {
			return fmt.Errorf("%w: counter %d", ErrOperatorInput, res.Counter)
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM data WHERE meter = ? AND counter = ? AND kind = ?`), meter, int64(res.Counter), int(wan.KindReading)).Scan(&n); err != nil {
			return storeErr("read result", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: meter %x holds no stored reading %d", ErrNoItem, meter, res.Counter)
		}
		counter = int64(res.Counter)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE read_requests SET status = ?, gateway = ?, counter = ?, reason = ? WHERE id = ? AND status = ?`),
		status, gateway, counter, reason, id, wan.ReadPending); err != nil {
		return storeErr("read result", err)
	}
	if err := s.audit(ctx, tx, auditEntry{at, gateway, "read-" + status, detail}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}
