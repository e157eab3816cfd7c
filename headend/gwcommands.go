package headend

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The gateway's end of the four-eyes command workflow. A gateway never
// listens on the WAN: on its own outbound connection it fetches the ready
// commands of the meters whose data it forwarded last (the head-end knows
// no other map of meters to gateways), relays each over PLC and posts the
// meter's answer, which moves the command to relayed or failed. A command
// the gateway could not deliver stays ready and is fetched again.

// maxGatewayCommands bounds one fetch; the gateway fetches again.
const maxGatewayCommands = 100

// registerGatewayCommands adds the gateway's command routes.
func (h *HeadEnd) registerGatewayCommands(mux *http.ServeMux) {
	// The patterns are literals (wan.GatewayCommandsPath): the OpenAPI
	// test reads them from the source.
	mux.HandleFunc("GET /v1/gateway/commands", h.gw(h.gwCommands))
	mux.HandleFunc("POST /v1/gateway/commands/{id}/result", h.gw(h.gwCommandResult))
}

// gw admits gateways (their certificate in role gateway) to fn, with the
// operator API's JSON refusals and bounded body.
func (h *HeadEnd) gw(fn func(w http.ResponseWriter, r *http.Request, gateway string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := h.client(r, protocol.RoleGateway)
		if err != nil {
			opError(w, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, wan.MaxOperatorBody)
		if err := fn(w, r, c.Subject.CommonName); err != nil {
			opError(w, err)
		}
	}
}

func (h *HeadEnd) gwCommands(w http.ResponseWriter, r *http.Request, gateway string) error {
	out, err := h.cfg.Store.readyCommandsFor(r.Context(), gateway, maxGatewayCommands)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) gwCommandResult(w http.ResponseWriter, r *http.Request, gateway string) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var res wan.CommandResult
	if err := decodeBody(r, &res); err != nil {
		return err
	}
	status := wan.CommandRelayed
	if !res.OK {
		status = wan.CommandFailed
	}
	if err := h.cfg.Store.commandResult(r.Context(), id, gateway, status, res.Error, h.cfg.Now()); err != nil {
		return err
	}
	c, err := h.cfg.Store.operatorCommand(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c.wire())
}

// newestGateway is the SQL of the gateway that forwarded the newest item
// of the meter of a row of table (its column meter): the only map of
// meters to gateways the head-end has, by which a gateway is given the
// commands and read requests of its meters.
func newestGateway(table string) string {
	return `(SELECT gateway FROM data WHERE data.meter = ` + table + `.meter ORDER BY ingested_at DESC, counter DESC LIMIT 1)`
}

// lastGateway is newestGateway of a command's meter.
var lastGateway = newestGateway("operator_commands")

// readyCommandsFor lists the ready commands of the meters whose newest
// item gateway forwarded.
func (s *Store) readyCommandsFor(ctx context.Context, gateway string, limit int) (out []wan.GatewayCommand, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, meter, signed FROM operator_commands WHERE status = ? AND `+lastGateway+` = ? ORDER BY id LIMIT ?`),
		wan.CommandReady, gateway, limit)
	if err != nil {
		return nil, storeErr("ready commands", err)
	}
	defer closeRows(rows, "ready commands", &err)
	out = []wan.GatewayCommand{}
	for rows.Next() {
		var c wan.GatewayCommand
		var meter, signed []byte
		if err := rows.Scan(&c.ID, &meter, &signed); err != nil {
			return nil, storeErr("ready commands", err)
		}
		c.Meter, c.Signed = hex.EncodeToString(meter), base64.StdEncoding.EncodeToString(signed)
		out = append(out, c)
	}
	return out, nil
}

// commandResult records a gateway's report of a ready command it relayed,
// with its audit entry, in one transaction: ErrNoCommand when the command
// is not one this gateway was given, ErrCommandState when it is no longer
// ready (a report sent twice).
func (s *Store) commandResult(ctx context.Context, id int64, gateway, status, reason string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	var st string
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT status FROM operator_commands WHERE id = ? AND `+lastGateway+` = ?`), id, gateway).Scan(&st)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %d for gateway %s", ErrNoCommand, id, gateway)
	case err != nil:
		return storeErr("command result", err)
	case st != wan.CommandReady:
		return fmt.Errorf("%w: command %d is %s", ErrCommandState, id, st)
	}
	var r any
	if reason != "" {
		r = reason
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE operator_commands SET status = ?, reason = ? WHERE id = ? AND status = ?`), status, r, id, wan.CommandReady); err != nil {
		return storeErr("command result", err)
	}
	if err := s.audit(ctx, tx, auditEntry{at, gateway, "command-" + status, fmt.Sprintf("command %d %s", id, reason)}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}
