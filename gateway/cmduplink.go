package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/verimeter/verimeter/wan"
)

// Commands fetches the commands the head-end holds ready for this
// gateway's meters (two operators approved them, the head-end signed them),
// on the gateway's own outbound connection. Errors are classed as Ingest's.
func (u *HTTPSUplink) Commands(ctx context.Context) ([]wan.GatewayCommand, error) {
	var out []wan.GatewayCommand
	return out, u.call(ctx, http.MethodGet, wan.GatewayCommandsPath, nil, &out)
}

// CommandResult reports the meter's answer to a relayed command.
func (u *HTTPSUplink) CommandResult(ctx context.Context, id int64, res wan.CommandResult) error {
	return u.call(ctx, http.MethodPost, wan.GatewayCommandsPath+"/"+strconv.FormatInt(id, 10)+"/result", res, nil)
}

// Reads fetches the pending on-demand read requests (UC3) of this
// gateway's meters, on the gateway's own outbound connection. Errors are
// classed as Ingest's.
func (u *HTTPSUplink) Reads(ctx context.Context) ([]wan.GatewayRead, error) {
	var out []wan.GatewayRead
	return out, u.call(ctx, http.MethodGet, wan.GatewayReadsPath, nil, &out)
}

// ReadResult reports a read request: the counter of the reading taken and
// forwarded (the head-end checks it holds it), or the meter's refusal.
func (u *HTTPSUplink) ReadResult(ctx context.Context, id int64, res wan.ReadResult) error {
	return u.call(ctx, http.MethodPost, wan.GatewayReadsPath+"/"+strconv.FormatInt(id, 10)+"/result", res, nil)
}

// call makes one JSON request of the head-end: ErrWANDown when it does not
// complete, ErrHeadEndBusy on a 5xx, ErrHeadEndRefused on another answer
// but 200, ErrReply when the answer does not parse.
func (u *HTTPSUplink) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(u.url, "/v1/ingest")+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWANDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: reading the answer: %w", ErrWANDown, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s: %s", ErrHeadEndBusy, resp.Status, bytes.TrimSpace(b))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: %s: %s", ErrHeadEndRefused, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %w", ErrReply, err)
	}
	return nil
}
