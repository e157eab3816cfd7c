package headend

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// BenchmarkIngestBlocksTLSPostgres is BenchmarkIngestBlocksTLS on one
// PostgreSQL database served by one and by two head-ends (the scale-out:
// each head-end a Store of its own on the same database, the gateways
// spread over them), read side by side in one run. While the gateways
// post, an operator lists the meter inventory on the operator API of each
// head-end in turn (every call audited: a write too), and its p99 is
// reported beside the ingest's.
func BenchmarkIngestBlocksTLSPostgres(b *testing.B) {
	dsn := startPostgres(b)
	openPostgres(b, dsn).Close()
	var ctr atomic.Uint64 // counters unique across the sub-benchmarks' runs
	for _, heads := range []int{1, 2} {
		b.Run(fmt.Sprintf("heads=%d", heads), func(b *testing.B) {
			f := newFixture(b)
			urls := make([]string, heads)
			var gw = f.tlsCert(b, f.subs["gateway-operator"], "gw", protocol.RoleGateway)
			var st *Store
			for i := range heads {
				s := openPostgres(b, dsn)
				b.Cleanup(func() { s.Close() })
				cfg := f.he.cfg
				cfg.Store = s
				f.he = New(cfg)
				urls[i], _ = benchServer(b, f)
				st = s
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				items := make([]wan.Item, benchBatch)
				for j := range items {
					c := ctr.Add(1)
					items[j] = wan.Item{Kind: wan.KindBlock, Raw: f.block(b, c, int(c%1000))}
				}
				bodies[i], _ = wan.EncodeBatch(items)
			}
			_, before, err := st.Counts()
			if err != nil {
				b.Fatal(err)
			}
			op := client(f.tlsCert(b, f.subs["head-end-operator"], "operator alice", protocol.RoleHeadEnd))
			var opLat []time.Duration
			done := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			b.ResetTimer()
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					case <-time.After(20 * time.Millisecond):
					}
					t := time.Now()
					if err := answeredOK(op.Get(strings.TrimSuffix(urls[i%heads], "/v1/ingest") + "/v1/operator/meters")); err != nil {
						b.Errorf("operator API: %v", err)
						return
					}
					opLat = append(opLat, time.Since(t))
				}
			}()
			lat, el, cpu := postBatchesTo(b, urls, gw, bodies)
			close(done)
			wg.Wait()
			b.StopTimer()
			_, after, err := st.Counts()
			if err != nil {
				b.Fatal(err)
			}
			ivs := after - before
			if ivs != b.N*benchBatch*96 {
				b.Fatalf("stored %d interval values, want %d", ivs, b.N*benchBatch*96)
			}
			slices.Sort(lat)
			slices.Sort(opLat)
			b.ReportMetric(float64(ivs)/el.Seconds(), "values/s")
			b.ReportMetric(float64(ivs)/cpu.Seconds(), "values/cpu-s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
			if len(opLat) > 0 {
				b.ReportMetric(float64(opLat[len(opLat)*99/100].Microseconds())/1000, "op-p99-ms")
				b.ReportMetric(float64(len(opLat)), "op-calls")
			}
		})
	}
}
