//go:build !device

package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/headend"
)

// operatorHTTP is an operator's call to the head-end's operator API with
// the certificate provision wrote for who (operator-alice, operator-bob).
func operatorHTTP(t *testing.T, work, who, method, path string, body any) (int, []byte) {
	t.Helper()
	var addr []byte
	for deadline := time.Now().Add(20 * time.Second); len(addr) == 0; time.Sleep(20 * time.Millisecond) {
		addr, _ = os.ReadFile(filepath.Join(work, "headend.addr"))
		if len(addr) == 0 && time.Now().After(deadline) {
			t.Fatal("the head-end did not come up")
		}
	}
	cert, err := loadTLS(filepath.Join(work, "pki", who+".crt"), filepath.Join(work, "pki", who+".key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+strings.TrimSpace(string(addr))+path, r)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := readPEMCerts(filepath.Join(work, "pki", "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	// The head-end is verified against the deployment's root, as any
	// standard client does.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool}}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// startCampaign releases firmware campaign id (the firmware file fw) for
// the meters of gateway configurations gws, taking one meter of each in
// turn, through the operator API: operator alice requests, her own approval is
// refused, operator bob approves. It returns the rollout order.
func startCampaign(t *testing.T, work string, id uint32, fw string, gws ...string) []string {
	t.Helper()
	var f firmwareFile
	if err := readJSON(fw, &f); err != nil {
		t.Fatal(err)
	}
	var each [][]string
	for _, p := range gws {
		var g gatewayFile
		if err := readJSON(p, &g); err != nil {
			t.Fatal(err)
		}
		var ms []string
		for _, m := range g.Meters {
			ms = append(ms, m.Title)
		}
		each = append(each, ms)
	}
	var meters []string
	for i := 0; len(meters) < len(each)*len(each[0]); i++ {
		for _, ms := range each {
			if i < len(ms) {
				meters = append(meters, ms[i])
			}
		}
	}
	req := map[string]any{"id": id, "manifest": f.Manifest, "image": f.Image, "meters": meters}
	if code, b := operatorHTTP(t, work, "operator-alice", "POST", "/v1/operator/campaigns", req); code != http.StatusAccepted {
		t.Fatalf("campaign request: %d %s", code, b)
	}
	path := fmt.Sprintf("/v1/operator/campaigns/%d", id)
	if code, b := operatorHTTP(t, work, "operator-alice", "POST", path+"/approve", nil); code != http.StatusForbidden {
		t.Fatalf("campaign approved by its requester alone: %d %s", code, b)
	}
	if code, b := operatorHTTP(t, work, "operator-bob", "POST", path+"/approve", nil); code != http.StatusOK {
		t.Fatalf("campaign approval: %d %s", code, b)
	}
	return meters
}

// campaignInDB reads campaign id from the head-end's database (SQLite,
// beside the running head-end) as `verimeter` writes it.
func campaignInDB(t *testing.T, work string, id uint32) *headend.Campaign {
	t.Helper()
	var he headendFile
	if err := readJSON(filepath.Join(work, "headend.json"), &he); err != nil {
		t.Fatal(err)
	}
	st, err := headend.OpenStore(he.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Campaign(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
