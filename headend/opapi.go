package headend

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The operator API: JSON under /v1/operator/ on the head-end's TLS
// listener (openapi.json documents every route).
//
// Who is an operator. A client certificate is an operator's when the
// SM-PKI Validator accepts it now in role head-end (so it chains to the
// head-end-operator sub-CA, the only one that certifies that role, and is
// not revoked), it names no host (a head-end's TLS server certificate
// does), it is not the certificate of the head-end's own command or log
// key, and it has a common name: the operator's name, which the audit log
// records and the four-eyes rule compares. A gateway's or a market
// participant's certificate is refused with 403 on every operator route.
//
// Every operator call is written to the audit log with the operator's name
// before it is served; a call whose entry does not commit is not served
// (503). A refusal of a certificate the PKI knows in another role is
// audited too.

// Errors of the operator API, mapped to statuses and wan.Class* values.
var (
	// ErrOperator refuses a client certificate that is not an operator's.
	ErrOperator = errors.New("headend: not an operator certificate")
	// ErrSameOperator is the four-eyes rule: the operator who requested a
	// command may not approve it.
	ErrSameOperator = errors.New("headend: the operator who requested a command may not approve it")
	// ErrNoCommand means no requested command has that id.
	ErrNoCommand = errors.New("headend: no such command")
	// ErrCommandState means the command is not pending (approved or
	// refused before, or being signed).
	ErrCommandState = errors.New("headend: command is not pending")
	// ErrOperatorInput is a malformed operator request.
	ErrOperatorInput = errors.New("headend: malformed operator request")
	// ErrNoItem means the store holds no item of that meter and counter.
	ErrNoItem = errors.New("headend: no such stored item")
)

// Bounds of the operator API's answers.
const (
	// maxReadingsSpan bounds a readings query's period.
	maxReadingsSpan = 31 * 24 * time.Hour
	// maxReadingsItems bounds the items of one readings answer.
	maxReadingsItems = 5000
	// maxListed bounds the rows of an inventory, command or audit answer
	// (the caller pages on with after=).
	maxListed = 1000
	// staleClaim is how long a command stays "signing" before another
	// approval may take it over: the approving head-end died between its
	// claim and its signature.
	staleClaim = time.Minute
)

// registerOperator adds the operator routes, the gateways' pick-up of
// ready commands and the OpenAPI document.
func (h *HeadEnd) registerOperator(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/openapi.json", serveOpenAPI)
	mux.HandleFunc("GET /v1/operator/meters", h.op(h.opMeters))
	mux.HandleFunc("GET /v1/operator/meters/{meter}/readings", h.op(h.opReadings))
	mux.HandleFunc("GET /v1/operator/meters/{meter}/readings/{counter}/evidence", h.op(h.opEvidence))
	mux.HandleFunc("GET /v1/operator/meters/{meter}/contracts", h.op(h.opContracts))
	mux.HandleFunc("POST /v1/operator/meters/{meter}/supplier", h.op(h.opSwitchSupplier))
	mux.HandleFunc("GET /v1/operator/commands", h.op(h.opCommands))
	mux.HandleFunc("POST /v1/operator/commands", h.op(h.opRequestCommand))
	mux.HandleFunc("GET /v1/operator/commands/{id}", h.op(h.opCommand))
	mux.HandleFunc("POST /v1/operator/commands/{id}/approve", h.op(h.opApproveCommand))
	mux.HandleFunc("POST /v1/operator/gateways/{gateway}/wake-up", h.op(h.opWakeUp))
	mux.HandleFunc("GET /v1/operator/alarms", h.op(h.opAlarms))
	mux.HandleFunc("POST /v1/operator/alarms/{id}/ack", h.op(h.opAckAlarm))
	mux.HandleFunc("GET /v1/operator/audit", h.op(h.opAudit))
	mux.HandleFunc("POST /v1/operator/tree-head", h.op(h.opTreeHead))
	// The other end of the command workflow: gateways pick commands up.
	h.registerGatewayCommands(mux)
	h.registerReads(mux)
	// The same operations as web pages, for an operator's browser.
	h.registerConsole(mux)
}

// operator returns the operator a request comes from, or ErrOperator.
func (h *HeadEnd) operatorOf(r *http.Request) (approver, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return approver{}, fmt.Errorf("%w: no client certificate", ErrOperator)
	}
	c := r.TLS.PeerCertificates[0]
	if err := h.cfg.Validator.Check(c, protocol.RoleHeadEnd, h.cfg.Now()); err != nil {
		return approver{}, fmt.Errorf("%w: %w", ErrOperator, err)
	}
	switch {
	case len(c.DNSNames)+len(c.IPAddresses) > 0:
		return approver{}, fmt.Errorf("%w: %s is a TLS server certificate", ErrOperator, c.Subject.CommonName)
	case ownKey(c, h.cfg.Key) || ownKey(c, h.cfg.LogKey):
		return approver{}, fmt.Errorf("%w: %s is the head-end's own key", ErrOperator, c.Subject.CommonName)
	case c.Subject.CommonName == "":
		return approver{}, fmt.Errorf("%w: no common name", ErrOperator)
	}
	return approver{Name: c.Subject.CommonName, Cert: c}, nil
}

// ownKey says whether c certifies k's public key.
func ownKey(c *x509.Certificate, k *ecdsa.PrivateKey) bool {
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && k != nil && pub.Equal(&k.PublicKey)
}

// operatorCall admits an operator's request, the one gate of the JSON API
// (op) and the console (console): the role check (a refusal of a
// certificate the PKI knows in another role is audited), the call's audit
// entry, which must commit before the call is served, and the bounded
// body.
func (h *HeadEnd) operatorCall(w http.ResponseWriter, r *http.Request) (approver, error) {
	a, err := h.operatorOf(r)
	if err != nil {
		if errors.Is(err, protocol.ErrRole) {
			// A certificate of the PKI in another role: worth a line.
			err = h.refuse(r.TLS.PeerCertificates[0].Subject.CommonName, "operator-refused", r.Method+" "+r.URL.Path, err)
		}
		return approver{}, err
	}
	if err := h.cfg.Store.appendAudit(h.cfg.Now(), a.Name, "operator-call", r.Method+" "+r.URL.RequestURI()); err != nil {
		return approver{}, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, wan.MaxOperatorBody)
	return a, nil
}

// op admits operators to fn (operatorCall) and answers a refusal or fn's
// error as JSON.
func (h *HeadEnd) op(fn func(w http.ResponseWriter, r *http.Request, a approver) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := h.operatorCall(w, r)
		if err == nil {
			err = fn(w, r, a)
		}
		if err != nil {
			opError(w, err)
		}
	}
}

// opStatus maps an operator call's error to its HTTP status and
// wan.Class* value.
func opStatus(err error) (int, string) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, ErrOperator), errors.Is(err, ErrParticipant), errors.Is(err, errCrossOrigin):
		return http.StatusForbidden, wan.ClassForbidden
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, wan.ClassTooLarge
	case errors.Is(err, ErrOperatorInput):
		return http.StatusBadRequest, wan.ClassBadRequest
	case errors.Is(err, ErrNoCommand), errors.Is(err, ErrNoItem), errors.Is(err, ErrAlarm), errors.Is(err, ErrNotLogged), errors.Is(err, errNoRead):
		return http.StatusNotFound, wan.ClassNotFound
	case errors.Is(err, ErrSameOperator):
		return http.StatusConflict, wan.ClassSameOperator
	case errors.Is(err, ErrCommandState), errors.Is(err, errReadState):
		return http.StatusConflict, wan.ClassConflict
	case errors.Is(err, ErrNoLogKey):
		return http.StatusConflict, wan.ClassNotConfigured
	case errors.Is(err, ErrRole), errors.Is(err, ErrApproval), errors.Is(err, ErrRateLimit):
		return http.StatusUnprocessableEntity, wan.ClassRefused
	}
	return http.StatusServiceUnavailable, wan.ClassUnavailable
}

// opError writes a refusal as JSON with its status and class.
func opError(w http.ResponseWriter, err error) {
	code, class := opStatus(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(wan.OperatorError{Class: class, Error: err.Error()})
}

// writeJSON answers v with code.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// decodeBody reads a request's JSON body into v: one object, no unknown
// fields.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("%w: body: %w", ErrOperatorInput, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: body: more than one JSON value", ErrOperatorInput)
	}
	return nil
}

func parseMeter(s string) (protocol.SystemTitle, error) {
	m, err := protocol.ParseSystemTitle(s)
	if err != nil {
		return m, fmt.Errorf("%w: meter: %w", ErrOperatorInput, err)
	}
	return m, nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: id %q: want a positive integer", ErrOperatorInput, s)
	}
	return id, nil
}

func parseTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q: want an RFC 3339 time", ErrOperatorInput, name, s)
	}
	return t, nil
}

// queryInt reads an optional non-negative integer parameter.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s %q: want a non-negative integer", ErrOperatorInput, name, s)
	}
	return n, nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func kindName(k wan.Kind) string {
	switch k {
	case wan.KindReading:
		return "reading"
	case wan.KindEvent:
		return "event"
	case wan.KindBlock:
		return "block"
	}
	return strconv.Itoa(int(k))
}

// commandKinds are the command kinds an operator may request by name (a
// gateway's wake-up has a route of its own). A trust list, the operator
// change, carries the list the trust-list signer signed.
var commandKinds = map[string]protocol.CommandKind{
	"tariff": protocol.CmdTariff, "disconnect": protocol.CmdDisconnect, "reconnect": protocol.CmdReconnect,
	"clock-set": protocol.CmdClockSet, "key-rotation": protocol.CmdKeyRotation, "trust-list": protocol.CmdTrustList,
}

func commandKindName(k protocol.CommandKind) string {
	for n, v := range commandKinds {
		if v == k {
			return n
		}
	}
	return strconv.Itoa(int(k))
}

func (h *HeadEnd) opMeters(w http.ResponseWriter, r *http.Request, _ approver) error {
	after := r.URL.Query().Get("after")
	var from []byte
	if after != "" {
		m, err := parseMeter(after)
		if err != nil {
			return err
		}
		from = m[:]
	}
	limit, err := queryInt(r, "limit", maxListed)
	if err != nil {
		return err
	}
	out, err := h.cfg.Store.inventory(r.Context(), from, int(min(max(limit, 1), maxListed)), h.cfg.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opReadings(w http.ResponseWriter, r *http.Request, _ approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	from, err := parseTime("from", r.URL.Query().Get("from"))
	if err != nil {
		return err
	}
	to, err := parseTime("to", r.URL.Query().Get("to"))
	if err != nil {
		return err
	}
	if !from.Before(to) || to.Sub(from) > maxReadingsSpan {
		return fmt.Errorf("%w: from must be before to, at most %s apart", ErrOperatorInput, maxReadingsSpan)
	}
	out, err := h.cfg.Store.readings(r.Context(), meter, from.Unix(), to.Unix(), h.blockHeader)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opEvidence(w http.ResponseWriter, r *http.Request, _ approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	counter, err := strconv.ParseUint(r.PathValue("counter"), 10, 63)
	if err != nil {
		return fmt.Errorf("%w: counter %q", ErrOperatorInput, r.PathValue("counter"))
	}
	sign1, err := h.cfg.Store.itemSign1(r.Context(), meter, counter)
	if err != nil {
		return err
	}
	ev, err := h.evidenceFor(r.Context(), sign1)
	if err != nil {
		return err
	}
	b, err := ev.Marshal()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wan.OperatorEvidence{Meter: hex.EncodeToString(meter[:]), Counter: counter, Signed: base64.StdEncoding.EncodeToString(sign1), Evidence: base64.StdEncoding.EncodeToString(b)})
}

func (h *HeadEnd) opContracts(w http.ResponseWriter, r *http.Request, _ approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	out, err := h.cfg.Store.contractsOf(r.Context(), meter)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opSwitchSupplier(w http.ResponseWriter, r *http.Request, a approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	var req wan.SupplierSwitch
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	from, err := parseTime("from", req.From)
	if err != nil {
		return err
	}
	until, err := parseTime("until", req.Until)
	if err != nil {
		return err
	}
	if req.Participant == "" || !from.Before(until) {
		return fmt.Errorf("%w: a participant, and from before until", ErrOperatorInput)
	}
	if err := h.cfg.Store.switchSupplier(meter, req.Participant, from, until); err != nil {
		return err
	}
	out, err := h.cfg.Store.contractsOf(r.Context(), meter)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opCommands(w http.ResponseWriter, r *http.Request, _ approver) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", wan.CommandPending, wan.CommandSigning, wan.CommandReady, wan.CommandRefused, wan.CommandRelayed, wan.CommandFailed:
	default:
		return fmt.Errorf("%w: status %q", ErrOperatorInput, status)
	}
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	out, err := h.cfg.Store.operatorCommands(r.Context(), status, after, maxListed)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opCommand(w http.ResponseWriter, r *http.Request, _ approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := h.cfg.Store.operatorCommand(r.Context(), id)
	if err != nil {
		return err
	}
	o, err := h.wireToApprove(c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

// wireToApprove is c as one command's answer gives it: while pending, with
// the command its approvers sign (ToApprove).
func (h *HeadEnd) wireToApprove(c operatorCommand) (wan.OperatorCommand, error) {
	o := c.wire()
	if c.status != wan.CommandPending {
		return o, nil
	}
	tc, err := h.commandToApprove(c.command())
	if err != nil {
		return o, err
	}
	b, err := protocol.EncodeCommandToApprove(tc)
	if err != nil {
		return o, err
	}
	o.ToApprove = base64.StdEncoding.EncodeToString(b)
	return o, nil
}

func (h *HeadEnd) opRequestCommand(w http.ResponseWriter, r *http.Request, a approver) error {
	var req wan.CommandRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := h.requestCommand(r.Context(), a, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (h *HeadEnd) opApproveCommand(w http.ResponseWriter, r *http.Request, a approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	// No body is no approvals (enough for a kind the meter does not ask
	// approvals of); a body is parsed strictly.
	var req wan.ApproveRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			return err
		}
	}
	if len(req.Approvals) > 2 {
		return fmt.Errorf("%w: approvals: %d, at most the requester's and the approver's", ErrOperatorInput, len(req.Approvals))
	}
	var approvals []protocol.Approval
	for i, s := range req.Approvals {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("%w: approvals[%d]: %w", ErrOperatorInput, i, err)
		}
		ap, err := protocol.UnmarshalApproval(b)
		if err != nil {
			return fmt.Errorf("%w: approvals[%d]: %w", ErrOperatorInput, i, err)
		}
		approvals = append(approvals, ap)
	}
	c, err := h.approveCommand(r.Context(), id, a, approvals...)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// opWakeUp signs a wake-up for a gateway: the head-end's command counter
// for the gateway's title orders them (the gateway refuses one not above
// the last it accepted), and the request is in the audit log like every
// command.
func (h *HeadEnd) opWakeUp(w http.ResponseWriter, r *http.Request, a approver) error {
	gw, err := protocol.ParseSystemTitle(r.PathValue("gateway"))
	if err != nil {
		return fmt.Errorf("%w: gateway: %w", ErrOperatorInput, err)
	}
	signed, err := h.issueCommand(a, nil, protocol.Command{Meter: gw, Kind: protocol.CmdWakeUp})
	if err != nil {
		return err
	}
	c, err := protocol.PeekCommand(signed)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wan.OperatorWakeUp{Gateway: hex.EncodeToString(gw[:]), Counter: c.Counter, Signed: base64.StdEncoding.EncodeToString(signed)})
}

func (h *HeadEnd) opAlarms(w http.ResponseWriter, r *http.Request, _ approver) error {
	open := false
	switch v := r.URL.Query().Get("open"); v {
	case "", "false":
	case "true":
		open = true
	default:
		return fmt.Errorf("%w: open %q: want true or false", ErrOperatorInput, v)
	}
	alarms, err := h.alarms(r.Context(), open)
	if err != nil {
		return err
	}
	out := make([]wan.OperatorAlarm, 0, len(alarms))
	for _, a := range alarms {
		o := wan.OperatorAlarm{ID: a.ID, Meter: hex.EncodeToString(a.Meter[:]), Event: a.Event, Kind: a.Kind, Raised: rfc3339(a.Raised), AckedBy: a.AckedBy}
		if a.AckedBy != "" {
			o.AckedAt = rfc3339(a.AckedAt)
		}
		out = append(out, o)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opAckAlarm(w http.ResponseWriter, r *http.Request, a approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.acknowledgeAlarm(r.Context(), id, a.Name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": id, "acked_by": a.Name})
}

func (h *HeadEnd) opAudit(w http.ResponseWriter, r *http.Request, _ approver) error {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", maxListed)
	if err != nil {
		return err
	}
	out, err := h.cfg.Store.auditPage(r.Context(), after, int(min(max(limit, 1), maxListed)))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *HeadEnd) opTreeHead(w http.ResponseWriter, r *http.Request, _ approver) error {
	sth, err := h.signTreeHead(r.Context())
	if err != nil {
		return err
	}
	b, err := sth.Marshal()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wan.TreeHeadReply{TreeHead: base64.StdEncoding.EncodeToString(b)})
}

// requestCommand records an operator's request for a command, pending a
// second operator's approval (the four-eyes workflow); the row and its
// audit entry commit together. It survives a restart of the head-end.
func (h *HeadEnd) requestCommand(ctx context.Context, a approver, req wan.CommandRequest) (wan.OperatorCommand, error) {
	meter, err := parseMeter(req.Meter)
	if err != nil {
		return wan.OperatorCommand{}, err
	}
	kind, ok := commandKinds[req.Kind]
	if !ok {
		return wan.OperatorCommand{}, fmt.Errorf("%w: kind %q: want tariff, disconnect, reconnect, clock-set, key-rotation or trust-list", ErrOperatorInput, req.Kind)
	}
	var payload []byte
	switch {
	case kind == protocol.CmdTrustList:
		if payload, err = base64.StdEncoding.DecodeString(req.TrustList); err != nil || len(payload) == 0 {
			return wan.OperatorCommand{}, fmt.Errorf("%w: trust_list: want the signed list in base64", ErrOperatorInput)
		}
		tl, err := protocol.PeekTrustList(payload)
		if err != nil {
			return wan.OperatorCommand{}, fmt.Errorf("%w: trust_list: %w", ErrOperatorInput, err)
		}
		if tl.Meter != meter {
			return wan.OperatorCommand{}, fmt.Errorf("%w: trust_list is for meter %x, not %x", ErrOperatorInput, tl.Meter, meter)
		}
	case req.TrustList != "":
		return wan.OperatorCommand{}, fmt.Errorf("%w: trust_list belongs to kind trust-list only", ErrOperatorInput)
	}
	if kind == protocol.CmdClockSet && (req.ClockStep == 0 || req.ClockStep < -protocol.MaxClockStep || req.ClockStep > protocol.MaxClockStep) {
		return wan.OperatorCommand{}, fmt.Errorf("%w: clock_step %d: want a non-zero step of at most %d s", ErrOperatorInput, req.ClockStep, protocol.MaxClockStep)
	}
	if kind != protocol.CmdClockSet && req.ClockStep != 0 || kind != protocol.CmdTariff && req.Tariff != 0 {
		return wan.OperatorCommand{}, fmt.Errorf("%w: tariff and clock_step belong to their kinds only", ErrOperatorInput)
	}
	c := operatorCommand{meter: meter, kind: kind, tariff: req.Tariff, clockStep: req.ClockStep, payload: payload, requestedBy: a.Name, requesterCert: a.Cert.Raw, requestedAt: h.cfg.Now(), status: wan.CommandPending}
	if c.id, err = h.cfg.Store.addOperatorCommand(ctx, c); err != nil {
		return wan.OperatorCommand{}, err
	}
	return h.wireToApprove(c)
}

// approveCommand is a second operator's approval of a pending command: the
// head-end signs it through issueCommand (requester and approver as its two
// approvers) and keeps it, ready for the gateway. The requester approving
// is ErrSameOperator; a command that is not pending is ErrCommandState.
// The head-end's rules (roles, the disconnect rate) may still refuse it:
// a rate limit leaves it pending, any other refusal marks it refused.
//
// approvals are the requester's and a's own signatures over the command as
// commandToApprove gives it (the wire's ToApprove), which issueCommand
// checks and embeds; a disconnect needs both.
func (h *HeadEnd) approveCommand(ctx context.Context, id int64, a approver, approvals ...protocol.Approval) (wan.OperatorCommand, error) {
	s := h.cfg.Store
	c, err := s.operatorCommand(ctx, id)
	if err != nil {
		return wan.OperatorCommand{}, err
	}
	if c.requestedBy == a.Name {
		return wan.OperatorCommand{}, h.refuse(a.Name, "command-approval-refused", fmt.Sprintf("command %d: requested by the same operator", id),
			fmt.Errorf("%w: %s requested command %d", ErrSameOperator, a.Name, id))
	}
	if c.kind == protocol.CmdDisconnect && len(approvals) != 2 {
		// Refused before the command is claimed: it stays pending for an
		// approval that carries both signatures (the console's button
		// cannot sign with the operator's key; `verimeter operator
		// approve` does).
		return wan.OperatorCommand{}, h.refuse(a.Name, "command-refused", fmt.Sprintf("command %d: a disconnect without its two signed approvals", id),
			fmt.Errorf("%w: command %d: a disconnect needs the requester's and the approver's signed approvals, got %d", ErrApproval, id, len(approvals)))
	}
	now := h.cfg.Now()
	if err := s.claimOperatorCommand(ctx, id, a.Name, now); err != nil {
		return wan.OperatorCommand{}, err
	}
	reqCert, err := x509.ParseCertificate(c.requesterCert)
	if err != nil {
		return wan.OperatorCommand{}, errors.Join(fmt.Errorf("%w: stored requester certificate: %w", ErrStore, err), s.releaseOperatorCommand(ctx, id))
	}
	signed, err := h.issueCommand(approver{Name: c.requestedBy, Cert: reqCert}, &a, c.command(), approvals...)
	switch {
	case errors.Is(err, ErrRateLimit):
		return wan.OperatorCommand{}, errors.Join(err, s.releaseOperatorCommand(ctx, id))
	case errors.Is(err, ErrRole), errors.Is(err, ErrApproval):
		if ferr := s.finishOperatorCommand(ctx, id, wan.CommandRefused, nil, 0, err.Error()); ferr != nil {
			return wan.OperatorCommand{}, errors.Join(err, ferr)
		}
		return wan.OperatorCommand{}, err
	case err != nil:
		// Nothing signed is handed out; a counter used stays used (the
		// meter accepts any higher one).
		return wan.OperatorCommand{}, errors.Join(err, s.releaseOperatorCommand(ctx, id))
	}
	pc, err := protocol.PeekCommand(signed)
	if err != nil {
		return wan.OperatorCommand{}, err
	}
	if err := s.finishOperatorCommand(ctx, id, wan.CommandReady, signed, pc.Counter, ""); err != nil {
		return wan.OperatorCommand{}, err
	}
	c, err = s.operatorCommand(ctx, id)
	if err != nil {
		return wan.OperatorCommand{}, err
	}
	return c.wire(), nil
}
