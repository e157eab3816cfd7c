package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/verimeter/verimeter/wan"
)

// TestHTTPSUplinkCommands: the gateway fetches ready commands from
// wan.GatewayCommandsPath and posts a meter's answer to its result path;
// a busy head-end is ErrHeadEndBusy, a refusal ErrHeadEndRefused, an
// answer that does not parse ErrReply.
func TestHTTPSUplinkCommands(t *testing.T) {
	// Guarded by mu: the handler runs on the server's goroutines.
	var mu sync.Mutex
	var mode string
	var posted wan.CommandResult
	var postedPath string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case mode == "busy":
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		case mode == "refused":
			http.Error(w, `{"class":"forbidden"}`, http.StatusForbidden)
		case mode == "garbage":
			w.Write([]byte("<html>"))
		case r.Method == http.MethodGet && r.URL.Path == wan.GatewayCommandsPath:
			w.Write([]byte(`[{"id":7,"meter":"564d520000000001","signed":"AQI="}]`))
		case r.Method == http.MethodPost:
			postedPath = r.URL.Path
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &posted)
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	defer srv.Close()
	up := NewHTTPSUplink(strings.TrimPrefix(srv.URL, "https://"), tls.Certificate{}, func(*x509.Certificate) error { return nil })
	ctx := context.Background()
	cmds, err := up.Commands(ctx)
	if err != nil || len(cmds) != 1 || cmds[0].ID != 7 || cmds[0].Meter != "564d520000000001" || cmds[0].Signed != "AQI=" {
		t.Fatalf("commands: %+v %v", cmds, err)
	}
	err = up.CommandResult(ctx, 7, wan.CommandResult{Error: "meter refused"})
	mu.Lock()
	defer mu.Unlock()
	if err != nil || postedPath != wan.GatewayCommandsPath+"/7/result" || posted.OK || posted.Error != "meter refused" {
		t.Fatalf("result: %v at %q: %+v", err, postedPath, posted)
	}
	for _, c := range []struct {
		mode string
		want error
	}{{"busy", ErrHeadEndBusy}, {"refused", ErrHeadEndRefused}, {"garbage", ErrReply}} {
		mode = c.mode
		mu.Unlock()
		_, err := up.Commands(ctx)
		mu.Lock()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.mode, err, c.want)
		}
	}
}
