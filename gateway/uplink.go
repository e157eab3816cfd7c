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
	"time"

	"github.com/verimeter/verimeter/headend/api"
)

// HTTPSUplink is the gateway's outbound connection to the head-end: TLS 1.3
// with the gateway's certificate; the head-end's certificate is checked
// against the SM-PKI (verify: the role head-end, status now) rather than the
// web PKI. The gateway dials out; it never listens on the WAN.
type HTTPSUplink struct {
	url    string
	client *http.Client
}

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
				return err
			}
			return verify(c)
		},
	}
	return &HTTPSUplink{url: "https://" + addr + "/v1/ingest", client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}}
}

// Ingest posts a batch and returns the head-end's answer, which it sends
// only after its durable commit.
func (u *HTTPSUplink) Ingest(ctx context.Context, _ string, items []api.Item) (api.IngestResult, error) {
	body, err := api.EncodeBatch(items)
	if err != nil {
		return api.IngestResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
	if err != nil {
		return api.IngestResult{}, err
	}
	req.Header.Set("Content-Type", "application/cbor")
	resp, err := u.client.Do(req)
	if err != nil {
		return api.IngestResult{}, fmt.Errorf("%w: %v", ErrWANDown, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return api.IngestResult{}, fmt.Errorf("gateway: head-end answered %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var rep api.IngestReply
	if err := json.Unmarshal(b, &rep); err != nil {
		return api.IngestResult{}, fmt.Errorf("gateway: head-end reply: %v", err)
	}
	res := api.IngestResult{Stored: rep.Stored, Duplicates: rep.Duplicates, Intervals: rep.Intervals}
	for _, r := range rep.Rejected {
		res.Rejected = append(res.Rejected, errors.New(r))
	}
	return res, nil
}
