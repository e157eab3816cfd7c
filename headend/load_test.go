package headend

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// BenchmarkLoad1000Gateways holds 1,000 gateway TLS connections to the
// head-end on loopback, each posting batches of signed readings, for
// VERIMETER_LOAD_SECONDS (default 60) and at most 100 requests per
// connection; it reports p50/p99 ingest latency, errors, throughput and the
// process's memory. make soak runs it once (-benchtime 1x).
func BenchmarkLoad1000Gateways(b *testing.B) {
	secs := 60
	if v := os.Getenv("VERIMETER_LOAD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 600 {
			b.Fatalf("VERIMETER_LOAD_SECONDS=%q: 1..600", v)
		}
		secs = n
	}
	const conns, perConn, batch = 1000, 100, 5
	f := newFixture(b)
	url, cert := benchServer(b, f)
	readings := make([][]byte, 4000)
	for i := range readings {
		r, err := f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: uint64(i + 1), Time: f.t0.Unix() + int64(i), OBIS: protocol.ActiveEnergyImport, Value: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		readings[i] = r
	}
	var next atomic.Int64
	var errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}, MaxConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var mine []time.Duration
			for range perConn {
				if time.Now().After(deadline) {
					break
				}
				items := make([]wan.Item, batch)
				for j := range items {
					items[j] = wan.Item{Kind: wan.KindReading, Raw: readings[int(next.Add(1))%len(readings)]}
				}
				body, _ := wan.EncodeBatch(items)
				t := time.Now()
				resp, err := c.Post(url, "application/cbor", bytes.NewReader(body))
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if len(lat) == 0 {
		b.Fatalf("no request succeeded (%d errors)", errs.Load())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat)*batch)/el.Seconds(), "readings/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(errs.Load()), "errors")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-sys")
	b.ReportMetric(float64(len(lat)), "requests")
}
