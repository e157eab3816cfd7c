package gateway

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// FirmwareSource is where a gateway picks up the firmware campaign work of
// its meters and reports their outcomes: the head-end over the gateway's
// own outbound connection (HTTPSUplink), or in process. The gateway never
// listens; it asks.
type FirmwareSource interface {
	// FirmwareWork returns the running campaigns' work for those of
	// meters the head-end offers now.
	FirmwareWork(ctx context.Context, gateway string, meters []protocol.SystemTitle) ([]wan.FirmwareJob, error)
	// FirmwareOutcome reports one meter's outcome; false means the meter
	// had reported before.
	FirmwareOutcome(ctx context.Context, gateway string, o wan.FirmwareOutcome) (bool, error)
}

// CampaignResult is one meter's outcome of a campaign relayed by
// RunCampaigns: installed, or refused by the meter (Refusal says why).
type CampaignResult struct {
	Campaign  uint32
	Meter     protocol.SystemTitle
	Installed bool
	Refusal   error
}

// RunCampaigns picks up the campaign work of meters from src, relays each
// job's manifest and image to its meters over PLC (Firmware), and reports
// each outcome to src before the next meter. It asks again after each
// round (a stage that completes offers the next one) until a round brings
// nothing it has not tried in this call. each, when not nil, sees every
// reported outcome. A meter that cannot be reached (no session, no answer)
// is not an outcome: it is not reported, so the head-end offers it again
// at the next pick-up, and the error is returned with the others after the
// remaining meters were served.
func (g *Gateway) RunCampaigns(ctx context.Context, src FirmwareSource, meters []protocol.SystemTitle, each func(CampaignResult)) (reported int, err error) {
	type key struct {
		campaign uint32
		meter    protocol.SystemTitle
	}
	mine := make(map[protocol.SystemTitle]bool, len(meters))
	for _, m := range meters {
		mine[m] = true
	}
	tried := map[key]bool{}
	var errs []error
	for {
		var jobs []wan.FirmwareJob
		for i := 0; i < len(meters); i += wan.MaxFirmwareQuery {
			js, err := src.FirmwareWork(ctx, g.cfg.Name, meters[i:min(len(meters), i+wan.MaxFirmwareQuery)])
			if err != nil {
				return reported, errors.Join(append(errs, fmt.Errorf("campaign pick-up: %w", err))...)
			}
			jobs = append(jobs, js...)
		}
		fresh := 0
		for _, j := range jobs {
			for _, s := range j.Meters {
				m, err := protocol.ParseSystemTitle(s)
				if err != nil || !mine[m] {
					continue // not a meter this gateway asked for
				}
				k := key{j.Campaign, m}
				if tried[k] {
					continue
				}
				tried[k] = true
				fresh++
				ferr := g.Firmware(m, j.Campaign, j.Manifest, j.Image)
				if ferr != nil && !errors.Is(ferr, ErrMeterRefus) {
					errs = append(errs, fmt.Errorf("campaign %d to meter %x: %w", j.Campaign, m, ferr))
					continue
				}
				o := wan.FirmwareOutcome{Campaign: j.Campaign, Meter: hex.EncodeToString(m[:]), Installed: ferr == nil}
				if ferr != nil {
					o.Detail = ferr.Error()
				}
				if _, err := src.FirmwareOutcome(ctx, g.cfg.Name, o); err != nil {
					return reported, errors.Join(append(errs, fmt.Errorf("campaign %d outcome of meter %x: %w", j.Campaign, m, err))...)
				}
				reported++
				if each != nil {
					each(CampaignResult{Campaign: j.Campaign, Meter: m, Installed: ferr == nil, Refusal: ferr})
				}
			}
		}
		if fresh == 0 {
			return reported, errors.Join(errs...)
		}
	}
}

// base is the head-end's https://host:port.
func (u *HTTPSUplink) base() string { return strings.TrimSuffix(u.url, "/v1/ingest") }

// FirmwareWork asks the head-end for the campaign work of meters (GET
// wan.FirmwarePath). Errors are classified as for Ingest.
func (u *HTTPSUplink) FirmwareWork(ctx context.Context, _ string, meters []protocol.SystemTitle) ([]wan.FirmwareJob, error) {
	q := url.Values{}
	for _, m := range meters {
		q.Add("meter", hex.EncodeToString(m[:]))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.base()+wan.FirmwarePath+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	b, err := u.do(req, wan.MaxFirmwareReply)
	if err != nil {
		return nil, err
	}
	var w wan.FirmwareWork
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReply, err)
	}
	return w.Jobs, nil
}

// FirmwareOutcome reports one meter's outcome (POST wan.FirmwarePath); the
// head-end answers after its commit. Errors are classified as for Ingest.
func (u *HTTPSUplink) FirmwareOutcome(ctx context.Context, _ string, o wan.FirmwareOutcome) (bool, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.base()+wan.FirmwarePath, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	b, err := u.do(req, 1<<20)
	if err != nil {
		return false, err
	}
	var rep wan.FirmwareOutcomeReply
	if err := json.Unmarshal(b, &rep); err != nil {
		return false, fmt.Errorf("%w: %w", ErrReply, err)
	}
	return rep.Recorded, nil
}

// do sends req and returns the body of a 200 answer of at most limit
// bytes; other answers are ErrHeadEndBusy (5xx) or ErrHeadEndRefused, a
// failure to connect or read ErrWANDown.
func (u *HTTPSUplink) do(req *http.Request, limit int64) ([]byte, error) {
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWANDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %w", ErrWANDown, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: %s: %s", ErrHeadEndBusy, resp.Status, bytes.TrimSpace(b))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s: %s", ErrHeadEndRefused, resp.Status, bytes.TrimSpace(b))
	case int64(len(b)) > limit:
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrReply, limit)
	}
	return b, nil
}
