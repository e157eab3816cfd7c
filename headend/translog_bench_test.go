package headend

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// BenchmarkIngestLog is ingest with and without the transparency log, in
// one run (go test -run '^$' -bench IngestLog ./headend): four gateways'
// batches through Ingest, each a durable group commit, the log's leaves
// appended in the same transaction. Read the log's cost as the ratio of
// values/s (blocks) or readings/s (readings) between log=true and
// log=false; on a shared machine the wall-clock rates follow the disk's
// fsync latency, so the CPU rates (values/cpu-s, readings/cpu-s) are the
// steadier figure of what the log adds.
func BenchmarkIngestLog(b *testing.B) {
	for _, kind := range []string{"blocks", "readings"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/log=%v", kind, on), func(b *testing.B) {
				f := newFixture(b)
				f.store.noLog = !on
				f.he.cfg.LogKey = key(b)
				batch := benchBatch // 50 blocks: 4,800 interval values
				if kind == "readings" {
					batch = 200
				}
				batches := make([][]wan.Item, b.N)
				ctr := uint64(0)
				for i := range batches {
					for range batch {
						ctr++
						var raw []byte
						k := wan.KindBlock
						if kind == "blocks" {
							raw = f.block(b, ctr, int(ctr%1000))
						} else {
							k = wan.KindReading
							var err error
							if raw, err = f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: ctr, Time: f.t0.Unix() + int64(ctr), OBIS: protocol.ActiveEnergyImport, Value: ctr}); err != nil {
								b.Fatal(err)
							}
						}
						batches[i] = append(batches[i], wan.Item{Kind: k, Raw: raw})
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime(b)
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
				cpu := cpuTime(b) - cpu0
				b.StopTimer()
				items, ivs, err := f.store.Counts()
				if err != nil || items != b.N*batch {
					b.Fatalf("stored %d items of %d: %v", items, b.N*batch, err)
				}
				if on {
					sth, err := f.he.signTreeHead(context.Background())
					if err != nil || sth.Size != uint64(items) {
						b.Fatalf("log of %d leaves for %d items: %v", sth.Size, items, err)
					}
				}
				if kind == "blocks" {
					b.ReportMetric(float64(ivs)/b.Elapsed().Seconds(), "values/s")
					b.ReportMetric(float64(ivs)/cpu.Seconds(), "values/cpu-s")
				} else {
					b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "readings/s")
					b.ReportMetric(float64(items)/cpu.Seconds(), "readings/cpu-s")
				}
			})
		}
	}
}
