package plc

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// CapacityConfig describes one gateway's PLC segment and its daily traffic.
type CapacityConfig struct {
	Profile      Profile
	Meters       int
	Hops         int     // repeater hops between gateway and meters
	Loss         float64 // end-to-end frame loss rate
	Seed         uint64
	BlocksPerDay int     // 96 intervals split into this many signed blocks
	ReadsPerDay  float64 // on-demand reads per meter per day (signed per reading)
	AlarmsPerDay float64 // unsolicited alarms per meter per day (signed)
}

// CapacityReport is the outcome of one simulated day.
type CapacityReport struct {
	Config          CapacityConfig
	Airtime         time.Duration // channel time used in the day
	Share           float64       // Airtime / 24 h
	APDUBytes       int64         // application bytes moved (both directions)
	Frames, Lost    int
	Collisions      int
	Exchanges       int
	FailedExchanges int
	AlarmsPending   int // alarms still undelivered at the end of the day
}

// exchange runs one request/response over an acknowledged link on the
// medium: the gateway sends req, the meter answers with resp. It reports
// whether the response arrived.
func exchange(m *Medium, node string, req, resp int, cfg LinkConfig) (bool, int64) {
	gwCfg := cfg
	mtCfg := cfg
	mtCfg.Local, mtCfg.Remote = cfg.Remote, cfg.Local
	gwCfg.Role, mtCfg.Role = Primary, Secondary
	gw, _ := NewLink(gwCfg)
	mt, _ := NewLink(mtCfg)
	epoch := time.Unix(0, 0)
	// req and resp count the LLC header (traffic.go); the link adds it.
	if _, err := gw.Send(make([]byte, req-llcHeader)); err != nil {
		return false, 0
	}
	got := false
	var frames []Frame
	idle := 0
	for {
		now := epoch.Add(m.Now())
		var ev LinkEvents
		frames, ev = gw.Poll(now, frames[:0])
		if len(ev.Failed) > 0 {
			return false, int64(req)
		}
		sent := len(frames)
		for _, f := range frames {
			if m.Transmit("gateway", f.EncodedLen()) {
				ev, _ := mt.Receive(f, epoch.Add(m.Now()))
				if len(ev.Delivered) > 0 {
					_, _ = mt.Send(make([]byte, resp-llcHeader))
				}
			}
		}
		frames, ev = mt.Poll(epoch.Add(m.Now()), frames[:0])
		if len(ev.Failed) > 0 {
			return false, int64(req + resp)
		}
		sent += len(frames)
		for _, f := range frames {
			if m.Transmit(node, f.EncodedLen()) {
				ev, _ := gw.Receive(f, epoch.Add(m.Now()))
				if len(ev.Delivered) > 0 {
					got = true
				}
			}
		}
		if got && gw.Idle() && mt.Idle() {
			// The gateway's last acknowledgement goes out with the next poll.
			frames, _ = gw.Poll(epoch.Add(m.Now()), frames[:0])
			for _, f := range frames {
				m.Transmit("gateway", f.EncodedLen())
			}
			return true, int64(req + resp)
		}
		if gw.Failed() || mt.Failed() {
			return got, int64(req + resp)
		}
		if sent == 0 {
			idle++
			m.Advance(100 * time.Millisecond)
			if idle > 1_000_000 {
				return false, 0
			}
		}
	}
}

// linkConfigFor chooses window and timers for the medium: the timeout covers
// a full window of maximum frames and an acknowledgement.
func linkConfigFor(m *Medium) LinkConfig {
	maxFrame := m.FrameAirtime(DefaultMaxInfo + 12)
	return LinkConfig{
		Local: Addr1(0x10), Remote: ServerAddr(1, 1),
		Window:            DefaultWindow,
		RetransmitTimeout: time.Duration(DefaultWindow+2)*maxFrame + time.Second,
		MaxRetries:        8,
		FrameLifetime:     maxFrame,
	}
}

// SimulateDay runs one day of collection for cfg.Meters meters: the gateway
// fetches each meter's signed load-profile blocks in BlocksPerDay rounds spread
// over the day, on-demand reads at random times, and alarms arrive unsolicited
// (colliding with scheduled traffic where they overlap).
func SimulateDay(cfg CapacityConfig) CapacityReport {
	m := NewMedium(cfg.Profile, cfg.Hops, cfg.Loss, cfg.Seed)
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	rep := CapacityReport{Config: cfg}
	lc := linkConfigFor(m)
	const day = 24 * time.Hour
	// Alarms and on-demand reads at random times of the day.
	type job struct {
		at   time.Duration
		node int
	}
	var reads []job
	for i := range cfg.Meters {
		for range poisson(rng, cfg.AlarmsPerDay) {
			m.ScheduleAlarm(meterName(i), time.Duration(rng.Int64N(int64(day))), frameBytesFor(AlarmAPDUBytes(), DefaultMaxInfo))
			rep.APDUBytes += int64(AlarmAPDUBytes())
		}
		for range poisson(rng, cfg.ReadsPerDay) {
			reads = append(reads, job{at: time.Duration(rng.Int64N(int64(day))), node: i})
		}
	}
	sortJobs := func(js []job) {
		for i := 1; i < len(js); i++ {
			for j := i; j > 0 && js[j].at < js[j-1].at; j-- {
				js[j], js[j-1] = js[j-1], js[j]
			}
		}
	}
	sortJobs(reads)
	intervals := 96 / max(cfg.BlocksPerDay, 1)
	run := func(node, resp int) {
		ok, n := exchange(m, meterName(node), requestAPDU, resp, lc)
		rep.Exchanges++
		rep.APDUBytes += n
		if !ok {
			rep.FailedExchanges++
		}
	}
	ri := 0
	for round := range cfg.BlocksPerDay {
		start := day * time.Duration(round) / time.Duration(cfg.BlocksPerDay)
		for ri < len(reads) && reads[ri].at < start {
			if reads[ri].at > m.Now() {
				m.Advance(reads[ri].at - m.Now())
			}
			run(reads[ri].node, ReadingAPDUBytes())
			ri++
		}
		if start > m.Now() {
			m.Advance(start - m.Now())
		}
		for i := range cfg.Meters {
			run(i, BlockAPDUBytes(intervals))
		}
	}
	for ; ri < len(reads); ri++ {
		if reads[ri].at > m.Now() {
			m.Advance(reads[ri].at - m.Now())
		}
		run(reads[ri].node, ReadingAPDUBytes())
	}
	if m.Now() < day {
		m.Advance(day - m.Now())
	}
	rep.Airtime = m.TotalAirtime()
	rep.Share = float64(rep.Airtime) / float64(day)
	rep.Frames, rep.Lost, rep.Collisions = m.Stats()
	rep.AlarmsPending = m.PendingAlarms()
	return rep
}

func meterName(i int) string { return fmt.Sprintf("meter-%04d", i) }

// poisson draws a Poisson-distributed count with mean lambda (Knuth).
func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := expNeg(lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func expNeg(x float64) float64 {
	// e^-x for small x without importing math for one call site.
	r, term := 1.0, 1.0
	for i := 1; i < 40; i++ {
		term *= -x / float64(i)
		r += term
	}
	return r
}

// WriteCapacityTable writes reports as a Markdown table.
func WriteCapacityTable(w io.Writer, reps []CapacityReport) {
	fmt.Fprintln(w, "| medium | meters | hops | loss | blocks/day | reads/day | alarms/day | airtime/day | share of day | frames | lost | collisions | failed exchanges |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range reps {
		c := r.Config
		fmt.Fprintf(w, "| %s | %d | %d | %.0f %% | %d | %.1f | %.2f | %s | %.1f %% | %d | %d | %d | %d |\n",
			c.Profile.Name, c.Meters, c.Hops, c.Loss*100, c.BlocksPerDay, c.ReadsPerDay, c.AlarmsPerDay,
			r.Airtime.Round(time.Minute), r.Share*100, r.Frames, r.Lost, r.Collisions, r.FailedExchanges)
	}
}
