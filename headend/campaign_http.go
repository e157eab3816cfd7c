package headend

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The HTTP face of firmware campaigns. Gateways pick their meters' work up
// at wan.FirmwarePath (GET) and report outcomes there (POST). Operators
// (certificates of role head-end under the head-end-operator CA; the name is
// the certificate's common name) work under /v1/operator/campaigns:
//
//	POST /v1/operator/campaigns              request a campaign (campaignRequestBody)
//	POST /v1/operator/campaigns/{id}/approve a second, different operator releases it
//	POST /v1/operator/campaigns/{id}/pause   stop handing it out
//	POST /v1/operator/campaigns/{id}/resume  hand it out again
//	GET  /v1/operator/campaigns              ids, approved and awaiting approval
//	GET  /v1/operator/campaigns/{id}         progress, with each meter's outcome
//
// Every operator call is in the audit log, refusals too.

// maxCampaignBody caps an operator's campaign request (manifest and image,
// base64 in JSON, and the meters).
const maxCampaignBody = 64 << 20

// registerCampaigns adds the campaign routes to mux.
func (h *HeadEnd) registerCampaigns(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/gateway/firmware", h.serveFirmwareWork)     // wan.FirmwarePath
	mux.HandleFunc("POST /v1/gateway/firmware", h.serveFirmwareOutcome) // wan.FirmwarePath
	mux.HandleFunc("POST /v1/operator/campaigns", h.serveCampaignRequest)
	mux.HandleFunc("GET /v1/operator/campaigns", h.serveCampaignList)
	mux.HandleFunc("GET /v1/operator/campaigns/{id}", h.serveCampaign)
	mux.HandleFunc("POST /v1/operator/campaigns/{id}/{action}", h.serveCampaignAction)
}

// campaignRequestBody is an operator's campaign request.
type campaignRequestBody struct {
	ID       uint32   `json:"id"`
	Manifest []byte   `json:"manifest"` // base64
	Image    []byte   `json:"image"`    // base64
	Meters   []string `json:"meters"`   // 16 hex digits each, in rollout order
}

// campaignMeterReply and campaignReply are a campaign's progress.
type campaignMeterReply struct {
	Meter    string `json:"meter"`
	Stage    int    `json:"stage"` // 1-based
	Outcome  string `json:"outcome,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Reported string `json:"reported,omitempty"` // RFC 3339
}

type campaignReply struct {
	ID             uint32               `json:"id"`
	State          string               `json:"state"`
	Stage          int                  `json:"stage"` // 1-based stage under way
	Stages         []float64            `json:"stages"`
	Installed      int                  `json:"installed"`
	Failed         int                  `json:"failed"`
	Pending        int                  `json:"pending"`
	Reason         string               `json:"reason,omitempty"`
	FirstApprover  string               `json:"first_approver"`
	SecondApprover string               `json:"second_approver"`
	ImageBytes     int                  `json:"image_bytes"`
	Meters         []campaignMeterReply `json:"meters"`
}

func replyOf(c *Campaign) campaignReply {
	inst, fail := c.Outcome()
	r := campaignReply{ID: c.ID, State: c.State, Stage: min(c.Stage+1, len(c.Stages)), Stages: c.Stages, Installed: inst, Failed: fail,
		Pending: len(c.Meters) - inst - fail, Reason: c.Reason, FirstApprover: c.FirstApprover, SecondApprover: c.SecondApprover, ImageBytes: len(c.Image)}
	for _, m := range c.Meters {
		mr := campaignMeterReply{Meter: hex.EncodeToString(m.Meter[:]), Stage: m.Stage + 1, Outcome: m.Outcome, Gateway: m.Gateway, Detail: m.Detail}
		if !m.Reported.IsZero() {
			mr.Reported = m.Reported.Format(time.RFC3339Nano)
		}
		r.Meters = append(r.Meters, mr)
	}
	return r
}

// campaignOperator is the operator a request comes from: its certificate
// must be valid now for the head-end role (head-end-operator CA).
func (h *HeadEnd) campaignOperator(w http.ResponseWriter, r *http.Request) (approver, bool) {
	a, err := h.operatorOf(r)
	if err != nil {
		httpError(w, http.StatusForbidden, err)
		return approver{}, false
	}
	return a, true
}

// campaignStatus maps a campaign error to its HTTP status.
func campaignStatus(err error) int {
	switch {
	case errors.Is(err, ErrRole), errors.Is(err, ErrApproval), errors.Is(err, ErrParticipant):
		return http.StatusForbidden
	case errors.Is(err, ErrNoCampaign):
		return http.StatusNotFound
	case errors.Is(err, ErrCampaignExists), errors.Is(err, ErrCampaignState):
		return http.StatusConflict
	case errors.Is(err, ErrCampaignRequest), errors.Is(err, ErrCampaignMeter):
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

func campaignID(r *http.Request) (uint32, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: campaign id must be a number below 2^32", ErrCampaignRequest)
	}
	return uint32(id), nil
}

func (h *HeadEnd) serveCampaignRequest(w http.ResponseWriter, r *http.Request) {
	op, ok := h.campaignOperator(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCampaignBody+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("reading the request: %w", err))
		return
	}
	if len(body) > maxCampaignBody {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("campaign request larger than %d bytes", maxCampaignBody))
		return
	}
	var req campaignRequestBody
	if err := json.Unmarshal(body, &req); err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrCampaignRequest, err))
		return
	}
	meters := make([]protocol.SystemTitle, 0, len(req.Meters))
	for _, s := range req.Meters {
		t, err := protocol.ParseSystemTitle(s)
		if err != nil {
			httpError(w, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrCampaignRequest, err))
			return
		}
		meters = append(meters, t)
	}
	if err := h.requestCampaign(op, req.ID, req.Manifest, req.Image, meters); err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": req.ID, "state": "awaiting-approval", "requester": op.Name})
}

func (h *HeadEnd) serveCampaignAction(w http.ResponseWriter, r *http.Request) {
	op, ok := h.campaignOperator(w, r)
	if !ok {
		return
	}
	id, err := campaignID(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	switch r.PathValue("action") {
	case "approve":
		_, err = h.approveCampaign(op, id)
	case "pause":
		err = h.pauseCampaign(op, id)
	case "resume":
		err = h.resumeCampaign(op, id)
	default:
		httpError(w, http.StatusNotFound, fmt.Errorf("no campaign action %q (approve, pause, resume)", r.PathValue("action")))
		return
	}
	if err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	h.writeCampaign(w, id)
}

func (h *HeadEnd) writeCampaign(w http.ResponseWriter, id uint32) {
	c, err := h.cfg.Store.Campaign(id)
	if err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	writeJSON(w, http.StatusOK, replyOf(c))
}

// auditRead writes an operator's read to the audit log; the read is not
// answered when its entry did not commit (fail closed, as a fetch).
func (h *HeadEnd) auditRead(w http.ResponseWriter, op approver, detail string) bool {
	if err := h.cfg.Store.appendAudit(h.cfg.Now(), op.Name, "campaign-read", detail); err != nil {
		httpError(w, http.StatusServiceUnavailable, err)
		return false
	}
	return true
}

func (h *HeadEnd) serveCampaign(w http.ResponseWriter, r *http.Request) {
	op, ok := h.campaignOperator(w, r)
	if !ok {
		return
	}
	id, err := campaignID(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	if h.auditRead(w, op, fmt.Sprintf("campaign %d", id)) {
		h.writeCampaign(w, id)
	}
}

func (h *HeadEnd) serveCampaignList(w http.ResponseWriter, r *http.Request) {
	op, ok := h.campaignOperator(w, r)
	if !ok || !h.auditRead(w, op, "campaign list") {
		return
	}
	ids, pending, err := h.cfg.Store.campaignIDs()
	if err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]uint32{"campaigns": ids, "awaiting_approval": pending})
}

func (h *HeadEnd) serveFirmwareWork(w http.ResponseWriter, r *http.Request) {
	c, err := h.client(r, protocol.RoleGateway)
	if err != nil {
		httpError(w, http.StatusForbidden, err)
		return
	}
	q := r.URL.Query()["meter"]
	if len(q) > wan.MaxFirmwareQuery {
		httpError(w, http.StatusBadRequest, fmt.Errorf("at most %d meters per request", wan.MaxFirmwareQuery))
		return
	}
	meters := make([]protocol.SystemTitle, 0, len(q))
	for _, s := range q {
		t, err := protocol.ParseSystemTitle(s)
		if err != nil {
			httpError(w, http.StatusBadRequest, err)
			return
		}
		meters = append(meters, t)
	}
	jobs, err := h.FirmwareWork(r.Context(), c.Subject.CommonName, meters)
	if err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	writeJSON(w, http.StatusOK, wan.FirmwareWork{Jobs: jobs})
}

func (h *HeadEnd) serveFirmwareOutcome(w http.ResponseWriter, r *http.Request) {
	c, err := h.client(r, protocol.RoleGateway)
	if err != nil {
		httpError(w, http.StatusForbidden, err)
		return
	}
	var o wan.FirmwareOutcome
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&o); err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("firmware outcome: %w", err))
		return
	}
	rec, err := h.FirmwareOutcome(r.Context(), c.Subject.CommonName, o)
	if err != nil {
		httpError(w, campaignStatus(err), err)
		return
	}
	writeJSON(w, http.StatusOK, wan.FirmwareOutcomeReply{Recorded: rec})
}
