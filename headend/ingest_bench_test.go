package headend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The ingest benchmarks of the head-end, read side by side in one run
// (go test -run '^$' -bench Ingest ./headend): TLS 1.3 on, each batch
// acknowledged only after its durable group commit (WAL, synchronous=FULL).
// BenchmarkIngestBlocksTLS is one meter, its key cached after the first
// block; BenchmarkIngestBlocksTLS10000Meters is the fan-in of a real
// head-end, where every block of a round is its meter's first and pays the
// X.509 check of its certificate.

const benchBatch = 50 // load-profile blocks per request: 4,800 interval values

func benchServer(b *testing.B, f *fixture) (string, tls.Certificate) {
	server := f.tlsCert(b, f.subs["head-end-operator"], "head-end", protocol.RoleHeadEnd)
	gw := f.tlsCert(b, f.subs["gateway-operator"], "gw", protocol.RoleGateway)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(server))
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: f.he.handler(), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "https://" + ln.Addr().String() + "/v1/ingest", gw
}

// BenchmarkIngestBlocksTLS: benchClients gateways post batches of signed 96-interval
// blocks concurrently; reports interval values per second and the p99
// latency from request to acknowledgement.
func BenchmarkIngestBlocksTLS(b *testing.B) {
	f := newFixture(b)
	url, cert := benchServer(b, f)
	bodies := make([][]byte, b.N)
	ctr := uint64(0)
	for i := range bodies {
		items := make([]wan.Item, benchBatch)
		for j := range items {
			ctr++
			// Counters are unique (the store's key is meter and counter);
			// days cycle within the signer's five-year certificate, as a
			// block dated after it expired is rightly refused.
			items[j] = wan.Item{Kind: wan.KindBlock, Raw: f.block(b, ctr, int(ctr%1000))}
		}
		bodies[i], _ = wan.EncodeBatch(items)
	}
	b.ResetTimer()
	lat, el, cpu := postBatches(b, url, cert, bodies)
	b.StopTimer()
	_, ivs, _ := f.store.Counts()
	if ivs != b.N*benchBatch*96 {
		b.Fatalf("stored %d interval values, want %d", ivs, b.N*benchBatch*96)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(ivs)/el.Seconds(), "values/s")
	b.ReportMetric(float64(ivs)/cpu.Seconds(), "values/cpu-s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}

// BenchmarkIngestReadings verifies and stores per-reading signatures through
// Ingest as four gateways would (concurrent batches of 200: one batch's
// commit overlaps another's verification); BenchmarkRawECDSAVerifyParallel
// is the raw verification rate on the same cores for the ratio.
func BenchmarkIngestReadings(b *testing.B) {
	f := newFixture(b)
	const batch = 200
	batches := make([][]wan.Item, (b.N+batch-1)/batch)
	n := 0
	for i := range batches {
		for j := 0; j < batch && n < b.N; j++ {
			n++
			r, err := f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: uint64(n), Time: f.t0.Unix() + int64(n), OBIS: protocol.ActiveEnergyImport, Value: uint64(n)})
			if err != nil {
				b.Fatal(err)
			}
			batches[i] = append(batches[i], wan.Item{Kind: wan.KindReading, Raw: r})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(batches); i += 4 {
				if res, err := f.he.Ingest(context.Background(), "gw", batches[i]); err != nil || len(res.Rejected) > 0 {
					b.Errorf("%v %v", err, res.Rejected)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if items, _, _ := f.store.Counts(); items != b.N {
		b.Fatalf("stored %d readings of %d", items, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

func BenchmarkRawECDSAVerifyParallel(b *testing.B) {
	k := key(b)
	h := sha256.Sum256([]byte("reading"))
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(1)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ecdsa.Verify(&k.PublicKey, h[:], r, s)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// BenchmarkIngestBlocksTLS10000Meters: 10,000 distinct meters, each with
// its own key and certificate; benchClients gateways post batches of 50 blocks of 50
// different meters concurrently. Each iteration is one round in which
// every meter sends one day's block to a freshly started head-end (a new
// meter directory and verifiers, the same store), so every block is its
// meter's first: its certificate's chain, role and revocation status are
// checked before its signature. Reports interval values per second (of
// the posting, not of the restarts) and the p99 latency, as
// BenchmarkIngestBlocksTLS does for one meter.
func BenchmarkIngestBlocksTLS10000Meters(b *testing.B) {
	const meters = 10000
	f := newFixture(b)
	titles := make([]protocol.SystemTitle, meters)
	signers := make([]*protocol.MeterSigner, meters)
	certs := make([]*x509.Certificate, meters)
	for i := range meters {
		titles[i] = protocol.SystemTitle{'V', 'M', 'F', 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		k := key(b)
		c, err := f.subs["manufacturer"].Issue(protocol.Identity{CommonName: fmt.Sprintf("meter %d", i), SystemTitle: &titles[i]}, []protocol.Role{protocol.RoleMeterSigning}, &k.PublicKey, f.t0.Add(-time.Hour), 10*365*24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		certs[i] = c
		if signers[i], err = protocol.NewMeterSigner(titles[i], k, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	iv := make([]protocol.Interval, 96)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: uint32(100 + i)}
	}
	// Round r: every meter's block of day r (counter r+1), in batches of
	// 50 blocks of 50 different meters.
	rounds := make([][][]byte, b.N)
	for r := range rounds {
		for lo := 0; lo < meters; lo += benchBatch {
			items := make([]wan.Item, 0, benchBatch)
			for i := lo; i < lo+benchBatch; i++ {
				blk, err := signers[i].SignBlock(protocol.BlockHeader{Meter: titles[i], Counter: uint64(r + 1), Start: f.t0.Add(time.Duration(r) * 24 * time.Hour).Unix(), Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
				if err != nil {
					b.Fatal(err)
				}
				w, err := blk.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				items = append(items, wan.Item{Kind: wan.KindBlock, Raw: w})
			}
			body, err := wan.EncodeBatch(items)
			if err != nil {
				b.Fatal(err)
			}
			rounds[r] = append(rounds[r], body)
		}
	}
	var current atomic.Pointer[HeadEnd]
	current.Store(f.he)
	server := f.tlsCert(b, f.subs["head-end-operator"], "head-end", protocol.RoleHeadEnd)
	gw := f.tlsCert(b, f.subs["gateway-operator"], "gw", protocol.RoleGateway)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(server))
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().handler().ServeHTTP(w, r) }), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	url := "https://" + ln.Addr().String() + "/v1/ingest"

	var lat []time.Duration
	var posting, cpu time.Duration
	b.ResetTimer()
	for r := range rounds {
		b.StopTimer()
		dir, err := protocol.NewMeterDirectory(f.he.cfg.Validator, certs)
		if err != nil {
			b.Fatal(err)
		}
		c := f.he.cfg
		c.Meters = dir
		current.Store(New(c)) // a cold head-end: no meter key known yet
		b.StartTimer()
		l, el, used := postBatches(b, url, gw, rounds[r])
		lat = append(lat, l...)
		posting += el
		cpu += used
	}
	b.StopTimer()
	_, ivs, err := f.store.Counts()
	if err != nil || ivs != b.N*meters*96 {
		b.Fatalf("stored %d interval values (%v), want %d", ivs, err, b.N*meters*96)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(ivs)/posting.Seconds(), "values/s")
	b.ReportMetric(float64(ivs)/cpu.Seconds(), "values/cpu-s")
	b.ReportMetric(float64(meters*b.N)/posting.Seconds(), "first-blocks/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}

// postBatches posts bodies from 4 concurrent gateway connections and
// returns each request's latency, the elapsed time and the CPU time the
// process spent (clients included): on a shared machine values per
// CPU-second compare runs that the elapsed time does not.
func postBatches(b *testing.B, url string, cert tls.Certificate, bodies [][]byte) ([]time.Duration, time.Duration, time.Duration) {
	return postBatchesTo(b, []string{url}, cert, bodies)
}

// postBatchesTo is postBatches over several head-ends: client i posts to
// urls[i % len(urls)], as gateways spread over a scaled-out head-end.
func postBatchesTo(b *testing.B, urls []string, cert tls.Certificate, bodies [][]byte) ([]time.Duration, time.Duration, time.Duration) {
	const clients = benchClients
	lat := make([]time.Duration, len(bodies))
	var next atomic.Int64
	cpu0 := cpuTime(b)
	start := time.Now()
	var wg sync.WaitGroup
	for k := range clients {
		url := urls[k%len(urls)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(cert)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				t := time.Now()
				if err := answeredOK(c.Post(url, "application/cbor", bytes.NewReader(bodies[i]))); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), cpuTime(b) - cpu0
}

// answeredOK reads an answer whole and closes it: nil for a 200.
func answeredOK(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClients is how many gateways post concurrently in the ingest
// benchmarks: a head-end's fan-in keeps several batches in flight, so
// that one batch's verification overlaps another's group commit (with
// four, the fsync wait left a core idle; eight keep both busy).
const benchClients = 8
