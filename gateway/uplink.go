package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// Errors of the uplink. A failed Ingest wraps exactly one of them, so the
// caller knows whether trying the same batch again can help (Retryable).
var (
	// ErrHeadEndBusy: the head-end answered but could not commit the batch
	// now (a 5xx status: its store failed or it is shutting down). Nothing
	// was acknowledged; the same batch may be sent again.
	ErrHeadEndBusy = errors.New("gateway: head-end could not commit the batch now")
	// ErrHeadEndRefused: the head-end refused the batch itself (a 4xx
	// status: malformed, too large, our certificate not accepted). Sending
	// it again unchanged cannot help; the items stay queued for an operator.
	ErrHeadEndRefused = errors.New("gateway: head-end refused the batch")
	// ErrReply: the head-end's answer could not be read as an ingest reply.
	// Whether it committed is unknown, so nothing is acknowledged.
	ErrReply = errors.New("gateway: head-end reply unreadable")
)

// DefaultWANTimeout bounds one request to the head-end, answer included, so
// that a connection that stopped forwarding without closing (half open)
// ends in ErrWANDown and a retry instead of a gateway stuck forever.
const DefaultWANTimeout = 30 * time.Second

// HTTPSUplink is the gateway's outbound connection to the head-end: TLS 1.3
// with the gateway's certificate; the head-end's certificate is checked
// against the SM-PKI (verify: the role head-end, status now) rather than the
// web PKI. The gateway dials out; it never listens on the WAN.
type HTTPSUplink struct {
	url    string
	client *http.Client
}

// SetTimeout changes the bound on one request (DefaultWANTimeout unless
// set); a shorter one finds half-open connections sooner.
func (u *HTTPSUplink) SetTimeout(d time.Duration) { u.client.Timeout = d }

// NewHTTPSUplink returns an uplink to the head-end at addr (host:port).
func NewHTTPSUplink(addr string, cert tls.Certificate, verify func(*x509.Certificate) error) *HTTPSUplink {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// Chain and role are checked by verify against the SM-PKI roots.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("gateway: head-end sent no certificate")
			}
			c, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("gateway: head-end certificate: %w", err)
			}
			return verify(c)
		},
	}
	return &HTTPSUplink{url: "https://" + addr + "/v1/ingest", client: &http.Client{Timeout: DefaultWANTimeout, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}}
}

// Ingest posts a batch and returns the head-end's answer, which it sends
// only after its durable commit. A failure to connect, send or read the
// whole answer is ErrWANDown; a 5xx answer ErrHeadEndBusy; any other
// answer but 200 ErrHeadEndRefused; an answer that does not parse ErrReply.
// Only a nil error means the head-end committed the batch.
func (u *HTTPSUplink) Ingest(ctx context.Context, _ string, items []wan.Item) (wan.IngestResult, error) {
	body, err := wan.EncodeBatch(items)
	if err != nil {
		return wan.IngestResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
	if err != nil {
		return wan.IngestResult{}, err
	}
	req.Header.Set("Content-Type", "application/cbor")
	if c := wan.ClockOf(ctx); c > 0 {
		req.Header.Set(wan.ClockHeader, strconv.FormatUint(c, 10))
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return wan.IngestResult{}, fmt.Errorf("%w: %w", ErrWANDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, wan.MaxIngestBody))
	if err != nil {
		// The connection broke inside the answer: the head-end may have
		// committed, but the gateway cannot know; a resend is a duplicate
		// the head-end recognises.
		return wan.IngestResult{}, fmt.Errorf("%w: reading the answer: %w", ErrWANDown, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return wan.IngestResult{}, fmt.Errorf("%w: %s: %s", ErrHeadEndBusy, resp.Status, bytes.TrimSpace(b))
	case resp.StatusCode != http.StatusOK:
		return wan.IngestResult{}, fmt.Errorf("%w: %s: %s", ErrHeadEndRefused, resp.Status, bytes.TrimSpace(b))
	}
	var rep wan.IngestReply
	if err := json.Unmarshal(b, &rep); err != nil {
		return wan.IngestResult{}, fmt.Errorf("%w: %w", ErrReply, err)
	}
	res := wan.IngestResult{Stored: rep.Stored, Duplicates: rep.Duplicates, Intervals: rep.Intervals, Clock: rep.Clock, Acks: rep.Acks}
	for _, r := range rep.Rejected {
		res.Rejected = append(res.Rejected, errors.New(r))
	}
	return res, nil
}
