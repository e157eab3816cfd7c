package headend

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// Firmware campaigns (UC5) are durable objects in the store: a campaign is
// released only with two different operators' approvals, keeps its
// manifest, image, state and current stage in the database, and each of its
// meters' outcome. The rollout rule is the head-end's own (the spec's
// Firmware module is the meter's): stages of 5, 25 and 100 % of the
// campaign's meters, in the order the campaign lists them; a stage is
// judged when its last meter has reported, and the campaign stops when the
// share of failures so far exceeds the failure limit. Gateways pick the
// current stage's pending meters up on their own outbound connection and
// report each meter's outcome; a meter that reported is never offered the
// campaign again, so a head-end started again resumes without a second
// install.

// Errors of campaigns.
var (
	// ErrCampaignExists refuses a second approval (or a new request) of a
	// campaign id: an id names one approved manifest for good.
	ErrCampaignExists = errors.New("headend: campaign id already approved")
	// ErrNoCampaign: no campaign (or request awaiting approval) has this id.
	ErrNoCampaign = errors.New("headend: no such campaign")
	// ErrCampaignState: the campaign's state does not allow the change
	// asked (pausing a campaign that is not running, resuming one that is
	// not paused).
	ErrCampaignState = errors.New("headend: campaign state does not allow this")
	// ErrCampaignMeter: a reported outcome names a meter the campaign has
	// not offered (not one of its meters, or of a stage not yet reached).
	ErrCampaignMeter = errors.New("headend: meter not offered this campaign")
	// ErrCampaignRequest: a campaign request is malformed (no manifest,
	// image or meters, a meter twice, too many meters).
	ErrCampaignRequest = errors.New("headend: malformed campaign request")
)

// Campaign states (campaigns.state).
const (
	campaignRunning = "running"
	campaignPaused  = "paused"
	campaignStopped = "stopped"
	campaignDone    = "done"
	campaignLegacy  = "legacy" // approved before campaigns were durable: no image, no meters
)

// Per-meter outcomes (campaign_meters.outcome).
const (
	outcomePending   = ""
	outcomeInstalled = "installed"
	outcomeFailed    = "failed"
)

// campaignStages are the cumulative shares of a campaign's meters of each
// stage, and campaignMaxFailureRate the share of failures that stops it.
var campaignStages = []float64{0.05, 0.25, 1}

const campaignMaxFailureRate = 0.2

// maxCampaignMeters bounds a campaign's meters (one request's size).
const maxCampaignMeters = 1 << 20

// Campaign is a staged firmware rollout as the store holds it: the first
// stages are small, and the campaign stops when the failure rate after a
// stage exceeds MaxFailureRate. It is a snapshot; the store has the state.
type Campaign struct {
	ID             uint32
	Manifest       []byte
	Image          []byte
	Stages         []float64 // cumulative shares of the meters, e.g. 0.05, 0.25, 1
	MaxFailureRate float64
	// State is running, paused, stopped (by the failure limit), done, or
	// legacy (approved before campaigns were durable).
	State string
	// Stage is the index in Stages of the stage under way (len(Stages)
	// once done).
	Stage                         int
	Stopped                       bool
	Reason                        string
	FirstApprover, SecondApprover string
	// Meters are the campaign's meters in rollout order with their outcome.
	Meters    []CampaignMeter
	installed int
	failed    int
}

// CampaignMeter is one meter of a campaign: the stage it belongs to and its
// outcome as its gateway reported it ("" while pending).
type CampaignMeter struct {
	Meter    protocol.SystemTitle
	Stage    int
	Outcome  string
	Gateway  string
	Detail   string
	Reported time.Time
}

// Outcome returns installs and failures so far.
func (c *Campaign) Outcome() (installed, failed int) { return c.installed, c.failed }

// stageEnd is how many of n meters the stages up to and including stage
// cover (at least one).
func stageEnd(stage, n int) int {
	if stage >= len(campaignStages) {
		return n
	}
	return min(max(int(float64(n)*campaignStages[stage]+0.5), 1), n)
}

// stageOf is the stage of the meter at position pos of n.
func stageOf(pos, n int) int {
	for s := range campaignStages {
		if pos < stageEnd(s, n) {
			return s
		}
	}
	return len(campaignStages) - 1
}

func checkCampaign(id uint32, manifest, image []byte, meters []protocol.SystemTitle) error {
	if len(manifest) == 0 || len(image) == 0 || len(meters) == 0 || len(meters) > maxCampaignMeters {
		return fmt.Errorf("%w: campaign %d needs a manifest, an image and 1 to %d meters", ErrCampaignRequest, id, maxCampaignMeters)
	}
	seen := make(map[protocol.SystemTitle]bool, len(meters))
	for _, m := range meters {
		if seen[m] {
			return fmt.Errorf("%w: campaign %d lists meter %x twice", ErrCampaignRequest, id, m)
		}
		seen[m] = true
	}
	return nil
}

// operator checks that a is a head-end operator (the role that approves
// firmware).
func (h *HeadEnd) operator(a approver, what string) error {
	if r, err := h.roleOf(a); err != nil || r != protocol.RoleHeadEnd {
		return fmt.Errorf("%w: %s may not %s", ErrRole, a.Name, what)
	}
	return nil
}

// release records the approved campaign (and ends its request when
// fromRequest) with its audit entry in one transaction: fail closed, the
// campaign is not released without its entry.
func (h *HeadEnd) release(id uint32, manifest, image []byte, first, second string, meters []protocol.SystemTitle, fromRequest bool) (*Campaign, error) {
	now := h.cfg.Now()
	err := h.cfg.Store.addCampaign(id, manifest, image, first, second, meters, fromRequest,
		auditEntry{now, second, "campaign", fmt.Sprintf("campaign %d of %s approved by %s and %s, %d bytes, %d meters", id, first, first, second, len(image), len(meters))})
	if errors.Is(err, ErrCampaignExists) {
		return nil, h.refuse(second, "campaign-refused", fmt.Sprintf("campaign %d approved before", id), err)
	}
	if err != nil {
		return nil, err
	}
	return h.cfg.Store.Campaign(id)
}

// requestCampaign records operator op's request for a campaign, which
// waits for a second operator's approval (approveCampaign).
func (h *HeadEnd) requestCampaign(op approver, id uint32, manifest, image []byte, meters []protocol.SystemTitle) error {
	if err := h.operator(op, "request a firmware campaign"); err != nil {
		return err
	}
	if err := checkCampaign(id, manifest, image, meters); err != nil {
		return err
	}
	err := h.cfg.Store.requestCampaign(id, manifest, image, op.Name, meters,
		auditEntry{h.cfg.Now(), op.Name, "campaign-requested", fmt.Sprintf("campaign %d, %d bytes, %d meters", id, len(image), len(meters))})
	if errors.Is(err, ErrCampaignExists) {
		return h.refuse(op.Name, "campaign-refused", fmt.Sprintf("campaign %d requested or approved before", id), err)
	}
	return err
}

// approveCampaign releases a requested campaign with op's approval; op
// must be another operator than the one who requested it.
func (h *HeadEnd) approveCampaign(op approver, id uint32) (*Campaign, error) {
	if err := h.operator(op, "approve firmware"); err != nil {
		return nil, err
	}
	req, err := h.cfg.Store.campaignRequest(id)
	if err != nil {
		return nil, err
	}
	if req.requester == op.Name {
		return nil, h.refuse(op.Name, "campaign-refused", fmt.Sprintf("campaign %d approved by its own requester", id), fmt.Errorf("%w: campaign %d", ErrApproval, id))
	}
	return h.release(id, req.manifest, req.image, req.requester, op.Name, req.meters, true)
}

// pauseCampaign stops handing a running campaign out; resumeCampaign
// hands a paused one out again. Outcomes of transfers under way are still
// recorded while it is paused.
func (h *HeadEnd) pauseCampaign(op approver, id uint32) error {
	return h.moveCampaign(op, id, campaignRunning, campaignPaused, "campaign-paused")
}

func (h *HeadEnd) resumeCampaign(op approver, id uint32) error {
	return h.moveCampaign(op, id, campaignPaused, campaignRunning, "campaign-resumed")
}

func (h *HeadEnd) moveCampaign(op approver, id uint32, from, to, action string) error {
	if err := h.operator(op, action); err != nil {
		return err
	}
	return h.cfg.Store.moveCampaign(id, from, to, auditEntry{h.cfg.Now(), op.Name, action, fmt.Sprintf("campaign %d", id)})
}

// FirmwareWork returns the work of the running campaigns for those of
// meters (a gateway's) that their current stage offers and that have not
// reported: gateway.FirmwareSource, called by the HTTP face for a gateway's
// GET and by an in-process gateway directly.
func (h *HeadEnd) FirmwareWork(ctx context.Context, gateway string, meters []protocol.SystemTitle) ([]wan.FirmwareJob, error) {
	return h.cfg.Store.campaignWork(ctx, meters)
}

// FirmwareOutcome records one meter's outcome of a campaign as its gateway
// reports it and judges the stage when it was the stage's last meter. It
// reports whether the outcome was new: a meter that reported before keeps
// its first outcome (a gateway's resend changes nothing).
func (h *HeadEnd) FirmwareOutcome(ctx context.Context, gateway string, o wan.FirmwareOutcome) (bool, error) {
	meter, err := protocol.ParseSystemTitle(o.Meter)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrCampaignMeter, err)
	}
	return h.cfg.Store.reportCampaign(ctx, o.Campaign, meter, o.Installed, gateway, o.Detail, h.cfg.Now())
}

// campaignReq is a campaign request awaiting its second approval.
type campaignReq struct {
	requester       string
	manifest, image []byte
	meters          []protocol.SystemTitle
}

func joinTitles(ms []protocol.SystemTitle) []byte {
	b := make([]byte, 0, len(ms)*protocol.SystemTitleLen)
	for _, m := range ms {
		b = append(b, m[:]...)
	}
	return b
}

// requestCampaign stores a campaign request and its audit entry in one
// transaction; an id already requested or approved is ErrCampaignExists.
func (s *Store) requestCampaign(id uint32, manifest, image []byte, requester string, meters []protocol.SystemTitle, e auditEntry) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM campaigns WHERE id = ?`), int64(id)).Scan(&n); err != nil {
		return storeErr("campaign request", err)
	}
	if n > 0 {
		return fmt.Errorf("%w: campaign %d", ErrCampaignExists, id)
	}
	res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO campaign_requests (id, requested_at, requester, manifest, image, meters) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING`),
		int64(id), e.at.UnixNano(), requester, manifest, image, joinTitles(meters))
	if err != nil {
		return storeErr("campaign request", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return storeErr("campaign request", err)
	} else if n == 0 {
		return fmt.Errorf("%w: campaign %d requested before", ErrCampaignExists, id)
	}
	if err := s.audit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}

// campaignRequest loads a request awaiting approval.
func (s *Store) campaignRequest(id uint32) (campaignReq, error) {
	var r campaignReq
	var ms []byte
	err := s.db.QueryRow(s.rebind(`SELECT requester, manifest, image, meters FROM campaign_requests WHERE id = ?`), int64(id)).Scan(&r.requester, &r.manifest, &r.image, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: no request for campaign %d awaits approval", ErrNoCampaign, id)
	}
	if err != nil {
		return r, storeErr("campaign request", err)
	}
	for ; len(ms) >= protocol.SystemTitleLen; ms = ms[protocol.SystemTitleLen:] {
		r.meters = append(r.meters, protocol.SystemTitle(ms[:protocol.SystemTitleLen]))
	}
	return r, nil
}

// addCampaign records an approved campaign, its meters and its audit
// entry in one transaction (ending its request when fromRequest: the
// request must still be first's, so two approvals of one request release
// it once).
func (s *Store) addCampaign(id uint32, manifest, image []byte, first, second string, meters []protocol.SystemTitle, fromRequest bool, e auditEntry) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	if fromRequest {
		res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM campaign_requests WHERE id = ? AND requester = ?`), int64(id), first)
		if err != nil {
			return storeErr("campaign", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return storeErr("campaign", err)
		} else if n == 0 {
			return fmt.Errorf("%w: campaign %d approved before", ErrCampaignExists, id)
		}
	}
	digest := sha256.Sum256(manifest)
	res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO campaigns (id, approved_at, first_approver, second_approver, manifest_sha256, image_bytes, manifest, image, state, stage) VALUES (?,?,?,?,?,?,?,?,?,0) ON CONFLICT DO NOTHING`),
		int64(id), e.at.UnixNano(), first, second, digest[:], len(image), manifest, image, campaignRunning)
	if err != nil {
		return storeErr("campaign", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storeErr("campaign", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: campaign %d", ErrCampaignExists, id)
	}
	ins, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO campaign_meters (campaign, meter, pos) VALUES (?,?,?)`))
	if err != nil {
		return storeErr("campaign meters", err)
	}
	defer ins.Close()
	for i, m := range meters {
		if _, err := ins.ExecContext(ctx, int64(id), m[:], i); err != nil {
			return storeErr("campaign meters", err)
		}
	}
	if err := s.audit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}

// lockCampaign reads a campaign's state, stage and meter count in tx,
// locking its row on PostgreSQL (several head-ends on one database judge
// a stage once; SQLite has one writer anyway).
func (s *Store) lockCampaign(ctx context.Context, tx *sql.Tx, id uint32) (state string, stage, n int, err error) {
	q := `SELECT state, stage FROM campaigns WHERE id = ?`
	if s.pg {
		q += ` FOR UPDATE`
	}
	err = tx.QueryRowContext(ctx, s.rebind(q), int64(id)).Scan(&state, &stage)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, 0, fmt.Errorf("%w: campaign %d", ErrNoCampaign, id)
	}
	if err != nil {
		return "", 0, 0, storeErr("campaign", err)
	}
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM campaign_meters WHERE campaign = ?`), int64(id)).Scan(&n); err != nil {
		return "", 0, 0, storeErr("campaign", err)
	}
	return state, stage, n, nil
}

// moveCampaign changes a campaign's state from one to another with the
// change's audit entry.
func (s *Store) moveCampaign(id uint32, from, to string, e auditEntry) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("begin", err)
	}
	defer tx.Rollback()
	state, _, _, err := s.lockCampaign(ctx, tx, id)
	if err != nil {
		return err
	}
	if state != from {
		return fmt.Errorf("%w: campaign %d is %s, not %s", ErrCampaignState, id, state, from)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE campaigns SET state = ? WHERE id = ?`), to, int64(id)); err != nil {
		return storeErr("campaign", err)
	}
	if err := s.audit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrAudit, storeErr("commit", err))
	}
	return nil
}

// campaignWork is FirmwareWork: for each running campaign, those of meters
// within its current stage whose outcome is pending.
func (s *Store) campaignWork(ctx context.Context, meters []protocol.SystemTitle) (out []wan.FirmwareJob, err error) {
	ask := make(map[protocol.SystemTitle]bool, len(meters))
	for _, m := range meters {
		ask[m] = true
	}
	type running struct {
		id    uint32
		stage int
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, stage FROM campaigns WHERE state = ? ORDER BY id`), campaignRunning)
	if err != nil {
		return nil, storeErr("campaign work", err)
	}
	var camps []running
	for rows.Next() {
		var id int64
		var r running
		if err := rows.Scan(&id, &r.stage); err != nil {
			rows.Close()
			return nil, storeErr("campaign work", err)
		}
		r.id = uint32(id)
		camps = append(camps, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, storeErr("campaign work", err)
	}
	for _, c := range camps {
		var n int
		if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM campaign_meters WHERE campaign = ?`), int64(c.id)).Scan(&n); err != nil {
			return nil, storeErr("campaign work", err)
		}
		titles, err := s.pendingMeters(ctx, c.id, stageEnd(c.stage, n))
		if err != nil {
			return nil, err
		}
		job := wan.FirmwareJob{Campaign: c.id}
		for _, t := range titles {
			if ask[t] {
				job.Meters = append(job.Meters, hex.EncodeToString(t[:]))
			}
		}
		if len(job.Meters) == 0 {
			continue
		}
		if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT manifest, image FROM campaigns WHERE id = ?`), int64(c.id)).Scan(&job.Manifest, &job.Image); err != nil {
			return nil, storeErr("campaign work", err)
		}
		out = append(out, job)
	}
	return out, nil
}

// pendingMeters lists the meters at positions below end whose outcome is
// pending.
func (s *Store) pendingMeters(ctx context.Context, id uint32, end int) (out []protocol.SystemTitle, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT meter FROM campaign_meters WHERE campaign = ? AND pos < ? AND outcome = ? ORDER BY pos`), int64(id), end, outcomePending)
	if err != nil {
		return nil, storeErr("campaign work", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, storeErr("campaign work", err)
		}
		if len(b) == protocol.SystemTitleLen {
			out = append(out, protocol.SystemTitle(b))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("campaign work", err)
	}
	return out, nil
}

// reportCampaign records a meter's outcome (once: a meter that reported
// keeps its first outcome and recorded is false) and, when it was the last
// pending meter of the current stage, judges the stage: the campaign stops
// when failures exceed campaignMaxFailureRate of the meters reported so
// far, else moves to the next stage, or is done after the last.
func (s *Store) reportCampaign(ctx context.Context, id uint32, meter protocol.SystemTitle, installed bool, gateway, detail string, at time.Time) (recorded bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, storeErr("begin", err)
	}
	defer tx.Rollback()
	state, stage, n, err := s.lockCampaign(ctx, tx, id)
	if err != nil {
		return false, err
	}
	var pos int
	var outcome string
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT pos, outcome FROM campaign_meters WHERE campaign = ? AND meter = ?`), int64(id), meter[:]).Scan(&pos, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("%w: meter %x is not in campaign %d", ErrCampaignMeter, meter, id)
	}
	if err != nil {
		return false, storeErr("campaign outcome", err)
	}
	if outcome != outcomePending {
		return false, nil
	}
	if state == campaignLegacy || pos >= stageEnd(stage, n) {
		return false, fmt.Errorf("%w: meter %x is in a stage of campaign %d not reached", ErrCampaignMeter, meter, id)
	}
	outcome = outcomeFailed
	if installed {
		outcome = outcomeInstalled
	}
	if len(detail) > 1024 {
		detail = detail[:1024]
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE campaign_meters SET outcome = ?, gateway = ?, detail = ?, reported_at = ? WHERE campaign = ? AND meter = ?`),
		outcome, gateway, detail, at.UnixNano(), int64(id), meter[:]); err != nil {
		return false, storeErr("campaign outcome", err)
	}
	if err := s.judgeStages(ctx, tx, id, state, stage, n, at); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, storeErr("commit", err)
	}
	return true, nil
}

// judgeStages judges the current stage once none of its meters is
// pending: the campaign stops when failures exceed campaignMaxFailureRate
// of the meters reported so far, else it moves to the next stage (and
// judges that one at once when it adds no meter, as a small campaign's
// first stages cover the same meter), or is done after the last.
func (s *Store) judgeStages(ctx context.Context, tx *sql.Tx, id uint32, state string, stage, n int, at time.Time) error {
	if state == campaignStopped || state == campaignDone {
		return nil
	}
	var ok, failed int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT coalesce(sum(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0) FROM campaign_meters WHERE campaign = ?`),
		outcomeInstalled, outcomeFailed, int64(id)).Scan(&ok, &failed); err != nil {
		return storeErr("campaign outcome", err)
	}
	newState, from := state, stage
	var notes []string
	reason := ""
	for newState == state {
		var pending int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM campaign_meters WHERE campaign = ? AND pos < ? AND outcome = ?`), int64(id), stageEnd(stage, n), outcomePending).Scan(&pending); err != nil {
			return storeErr("campaign outcome", err)
		}
		if pending > 0 {
			break
		}
		if r := ok + failed; r > 0 && float64(failed)/float64(r) > campaignMaxFailureRate {
			newState = campaignStopped
			reason = fmt.Sprintf("%d of %d meters failed", failed, r)
			notes = append(notes, fmt.Sprintf("campaign %d stopped after stage %d: %s", id, stage+1, reason))
		} else if stage++; stage >= len(campaignStages) {
			newState = campaignDone
			notes = append(notes, fmt.Sprintf("campaign %d done: %d installed, %d failed", id, ok, failed))
		} else {
			notes = append(notes, fmt.Sprintf("campaign %d: stage %d of %d begins (%d installed, %d failed so far)", id, stage+1, len(campaignStages), ok, failed))
		}
	}
	if newState == state && stage == from {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE campaigns SET state = ?, stage = ?, reason = ? WHERE id = ?`), newState, stage, reason, int64(id)); err != nil {
		return storeErr("campaign stage", err)
	}
	return s.audit(ctx, tx, auditEntry{at, "head-end", "campaign-stage", strings.Join(notes, "; ")})
}

// Campaign returns a campaign as the store holds it, with each meter's
// outcome: what the operator API shows as progress and `verimeter
// campaign show` prints from a head-end's database.
func (s *Store) Campaign(id uint32) (*Campaign, error) {
	c := &Campaign{ID: id, Stages: campaignStages, MaxFailureRate: campaignMaxFailureRate}
	err := s.db.QueryRow(s.rebind(`SELECT first_approver, second_approver, manifest, image, state, stage, reason FROM campaigns WHERE id = ?`), int64(id)).
		Scan(&c.FirstApprover, &c.SecondApprover, &c.Manifest, &c.Image, &c.State, &c.Stage, &c.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: campaign %d", ErrNoCampaign, id)
	}
	if err != nil {
		return nil, storeErr("campaign", err)
	}
	c.Stopped = c.State == campaignStopped
	rows, err := s.db.Query(s.rebind(`SELECT meter, outcome, gateway, detail, reported_at FROM campaign_meters WHERE campaign = ? ORDER BY pos`), int64(id))
	if err != nil {
		return nil, storeErr("campaign", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m CampaignMeter
		var b []byte
		var at int64
		if err := rows.Scan(&b, &m.Outcome, &m.Gateway, &m.Detail, &at); err != nil {
			return nil, storeErr("campaign", err)
		}
		copy(m.Meter[:], b)
		if at != 0 {
			m.Reported = time.Unix(0, at).UTC()
		}
		switch m.Outcome {
		case outcomeInstalled:
			c.installed++
		case outcomeFailed:
			c.failed++
		}
		c.Meters = append(c.Meters, m)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("campaign", err)
	}
	for i := range c.Meters {
		c.Meters[i].Stage = stageOf(i, len(c.Meters))
	}
	return c, nil
}

// Campaigns lists the ids of the campaigns, approved or awaiting approval
// (pending is true for those).
func (s *Store) campaignIDs() (ids []uint32, pending []uint32, err error) {
	for _, q := range []struct {
		sql string
		out *[]uint32
	}{{`SELECT id FROM campaigns ORDER BY id`, &ids}, {`SELECT id FROM campaign_requests ORDER BY id`, &pending}} {
		rows, err := s.db.Query(q.sql)
		if err != nil {
			return nil, nil, storeErr("campaigns", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, storeErr("campaigns", err)
			}
			*q.out = append(*q.out, uint32(id))
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, nil, storeErr("campaigns", err)
		}
	}
	return ids, pending, nil
}

// String is a one-line summary of the campaign's progress.
func (c *Campaign) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %d: %s, stage %d of %d, %d installed, %d failed, %d meters", c.ID, c.State, min(c.Stage+1, len(c.Stages)), len(c.Stages), c.installed, c.failed, len(c.Meters))
	if c.Reason != "" {
		fmt.Fprintf(&b, " (%s)", c.Reason)
	}
	return b.String()
}
