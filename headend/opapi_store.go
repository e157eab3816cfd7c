package headend

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// operatorCommand is a row of operator_commands.
type operatorCommand struct {
	id                       int64
	meter                    protocol.SystemTitle
	kind                     protocol.CommandKind
	tariff                   uint8
	clockStep                int64
	payload                  []byte // a trust-list command's signed list; nil for other kinds
	requestedBy              string
	requesterCert            []byte
	requestedAt              time.Time
	status                   string
	approvedBy               string
	approvedAt               time.Time
	counter                  uint64
	signed                   []byte
	reason                   string
	approvedValid, hasSigned bool
}

// wire is the row as the operator API shows it.
func (c operatorCommand) wire() wan.OperatorCommand {
	o := wan.OperatorCommand{ID: c.id, Meter: hex.EncodeToString(c.meter[:]), Kind: commandKindName(c.kind), Tariff: c.tariff, ClockStep: c.clockStep,
		Status: c.status, RequestedBy: c.requestedBy, RequestedAt: rfc3339(c.requestedAt), ApprovedBy: c.approvedBy, Counter: c.counter, Reason: c.reason}
	if c.approvedValid {
		o.ApprovedAt = rfc3339(c.approvedAt)
	}
	if c.hasSigned {
		o.Signed = base64.StdEncoding.EncodeToString(c.signed)
	}
	if c.payload != nil {
		// Stored only after PeekTrustList accepted it.
		if tl, err := protocol.PeekTrustList(c.payload); err == nil {
			o.TrustListVersion = tl.Version
		}
	}
	return o
}

// command is the command c asks for, as its approvers sign it but for
// the counter: issued at the request's time, so that the requester and
// the approver sign the same bytes whenever each does.
func (c operatorCommand) command() protocol.Command {
	return protocol.Command{Meter: c.meter, Kind: c.kind, Tariff: c.tariff, ClockStep: c.clockStep, Payload: c.payload, Issued: c.requestedAt.Unix()}
}

const operatorCommandCols = `id, meter, kind, tariff, clock_step, requested_by, requester_cert, requested_at, status, approved_by, approved_at, counter, signed, reason, payload`

func scanOperatorCommand(row interface{ Scan(...any) error }) (operatorCommand, error) {
	var c operatorCommand
	var meter []byte
	var kind, tariff int64
	var reqAt int64
	var by, reason sql.NullString
	var at, counter sql.NullInt64
	var signed []byte
	if err := row.Scan(&c.id, &meter, &kind, &tariff, &c.clockStep, &c.requestedBy, &c.requesterCert, &reqAt, &c.status, &by, &at, &counter, &signed, &reason, &c.payload); err != nil {
		return c, err
	}
	copy(c.meter[:], meter)
	c.kind, c.tariff, c.requestedAt = protocol.CommandKind(kind), uint8(tariff), time.Unix(0, reqAt)
	c.approvedBy, c.reason, c.counter = by.String, reason.String, uint64(counter.Int64)
	if at.Valid {
		c.approvedValid, c.approvedAt = true, time.Unix(0, at.Int64)
	}
	if signed != nil {
		c.hasSigned, c.signed = true, signed
	}
	return c, nil
}

// addOperatorCommand stores a requested command and its audit entry in one
// transaction and returns its id.
func (s *Store) addOperatorCommand(ctx context.Context, c operatorCommand) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, storeErr("begin", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, s.rebind(`INSERT INTO operator_commands (meter, kind, tariff, clock_step, requested_by, requester_cert, requested_at, status, payload) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`),
		c.meter[:], int(c.kind), int(c.tariff), c.clockStep, c.requestedBy, c.requesterCert, c.requestedAt.UnixNano(), c.status, c.payload).Scan(&id)
	if err != nil {
		return 0, storeErr("request command", err)
	}
	if err := s.audit(ctx, tx, auditEntry{c.requestedAt, c.requestedBy, "command-requested", fmt.Sprintf("command %d: %s meter %x", id, commandKindName(c.kind), c.meter)}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return id, nil
}

// operatorCommand returns a command by id; ErrNoCommand when none has it.
func (s *Store) operatorCommand(ctx context.Context, id int64) (operatorCommand, error) {
	c, err := scanOperatorCommand(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+operatorCommandCols+` FROM operator_commands WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: %d", ErrNoCommand, id)
	}
	if err != nil {
		return c, storeErr("command", err)
	}
	return c, nil
}

// operatorCommands lists commands after id `after` (all, or those of one
// status), at most limit of them.
func (s *Store) operatorCommands(ctx context.Context, status string, after int64, limit int) ([]wan.OperatorCommand, error) {
	q, args := `SELECT `+operatorCommandCols+` FROM operator_commands WHERE id > ?`, []any{after}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	return s.operatorCommandRows(ctx, q+` ORDER BY id LIMIT ?`, append(args, limit)...)
}

// operatorCommandRows runs a query of operatorCommandCols.
func (s *Store) operatorCommandRows(ctx context.Context, q string, args ...any) (out []wan.OperatorCommand, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, storeErr("commands", err)
	}
	defer closeRows(rows, "commands", &err)
	out = []wan.OperatorCommand{}
	for rows.Next() {
		c, err := scanOperatorCommand(rows)
		if err != nil {
			return nil, storeErr("commands", err)
		}
		out = append(out, c.wire())
	}
	return out, nil
}

// claimOperatorCommand moves a pending command (or one whose signing was
// claimed more than staleClaim ago by a head-end that died) to signing:
// of two approvals at once, one wins. ErrCommandState otherwise.
func (s *Store) claimOperatorCommand(ctx context.Context, id int64, approver string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE operator_commands SET status = ?, approved_by = ?, approved_at = ?
WHERE id = ? AND (status = ? OR (status = ? AND approved_at < ?))`),
		wan.CommandSigning, approver, at.UnixNano(), id, wan.CommandPending, wan.CommandSigning, at.Add(-staleClaim).UnixNano())
	if err != nil {
		return storeErr("claim command", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return storeErr("claim command", err)
	} else if n == 0 {
		return fmt.Errorf("%w: command %d", ErrCommandState, id)
	}
	return nil
}

// releaseOperatorCommand puts a command being signed back to pending (the
// signature failed for a reason that may pass).
func (s *Store) releaseOperatorCommand(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), s.rebind(`UPDATE operator_commands SET status = ?, approved_by = NULL, approved_at = NULL WHERE id = ? AND status = ?`),
		wan.CommandPending, id, wan.CommandSigning); err != nil {
		return storeErr("release command", err)
	}
	return nil
}

// finishOperatorCommand records a claimed command's outcome: ready with
// its signed bytes and counter, or refused with the reason.
func (s *Store) finishOperatorCommand(ctx context.Context, id int64, status string, signed []byte, counter uint64, reason string) error {
	var c, r any
	if status == wan.CommandReady {
		c = int64(counter)
	} else {
		r = reason
	}
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), s.rebind(`UPDATE operator_commands SET status = ?, signed = ?, counter = ?, reason = ? WHERE id = ? AND status = ?`),
		status, signed, c, r, id, wan.CommandSigning); err != nil {
		return storeErr("finish command", err)
	}
	return nil
}

// inventory lists the meters the store knows (items stored or a contract)
// in system-title order after `after`, with their newest item and current
// suppliers.
func (s *Store) inventory(ctx context.Context, after []byte, limit int, now time.Time) (out []wan.OperatorMeter, err error) {
	if after == nil {
		after = []byte{}
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT meter FROM (SELECT meter FROM data UNION SELECT meter FROM contracts) AS m WHERE meter > ? ORDER BY meter LIMIT ?`), after, limit)
	if err != nil {
		return nil, storeErr("inventory", err)
	}
	var meters []protocol.SystemTitle
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			closeRows(rows, "inventory", &err)
			return nil, storeErr("inventory", err)
		}
		var m protocol.SystemTitle
		copy(m[:], b)
		meters = append(meters, m)
	}
	closeRows(rows, "inventory", &err)
	if err != nil {
		return nil, err
	}
	out = []wan.OperatorMeter{}
	for _, m := range meters {
		o := wan.OperatorMeter{Meter: hex.EncodeToString(m[:])}
		if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM data WHERE meter = ?`), m[:]).Scan(&o.Items); err != nil {
			return nil, storeErr("inventory", err)
		}
		var counter, kind, at, value int64
		err := s.db.QueryRowContext(ctx, s.rebind(`SELECT counter, kind, signed_at, value FROM data WHERE meter = ? AND kind IN (?, ?) ORDER BY signed_at DESC, counter DESC LIMIT 1`),
			m[:], int(wan.KindReading), int(wan.KindBlock)).Scan(&counter, &kind, &at, &value)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, storeErr("inventory", err)
		default:
			o.LastCounter, o.LastKind, o.LastAt, o.LastValue = uint64(counter), kindName(wan.Kind(kind)), rfc3339(time.Unix(at, 0)), uint64(value)
		}
		if o.Suppliers, err = s.supplierAt(m, now); err != nil {
			return nil, err
		}
		if o.Suppliers == nil {
			o.Suppliers = []string{}
		}
		out = append(out, o)
	}
	return out, nil
}

// readings lists a meter's stored items signed in [from, to), blocks with
// their intervals (header reads a stored block's signed header).
func (s *Store) readings(ctx context.Context, meter protocol.SystemTitle, from, to int64, header func(sign1 []byte) (protocol.BlockHeader, error)) (out []wan.OperatorItem, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT counter, kind, signed_at, value, raw FROM data WHERE meter = ? AND signed_at < ? AND span_end >= ? ORDER BY signed_at, counter LIMIT ?`),
		meter[:], to, from, maxReadingsItems)
	if err != nil {
		return nil, storeErr("readings", err)
	}
	defer closeRows(rows, "readings", &err)
	out = []wan.OperatorItem{}
	for rows.Next() {
		var counter, kind, at, value int64
		var raw []byte
		if err := rows.Scan(&counter, &kind, &at, &value, &raw); err != nil {
			return nil, storeErr("readings", err)
		}
		it := wan.OperatorItem{Counter: uint64(counter), Kind: kindName(wan.Kind(kind)), SignedAt: rfc3339(time.Unix(at, 0)), Value: uint64(value)}
		if wan.Kind(kind) == wan.KindBlock {
			sb, err := protocol.UnmarshalSignedBlock(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: stored block %x/%d: %w", ErrStore, meter, counter, err)
			}
			hd, err := header(sb.Sign1)
			if err != nil {
				return nil, fmt.Errorf("%w: stored block %x/%d: %w", ErrStore, meter, counter, err)
			}
			for _, iv := range sb.Intervals {
				it.Intervals = append(it.Intervals, wan.OperatorInterval{Start: rfc3339(time.Unix(hd.Start+int64(iv.Index)*int64(hd.Period), 0)), Wh: iv.Value, Status: iv.Status})
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// itemSign1 returns the COSE_Sign1 of a stored item: a reading's or an
// event's raw bytes, a block's signed header.
func (s *Store) itemSign1(ctx context.Context, meter protocol.SystemTitle, counter uint64) ([]byte, error) {
	var kind int
	var raw []byte
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT kind, raw FROM data WHERE meter = ? AND counter = ?`), meter[:], int64(counter)).Scan(&kind, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: meter %x item %d", ErrNoItem, meter, counter)
	}
	if err != nil {
		return nil, storeErr("item", err)
	}
	if wan.Kind(kind) != wan.KindBlock {
		return raw, nil
	}
	sb, err := protocol.UnmarshalSignedBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: stored block %x/%d: %w", ErrStore, meter, counter, err)
	}
	return sb.Sign1, nil
}

// contractsOf lists a meter's contracts by start.
func (s *Store) contractsOf(ctx context.Context, meter protocol.SystemTitle) (out []wan.OperatorContract, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT participant, role, valid_from, valid_to FROM contracts WHERE meter = ? ORDER BY valid_from, participant`), meter[:])
	if err != nil {
		return nil, storeErr("contracts", err)
	}
	defer closeRows(rows, "contracts", &err)
	out = []wan.OperatorContract{}
	for rows.Next() {
		var c wan.OperatorContract
		var from, to int64
		if err := rows.Scan(&c.Participant, &c.Role, &from, &to); err != nil {
			return nil, storeErr("contracts", err)
		}
		c.From, c.To = rfc3339(time.Unix(from, 0)), rfc3339(time.Unix(to, 0))
		out = append(out, c)
	}
	return out, nil
}

// auditPage returns at most limit audit entries after sequence number
// after, oldest first: an export in pages, never the whole log at once.
func (s *Store) auditPage(ctx context.Context, after int64, limit int) ([]wan.OperatorAuditEntry, error) {
	return s.auditRows(ctx, `SELECT seq, at, actor, action, detail FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// auditRows runs a query of an audit entry's columns (seq, at, actor,
// action, detail).
func (s *Store) auditRows(ctx context.Context, q string, args ...any) (out []wan.OperatorAuditEntry, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, storeErr("audit log", err)
	}
	defer closeRows(rows, "audit log", &err)
	out = []wan.OperatorAuditEntry{}
	for rows.Next() {
		var e wan.OperatorAuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, storeErr("audit log", err)
		}
		e.At = time.Unix(0, at).UTC().Format(time.RFC3339Nano)
		out = append(out, e)
	}
	return out, nil
}
