package sim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// HeadEndServer is a head-end served as `verimeter headend serve` serves
// it (HeadEnd.Server on a listener made with headend.TLSConfig), on the
// loopback: the simulation drives the head-end's operator side and the
// participants' fetches through its network API, as a deployment does,
// rather than by calling into the head-end.
type HeadEndServer struct {
	addr  string
	srv   *http.Server
	roots *x509.CertPool
}

// ServeHeadEnd serves he on a TLS listener on 127.0.0.1:0. Its server
// certificate (host 127.0.0.1) is issued by p's head-end-operator sub-CA,
// valid from notBefore; the clients trust p's root only.
func ServeHeadEnd(he *headend.HeadEnd, p *PKI, notBefore time.Time) (*HeadEndServer, error) {
	k := p.Key()
	leaf, err := p.Issue("head-end-operator", protocol.Identity{CommonName: "head-end", Hosts: []string{"127.0.0.1"}}, protocol.RoleHeadEnd, &k.PublicKey, notBefore, protocol.ParticipantValidity)
	if err != nil {
		return nil, fmt.Errorf("head-end TLS certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw, p.Subs["head-end-operator"].Cert.Raw}, PrivateKey: k, Leaf: leaf}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", headend.TLSConfig(cert))
	if err != nil {
		return nil, fmt.Errorf("head-end listener: %w", err)
	}
	s := &HeadEndServer{addr: ln.Addr().String(), srv: he.Server(log.New(io.Discard, "", 0)), roots: x509.NewCertPool()}
	s.roots.AddCert(p.Root.Cert)
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops serving; requests under way are cut off.
func (s *HeadEndServer) Close() error { return s.srv.Close() }

// Client returns a client of the head-end's API that authenticates with
// cert and its key, and checks the head-end's certificate against the
// root at the time now gives (the simulation's clock).
func (s *HeadEndServer) Client(cert *x509.Certificate, key *ecdsa.PrivateKey, now func() time.Time) *APIClient {
	tc := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: s.roots, Time: now,
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}}
	return NewAPIClient(s.addr, tc)
}

// NewAPIClient is a client of the head-end's API at addr (host:port) that
// authenticates and trusts as tc says: a party of a deployment on disk (the
// process demo's operators and participants, with their certificates of
// pki/).
func NewAPIClient(addr string, tc *tls.Config) *APIClient {
	c := &APIClient{base: "https://" + addr, hc: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tc}}}
	if len(tc.Certificates) > 0 {
		c.key, _ = tc.Certificates[0].PrivateKey.(*ecdsa.PrivateKey)
	}
	return c
}

// APIClient is one party of the head-end's API (an operator, a market
// participant) with its certificate: the simulation's operators and
// participants, and the adversary's, use the API through it.
type APIClient struct {
	base string
	hc   *http.Client
	// key is the party's own private key (its TLS client key), with which
	// an operator signs its approvals of commands (Approval).
	key *ecdsa.PrivateKey
}

// APIError is a refusal of the head-end's API as its client sees it: the
// HTTP status, the class of the operator API's JSON refusal
// (wan.OperatorError; "" where the answer is text: the participants' API
// and the campaign routes) and the message, which names why. The demo's
// report and the adversary campaign judge a refusal by it: by status and
// class, as a client of a deployment does, not by the head-end's Go error.
type APIError struct {
	Status int
	Class  string
	Msg    string
}

// Error is the status, the class and the message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if e.Class != "" {
		s += " (" + e.Class + ")"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Is matches a target *APIError of the same status whose class (when it
// names one) is the same and whose message (when it gives one) the
// refusal's message contains; and a sentinel error of the roles whose
// message the refusal's message contains: the head-end words a refusal
// with the error it wrapped (%w), so the client reads why from it.
func (e *APIError) Is(target error) bool {
	if t, ok := target.(*APIError); ok {
		return t.Status == e.Status && (t.Class == "" || t.Class == e.Class) && strings.Contains(e.Msg, t.Msg)
	}
	return target != nil && strings.Contains(e.Msg, target.Error())
}

// do is Call without the status.
func (c *APIClient) do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.Call(ctx, method, path, body, out)
	return err
}

// Call sends one request (body as JSON when not nil), decodes a 2xx answer
// into out when not nil and returns its status; any other answer is an
// *APIError.
func (c *APIClient) Call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode, Msg: strings.TrimSpace(string(raw))}
		var oe wan.OperatorError
		if json.Unmarshal(raw, &oe) == nil && oe.Class != "" {
			e.Class, e.Msg = oe.Class, oe.Error
		}
		return 0, fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return 0, fmt.Errorf("%s %s: the answer: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

func hexTitle(t protocol.SystemTitle) string { return hex.EncodeToString(t[:]) }

// RequestCommand is an operator's request for a command (POST
// /v1/operator/commands), pending a second operator's approval.
func (c *APIClient) RequestCommand(ctx context.Context, req wan.CommandRequest) (wan.OperatorCommand, error) {
	var out wan.OperatorCommand
	err := c.do(ctx, "POST", "/v1/operator/commands", req, &out)
	return out, err
}

// Approval is this operator's own approval of pending command id: the
// command's to_approve (GET /v1/operator/commands/{id}) signed with the
// operator's key (protocol.SignApproval), base64, as ApproveCommand takes
// it. The requester makes one for the approver, who adds its own.
func (c *APIClient) Approval(ctx context.Context, id int64) (string, error) {
	var oc wan.OperatorCommand
	if err := c.do(ctx, "GET", fmt.Sprintf("/v1/operator/commands/%d", id), nil, &oc); err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(oc.ToApprove)
	if err != nil || len(b) == 0 {
		return "", fmt.Errorf("command %d (%s) has nothing to approve: %w", id, oc.Status, errors.Join(err, errNoSigned))
	}
	cmd, err := protocol.DecodeCommandToApprove(b)
	if err != nil {
		return "", err
	}
	if c.key == nil {
		return "", fmt.Errorf("command %d: the client holds no ECDSA key to approve with: %w", id, protocol.ErrApproval)
	}
	a, err := protocol.SignApproval(cmd, c.key, rand.Reader)
	if err != nil {
		return "", err
	}
	ab, err := a.Marshal()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ab), nil
}

// ApproveCommand is a second operator's approval of command id (POST
// /v1/operator/commands/{id}/approve) with the requester's approval
// (Approval, made by the requester): the approver adds its own, and the
// head-end checks both, embeds them and signs. Without the requester's
// approval it sends none (enough for a kind the meter does not ask
// approvals of). It returns the command the head-end signed
// (COSE_Sign1), for a gateway to relay.
func (c *APIClient) ApproveCommand(ctx context.Context, id int64, requester ...string) ([]byte, error) {
	var out wan.OperatorCommand
	var body any
	if len(requester) > 0 {
		own, err := c.Approval(ctx, id)
		if err != nil {
			return nil, err
		}
		body = wan.ApproveRequest{Approvals: append(requester[:1:1], own)}
	}
	if err := c.do(ctx, "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", id), body, &out); err != nil {
		return nil, err
	}
	signed, err := base64.StdEncoding.DecodeString(out.Signed)
	if err != nil || len(signed) == 0 {
		return nil, fmt.Errorf("command %d approved without a signed command (%q): %w", id, out.Status, errors.Join(err, errNoSigned))
	}
	return signed, nil
}

// errNoSigned is an approval whose answer carries no signed command.
var errNoSigned = errors.New("no signed command in the answer")

// wakeUp has the head-end sign a wake-up for gateway gw.
func (c *APIClient) wakeUp(ctx context.Context, gw protocol.SystemTitle) ([]byte, error) {
	var out wan.OperatorWakeUp
	if err := c.do(ctx, "POST", "/v1/operator/gateways/"+hexTitle(gw)+"/wake-up", nil, &out); err != nil {
		return nil, err
	}
	signed, err := base64.StdEncoding.DecodeString(out.Signed)
	if err != nil {
		return nil, fmt.Errorf("wake-up for %x: %w", gw, err)
	}
	return signed, nil
}

// SwitchSupplier moves meter to participant from from until until (POST
// /v1/operator/meters/{meter}/supplier).
func (c *APIClient) SwitchSupplier(ctx context.Context, meter protocol.SystemTitle, participant string, from, until time.Time) error {
	return c.do(ctx, "POST", "/v1/operator/meters/"+hexTitle(meter)+"/supplier",
		wan.SupplierSwitch{Participant: participant, From: from.UTC().Format(time.RFC3339), Until: until.UTC().Format(time.RFC3339)}, nil)
}

// alarms lists the tamper alarms, only the open ones when open.
func (c *APIClient) alarms(ctx context.Context, open bool) ([]wan.OperatorAlarm, error) {
	var out []wan.OperatorAlarm
	err := c.do(ctx, "GET", fmt.Sprintf("/v1/operator/alarms?open=%t", open), nil, &out)
	return out, err
}

// ackAlarm acknowledges alarm id in the operator's name.
func (c *APIClient) ackAlarm(ctx context.Context, id int64) error {
	return c.do(ctx, "POST", fmt.Sprintf("/v1/operator/alarms/%d/ack", id), nil, nil)
}

// auditPage is the rows of one page of the audit log the client asks for
// (the head-end's most).
const auditPage = 1000

// audit reads the audit log, a page after another, up to a page that is
// not full (each call is itself audited: the log always has a line more).
func (c *APIClient) audit(ctx context.Context) ([]wan.OperatorAuditEntry, error) {
	var all []wan.OperatorAuditEntry
	after := int64(0)
	for {
		var page []wan.OperatorAuditEntry
		if err := c.do(ctx, "GET", fmt.Sprintf("/v1/operator/audit?after=%d&limit=%d", after, auditPage), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < auditPage {
			return all, nil
		}
		after = page[len(page)-1].Seq
	}
}

// treeHead has the head-end sign a tree head now.
func (c *APIClient) treeHead(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/operator/tree-head", nil, nil)
}

// evidence returns a stored item as signed and its inclusion proof.
func (c *APIClient) evidence(ctx context.Context, meter protocol.SystemTitle, counter uint64) (signed, evidence []byte, err error) {
	var out wan.OperatorEvidence
	if err := c.do(ctx, "GET", fmt.Sprintf("/v1/operator/meters/%s/readings/%d/evidence", hexTitle(meter), counter), nil, &out); err != nil {
		return nil, nil, err
	}
	if signed, err = base64.StdEncoding.DecodeString(out.Signed); err != nil {
		return nil, nil, fmt.Errorf("evidence for %x/%d: signed: %w", meter, counter, err)
	}
	if evidence, err = base64.StdEncoding.DecodeString(out.Evidence); err != nil {
		return nil, nil, fmt.Errorf("evidence for %x/%d: evidence: %w", meter, counter, err)
	}
	return signed, evidence, nil
}

// campaignRequest is the body of POST /v1/operator/campaigns.
type campaignRequest struct {
	ID       uint32   `json:"id"`
	Manifest []byte   `json:"manifest"`
	Image    []byte   `json:"image"`
	Meters   []string `json:"meters"`
}

// requestCampaign asks for firmware campaign id, which waits for a second
// operator's approval.
func (c *APIClient) requestCampaign(ctx context.Context, id uint32, manifest, image []byte, meters []protocol.SystemTitle) error {
	req := campaignRequest{ID: id, Manifest: manifest, Image: image}
	for _, m := range meters {
		req.Meters = append(req.Meters, hexTitle(m))
	}
	return c.do(ctx, "POST", "/v1/operator/campaigns", req, nil)
}

// approveCampaign releases campaign id.
func (c *APIClient) approveCampaign(ctx context.Context, id uint32) error {
	return c.do(ctx, "POST", fmt.Sprintf("/v1/operator/campaigns/%d/approve", id), nil, nil)
}

// Intervals is a participant's fetch of meter's intervals in [from, to)
// (GET /v1/meters/{meter}/intervals): each with its block's signed header
// and Merkle proof, for the participant to verify offline.
func (c *APIClient) Intervals(ctx context.Context, meter protocol.SystemTitle, from, to time.Time) ([]protocol.IntervalProof, error) {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	var out wan.ProofReply
	if err := c.do(ctx, "GET", "/v1/meters/"+hexTitle(meter)+"/intervals?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	ps := make([]protocol.IntervalProof, 0, len(out.Proofs))
	for i, s := range out.Proofs {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("intervals of %x: proof %d: %w", meter, i, err)
		}
		p, err := protocol.UnmarshalIntervalProof(b)
		if err != nil {
			return nil, fmt.Errorf("intervals of %x: proof %d: %w", meter, i, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// command has a command requested by operator alice and approved by
// operator bob through the operator API (four eyes), and returns it as the
// head-end signed it, for a gateway to relay.
func (w *world) command(ctx context.Context, meter protocol.SystemTitle, req wan.CommandRequest) ([]byte, error) {
	req.Meter = hexTitle(meter)
	c, err := w.alice.RequestCommand(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s command for %x: %w", req.Kind, meter, err)
	}
	mine, err := w.alice.Approval(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("%s command for %x: %w", req.Kind, meter, err)
	}
	signed, err := w.bob.ApproveCommand(ctx, c.ID, mine)
	if err != nil {
		return nil, fmt.Errorf("%s command for %x: %w", req.Kind, meter, err)
	}
	return signed, nil
}

// Refusals of the operator API the report counts, by status and class.
var (
	errSameOperator = &APIError{Status: http.StatusConflict, Class: wan.ClassSameOperator}
	errForbidden    = &APIError{Status: http.StatusForbidden, Class: wan.ClassForbidden}
	errRuleRefused  = &APIError{Status: http.StatusUnprocessableEntity, Class: wan.ClassRefused}
)
