package headend

import (
	"context"
	"crypto/tls"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// BenchmarkIngestStatsOnOff measures what counting costs ingest: two
// head-ends side by side in one run, one counting (its Stats read and its
// log size queried every 100 ms, a scraper far more eager than
// Prometheus's usual 15 s) and one with Config.noStats, each fed the same
// rounds of signed blocks over TLS (8 batches of 50 blocks per round from
// 4 gateway connections), the order alternating each round so that the
// shared machine's drift hits both. It reports each side's interval values
// per second of elapsed and of CPU time over its rounds, the ratios on/off
// of the totals (1 = free; 0.98 = 2 % slower), and the medians of the
// rounds' ratios.
func BenchmarkIngestStatsOnOff(b *testing.B) {
	const perRound = 8
	type side struct {
		f       *fixture
		url     string
		cert    tls.Certificate
		ctr     uint64
		el, cpu time.Duration
	}
	mk := func(counting bool) *side {
		f := newFixture(b)
		if !counting {
			c := f.he.cfg
			c.noStats = true
			f.he = New(c)
		}
		s := &side{f: f}
		s.url, s.cert = benchServer(b, f)
		return s
	}
	on, off := mk(true), mk(false)
	if off.f.he.st != nil || on.f.he.st == nil {
		b.Fatal("the sides do not differ in counting")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the counting side's scraper
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = on.f.he.Stats()
				if _, err := on.f.he.LogSize(ctx); err != nil && ctx.Err() == nil {
					b.Error(err)
				}
			}
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	bodies := func(s *side) [][]byte {
		out := make([][]byte, perRound)
		for i := range out {
			items := make([]wan.Item, benchBatch)
			for j := range items {
				s.ctr++
				items[j] = wan.Item{Kind: wan.KindBlock, Raw: s.f.block(b, s.ctr, int(s.ctr%1000))}
			}
			out[i], _ = wan.EncodeBatch(items)
		}
		return out
	}
	post := func(s *side, body [][]byte) (el, cpu time.Duration) {
		_, el, cpu = postBatches(b, s.url, s.cert, body)
		s.el += el
		s.cpu += cpu
		return el, cpu
	}
	// Each round's ratios off/on: their median is what a burst of the
	// other engineers' load on the shared machine does not move.
	var elRatio, cpuRatio []float64
	round := func(first, second *side) {
		bf, bs := bodies(first), bodies(second)
		b.StartTimer()
		e1, c1 := post(first, bf)
		e2, c2 := post(second, bs)
		b.StopTimer()
		if first == off {
			e1, c1, e2, c2 = e2, c2, e1, c1
		}
		elRatio = append(elRatio, e2.Seconds()/e1.Seconds())
		cpuRatio = append(cpuRatio, c2.Seconds()/c1.Seconds())
	}
	// A warm-up round each (TLS sessions, the meter's key cached), not
	// counted.
	post(on, bodies(on))
	post(off, bodies(off))
	on.el, on.cpu, off.el, off.cpu = 0, 0, 0, 0
	b.ResetTimer()
	b.StopTimer()
	for r := range b.N {
		if r%2 == 0 {
			round(on, off)
		} else {
			round(off, on)
		}
	}
	ivs := float64(b.N * perRound * benchBatch * 96)
	all := ivs + perRound*benchBatch*96 // the warm-up round's too
	for _, s := range []*side{on, off} {
		if _, n, _ := s.f.store.Counts(); float64(n) != all {
			b.Fatalf("stored %d interval values, want %v", n, all)
		}
	}
	if st := on.f.he.Stats(); float64(st.Intervals) != all || st.IngestLatency.Count != uint64((b.N+1)*perRound) {
		b.Fatalf("the counting side counted %d interval values in %d answers, want %v in %d", st.Intervals, st.IngestLatency.Count, all, (b.N+1)*perRound)
	}
	b.ReportMetric(ivs/on.el.Seconds(), "on-values/s")
	b.ReportMetric(ivs/off.el.Seconds(), "off-values/s")
	b.ReportMetric(off.el.Seconds()/on.el.Seconds(), "on/off-elapsed")
	b.ReportMetric(off.cpu.Seconds()/on.cpu.Seconds(), "on/off-cpu")
	slices.Sort(elRatio)
	slices.Sort(cpuRatio)
	b.ReportMetric(elRatio[len(elRatio)/2], "median-on/off-elapsed")
	b.ReportMetric(cpuRatio[len(cpuRatio)/2], "median-on/off-cpu")
}
