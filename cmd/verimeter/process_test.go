//go:build !device

package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	simprocs "github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestProcessesOnLoopback runs the head-end, two gateways and six meters as
// separate processes (PLC over Unix datagram sockets, WAN over TLS 1.3 on
// 127.0.0.1), the gateways picking up a firmware campaign two operators
// released, the head-end restarted in its last stage, then checks that
// the readings arrived, verify, and are served to the entitled supplier
// only, and that every process's logs of every module (-spec-trace) are
// behaviours of the spec.
func TestProcessesOnLoopback(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// Short paths: Unix socket names are limited to 108 bytes.
	work, err := os.MkdirTemp("", "vmp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	if err := provision(work, 6, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Every process logs the steps of its machines (-spec-trace), all of
	// them judged at the end.
	trace := filepath.Join(work, "trace")
	traced := func(args ...string) []string {
		return append(append(append([]string(nil), args[:2]...), "-spec-trace", trace), args[2:]...)
	}
	var procs []*exec.Cmd
	var heOut simprocs.Buffer // the head-end's, which names its metrics address
	start := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, traced(args...)...)
		c.Stdout, c.Stderr = io.Discard, os.Stderr
		if args[0] == "headend" {
			c.Stdout = &heOut
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, c)
		return c
	}
	defer func() {
		for _, p := range procs {
			p.Process.Signal(os.Interrupt)
		}
		for _, p := range procs {
			done := make(chan struct{})
			go func() { p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				p.Process.Kill()
			}
		}
	}()
	start("headend", "serve", "-config", filepath.Join(work, "headend.json"), "-metrics", "127.0.0.1:0")
	for i := range 6 {
		args := []string{"meter", "run", "-config", filepath.Join(work, fmt.Sprintf("meter-%03d.json", i))}
		if i == 0 {
			args = append(args, "-tamper", "cover") // its cover is opened: one tamper event (UC9)
		}
		start(args...)
	}
	// Every meter on the line before the gateways start.
	for i := range 6 {
		sock := filepath.Join(work, "sock", fmt.Sprintf("meter-%03d", i))
		for deadline := time.Now().Add(20 * time.Second); ; {
			if _, err := os.Stat(sock); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("meter %d did not come up", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A firmware campaign (UC5) for every meter, released through the
	// operator API by two operators; each gateway picks its meters' work up
	// on its own connection after forwarding, relays it and reports each
	// outcome. Its rollout order interleaves the gateways: stage 1 is a
	// meter of gateway 0, stage 2 adds one of gateway 1, so gateway 0
	// leaves two of its meters pending when it stops, for after a restart
	// of the head-end.
	camp := startCampaign(t, work, 1, firmwareMaker(t, work)(1, 5, false), filepath.Join(work, "gw-00.json"), filepath.Join(work, "gw-01.json"))
	for g := range 2 {
		args := []string{"gateway", "run", "-config", filepath.Join(work, fmt.Sprintf("gw-%02d.json", g)), "-metrics", "127.0.0.1:0"}
		cmd := exec.Command(bin, traced(args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gateway %d: %v\n%s", g, err, out)
		}
		if !strings.Contains(string(out), "3 stored") || !metricsLine.Match(out) {
			t.Fatalf("gateway %d (3 items stored, metrics served): %s", g, out)
		}
		if want := fmt.Sprintf("%d tamper events acknowledged by the head-end, %d acknowledgements relayed", 1-g, 1-g); !strings.Contains(string(out), want) {
			t.Fatalf("gateway %d: %s\nwant %q", g, out, want)
		}
		if want := fmt.Sprintf("%d firmware outcomes reported", 1+2*g); !strings.Contains(string(out), want) || strings.Contains(string(out), ": refused") {
			t.Fatalf("gateway %d: %s\nwant %q, no refusal", g, out, want)
		}
	}
	// The head-end stops in the middle of stage 3 and starts again on its
	// database: gateway 0, asking again, is offered its two pending meters
	// and not the one that reported; the campaign completes.
	if c := campaignInDB(t, work, 1); c.State != "running" || c.Stage != 2 {
		t.Fatalf("campaign before the restart: %s", c)
	}
	// The head-end's metrics (`-metrics`, plain HTTP on loopback) count
	// what the gateways uploaded; its counters are the process's own, so
	// they are read before it stops.
	checkHeadendMetrics(t, heOut.String(), []metricWant{
		{"verimeter_headend_ingest_items_total", nil, 6},
		{"verimeter_headend_ingest_interval_values_total", nil, 6 * 96},
		{"verimeter_headend_tamper_events_total", nil, 1},
		{"verimeter_headend_translog_leaves", nil, 6},
	})
	he := procs[0]
	he.Process.Signal(os.Interrupt)
	he.Wait()
	os.Remove(filepath.Join(work, "headend.addr"))
	heOut.Reset()
	start("headend", "serve", "-config", filepath.Join(work, "headend.json"), "-metrics", "127.0.0.1:0")
	operatorHTTP(t, work, "operator-alice", "GET", "/v1/operator/campaigns", nil) // up again
	if out, err := exec.Command(bin, traced("gateway", "run", "-config", filepath.Join(work, "gw-00.json"))...).CombinedOutput(); err != nil || !strings.Contains(string(out), "2 firmware outcomes reported") || strings.Contains(string(out), camp[0]+" campaign 1") {
		t.Fatalf("gateway 0 after the head-end's restart: %v\n%s", err, out)
	}
	// Every meter's outcome is in the head-end's database, each installed
	// once by the gateway that serves it.
	c := campaignInDB(t, work, 1)
	if inst, _ := c.Outcome(); c.State != "done" || len(c.Meters) != 6 || inst != 6 || c.Meters[1].Gateway == c.Meters[0].Gateway {
		t.Fatalf("campaign in the database: %s %+v", c, c.Meters)
	}
	if out, err := exec.Command(bin, "campaign", "show", "-config", filepath.Join(work, "headend.json"), "-id", "1").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "campaign 1: done, stage 3 of 3, 6 installed, 0 failed, 6 meters") || strings.Count(string(out), " installed at ") != 6 ||
		!strings.Contains(string(out), "approved by operator alice and operator bob") || !strings.Contains(string(out), "0 of 6 meters not reported yet") {
		t.Fatalf("verimeter campaign show: %v\n%s", err, out)
	}
	if code, b := operatorHTTP(t, work, "operator-bob", "GET", "/v1/operator/campaigns/1", nil); code != http.StatusOK || !strings.Contains(string(b), `"installed":6`) {
		t.Fatalf("campaign progress: %d %s", code, b)
	}
	addr, err := os.ReadFile(filepath.Join(work, "headend.addr"))
	if err != nil {
		t.Fatal(err)
	}
	var m0 meterFile
	if err := readJSON(filepath.Join(work, "meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	from := time.Unix(m0.Day*86400, 0).UTC()
	// The supplier trusts the root alone, as a standard TLS client does:
	// the head-end sends its sub-CA, and its certificate names 127.0.0.1.
	rootPool := x509.NewCertPool()
	rootCert, err := protocol.ReadCertificate(filepath.Join(work, "pki", "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	rootPool.AddCert(rootCert)
	get := func(who string) (int, []byte) {
		cert, err := loadTLS(filepath.Join(work, "pki", who+".crt"), filepath.Join(work, "pki", who+".key"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: rootPool}}}
		resp, err := c.Get(fmt.Sprintf("https://%s/v1/meters/%s/intervals?from=%s&to=%s", addr, m0.Title, from.Format(time.RFC3339), from.Add(24*time.Hour).Format(time.RFC3339)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := get("supplier-a")
	var rep wan.ProofReply
	if code != http.StatusOK || json.Unmarshal(body, &rep) != nil || len(rep.Proofs) != 96 {
		t.Fatalf("entitled supplier: %d %.300s", code, body)
	}
	// The supplier verifies offline with the root and the meter's certificate.
	roots, _ := readPEMCerts(filepath.Join(work, "pki", "root.crt"))
	subs, _ := readPEMCerts(filepath.Join(work, "pki", "subcas.pem"))
	meters, _ := readPEMCerts(filepath.Join(work, "pki", "meters.pem"))
	val, err := protocol.NewValidator(roots, subs, nil)
	if err != nil {
		t.Fatal(err)
	}
	dirM, err := protocol.NewMeterDirectory(val, meters)
	if err != nil {
		t.Fatal(err)
	}
	v := protocol.NewVerifier(dirM)
	for i, s := range rep.Proofs {
		raw, _ := base64.StdEncoding.DecodeString(s)
		p, err := protocol.UnmarshalIntervalProof(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyInterval(p); err != nil {
			t.Fatalf("interval %d does not verify: %v", i, err)
		}
	}
	// The same read with curl as the README's walkthrough does it: the root
	// as the only CA, no -k.
	code, body = curlIntervals(t, requireTool(t, "curl"), filepath.Join(work, "pki"), string(addr), "supplier-a", m0.Title, from)
	var viaCurl wan.ProofReply
	if code != http.StatusOK || json.Unmarshal(body, &viaCurl) != nil || len(viaCurl.Proofs) != 96 {
		t.Fatalf("curl as the entitled supplier: %d %.300s", code, body)
	}
	code, body = get("supplier-b")
	if code != http.StatusForbidden || !strings.Contains(string(body), "no contract") {
		t.Fatalf("supplier without contract: %d %s", code, body)
	}
	// The restarted head-end counts the participants' fetches; the
	// transparency log's leaves are read from the database.
	checkHeadendMetrics(t, heOut.String(), []metricWant{
		{"verimeter_headend_fetches_total", []string{"outcome", "served"}, 2},
		{"verimeter_headend_fetches_total", []string{"outcome", "refused"}, 1},
		{"verimeter_headend_translog_leaves", nil, 6},
		{"verimeter_headend_ingest_items_total", nil, 0},
	})
	// Every module's logs of every process are behaviours of its spec;
	// the modules this run exercises have steps (no command is issued
	// here).
	traces, err := validateSpecTraces(trace)
	if err != nil {
		t.Fatalf("a log no behaviour of the spec explains: %v", err)
	}
	for _, m := range []string{"Channel", "Collection", "Firmware", "Tamper"} {
		if r := traces.module(m); r.Steps == 0 {
			t.Errorf("no %s step logged by the processes", m)
		}
	}
	for _, r := range traces {
		t.Logf("%s: %d steps explained in %d logs of %d meters", r.Module, r.Steps, r.Logs, r.Groups)
	}
}

// metricWant is one sample a test expects on a /metrics page.
type metricWant struct {
	name   string
	labels []string
	want   float64
}

// checkHeadendMetrics scrapes the metrics address a head-end named in its
// output (out) and checks each wanted sample.
func checkHeadendMetrics(t *testing.T, out string, wants []metricWant) {
	t.Helper()
	m := metricsLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the head-end named no metrics address: %s", out)
	}
	fams, _ := scrape(t, "http://"+m[1]+"/metrics")
	for _, c := range wants {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("head-end %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
