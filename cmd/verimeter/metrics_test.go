//go:build !device

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/wan"
)

// scrape fetches url and parses it with the Prometheus text parser
// (github.com/prometheus/common/expfmt); it also returns the raw text.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing %s: %v\n%s", url, err, body)
	}
	return fams, body
}

// value is the value of the counter or gauge name whose labels include
// labels (name=value pairs); -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

// promtool checks an exposition with Prometheus's own linter when Debian's
// prometheus package (which has promtool) is installed (.ci/deps.sh); it
// skips, saying why, only where apt cannot install it.
func promtool(t *testing.T, exposition []byte) {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if _, aptErr := exec.LookPath("apt-get"); aptErr != nil {
			t.Logf("promtool check skipped: promtool missing and apt-get unavailable to install it (%v)", err)
			return
		}
		t.Fatalf("promtool is missing: run make deps (.ci/deps.sh installs Debian's prometheus): %v", err)
	}
	cmd := exec.Command(p, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

var metricsLine = regexp.MustCompile(`metrics on http://(\S+)/metrics`)

// TestMetricsOfHeadEndAndGateway runs `headend serve -metrics 127.0.0.1:0`
// as a deployment does, uploads signed blocks, a forged one and an
// undecodable batch through a gateway over mutual TLS, and scrapes both
// plain-HTTP /metrics endpoints: the counters parse with Prometheus's own
// parser, pass promtool, equal what the head-end's store and the gateway's
// queue hold, and each refusal is in its class.
func TestMetricsOfHeadEndAndGateway(t *testing.T) {
	work := t.TempDir()
	if err := provision(work, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	var stdout procs.Buffer
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- headendServe(filepath.Join(work, "headend.json"), nil, &stdout, io.Discard, stop, headendOptions{metrics: "127.0.0.1:0"})
	}()
	stopped := false
	stopHeadEnd := func() {
		if !stopped {
			stopped = true
			close(stop)
			if err := <-done; err != nil {
				t.Errorf("head-end: %v", err)
			}
		}
	}
	defer stopHeadEnd()
	var addr []byte
	var metricsURL string
	for deadline := time.Now().Add(20 * time.Second); len(addr) == 0 || metricsURL == ""; {
		addr, _ = os.ReadFile(filepath.Join(work, "headend.addr"))
		if m := metricsLine.FindStringSubmatch(stdout.String()); m != nil {
			metricsURL = "http://" + m[1] + "/metrics"
		}
		select {
		case err := <-done:
			t.Fatalf("head-end stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("head-end did not announce its addresses: %s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The gateway, with its provisioned TLS identity; its queue holds
	// three blocks of each meter and one block signed with a stranger's key.
	var gf gatewayFile
	if err := readJSON(filepath.Join(work, "gw-00.json"), &gf); err != nil {
		t.Fatal(err)
	}
	roots, err := readPEMCerts(gf.Roots)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := readPEMCerts(gf.SubCAs)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := loadTLS(gf.TLSCert, gf.TLSKey, subs)
	if err != nil {
		t.Fatal(err)
	}
	val, err := protocol.NewValidator(roots, subs, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The queue file as a gateway that collected these blocks over PLC
	// leaves it (gateway/queue.go: record kind 1, the item's kind, then
	// its signed bytes), written before the gateway opens it.
	gdir := t.TempDir()
	qj, err := journal.Open(filepath.Join(gdir, "queue"))
	if err != nil {
		t.Fatal(err)
	}
	const qItem = 1
	queueBlock := func(raw []byte) {
		if err := qj.Append(qItem, append([]byte{byte(wan.KindBlock)}, raw...), true); err != nil {
			t.Fatal(err)
		}
	}
	const blocksPerMeter = 3
	for i := range 2 {
		var mf meterFile
		if err := readJSON(filepath.Join(work, fmt.Sprintf("meter-%03d.json", i)), &mf); err != nil {
			t.Fatal(err)
		}
		title, err := protocol.ParseSystemTitle(mf.Title)
		if err != nil {
			t.Fatal(err)
		}
		k, err := protocol.ReadKey(mf.SigningKey)
		if err != nil {
			t.Fatal(err)
		}
		for n := range blocksPerMeter {
			queueBlock(signedBlock(t, title, k, uint64(n+1), mf.Day*86400))
		}
		if i == 0 {
			stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			queueBlock(signedBlock(t, title, stranger, 99, mf.Day*86400))
		}
	}
	if err := qj.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{Name: gf.Name, Dir: gdir})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gwAddr, stopGW, err := serveMetrics("127.0.0.1:0", newRegistry(newGatewayCollector(g, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer stopGW()
	gwURL := "http://" + gwAddr.String() + "/metrics"
	if fams, _ := scrape(t, gwURL); value(fams, "verimeter_gateway_queue_depth") != 2*blocksPerMeter+1 {
		t.Fatalf("queue depth before the upload: %v", value(fams, "verimeter_gateway_queue_depth"))
	}
	up := gateway.NewHTTPSUplink(strings.TrimSpace(string(addr)), cert, func(c *x509.Certificate) error {
		return val.Check(c, protocol.RoleHeadEnd, time.Now())
	})
	n, res, err := g.Flush(context.Background(), up, 4)
	if err != nil || n != 2*blocksPerMeter+1 || res.Stored+len(res.Rejected) == 0 {
		t.Fatalf("flush: %d items, %+v, %v", n, res, err)
	}
	// A batch that does not decode, refused whole.
	rootPool := x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: rootPool}}}
	resp, err := hc.Post("https://"+strings.TrimSpace(string(addr))+"/v1/ingest", "application/cbor", strings.NewReader("\x81\x82\x02"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("undecodable batch: %s", resp.Status)
	}

	he, heText := scrape(t, metricsURL)
	gw, gwText := scrape(t, gwURL)
	stopHeadEnd()
	var hf headendFile
	if err := readJSON(filepath.Join(work, "headend.json"), &hf); err != nil {
		t.Fatal(err)
	}
	store, err := headend.OpenStore(hf.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	items, ivs, err := store.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if items != 2*blocksPerMeter || ivs != 2*blocksPerMeter*96 {
		t.Fatalf("store holds %d items, %d interval values; want %d blocks", items, ivs, 2*blocksPerMeter)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"verimeter_headend_ingest_items_total", nil, float64(items)},
		{"verimeter_headend_ingest_interval_values_total", nil, float64(ivs)},
		{"verimeter_headend_ingest_batches_total", nil, 2},
		{"verimeter_headend_ingest_duplicates_total", nil, 0},
		{"verimeter_headend_translog_leaves", nil, float64(items)},
		{"verimeter_headend_ingest_rejected_items_total", []string{"class", "signature"}, 1},
		{"verimeter_headend_ingest_rejected_items_total", []string{"class", "malformed"}, 0},
		{"verimeter_headend_ingest_refused_batches_total", []string{"class", "malformed"}, 1},
		{"verimeter_headend_store_errors_total", nil, 0},
		{"verimeter_headend_fetches_total", []string{"outcome", "served"}, 0},
	} {
		if got := value(he, c.name, c.labels...); got != c.want {
			t.Errorf("head-end %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if h := he["verimeter_headend_ingest_latency_seconds"]; h == nil || h.Metric[0].Histogram.GetSampleCount() != 2 {
		t.Errorf("ingest latency histogram: %v, want 2 batches answered", h)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"verimeter_gateway_queue_depth", nil, float64(g.Queue().Len())},
		{"verimeter_gateway_uploaded_items_total", nil, 2*blocksPerMeter + 1},
		{"verimeter_gateway_acknowledged_items_total", nil, 2*blocksPerMeter + 1},
		{"verimeter_gateway_upload_failures_total", nil, 0},
		{"verimeter_gateway_headend_rejected_items_total", nil, 1},
		{"verimeter_gateway_refused_apdus_total", []string{"class", "replay"}, 0},
	} {
		if got := value(gw, c.name, c.labels...); got != c.want {
			t.Errorf("gateway %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	promtool(t, heText)
	promtool(t, gwText)
}

// signedBlock is a meter's signed load-profile block of a day from start.
func signedBlock(t *testing.T, meter protocol.SystemTitle, k *ecdsa.PrivateKey, counter uint64, start int64) []byte {
	t.Helper()
	s, err := protocol.NewMeterSigner(meter, k, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]protocol.Interval, 96)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: uint32(100 + i)}
	}
	b, err := s.SignBlock(protocol.BlockHeader{Meter: meter, Counter: counter, Start: start, Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
