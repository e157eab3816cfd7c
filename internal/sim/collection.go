package sim

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

func day0(t time.Time) int64 { return t.Unix() / 86400 }

// runDays runs the days of readings (step 3) and their collection
// overnight (step 4).
func (w *world) runDays(rep *Report) error {
	ctx := context.Background()
	f := &rep.Fig
	f.IngestRejected, f.WakeUpRefused = map[string]int{}, map[string]int{}
	airStart := make([]time.Duration, len(w.gws))
	for i, g := range w.gws {
		airStart[i] = g.seg.Medium().TotalAirtime()
	}
	var ingestTime time.Duration
	var ingested, ivs int
	var rejected []string
	tariffs := w.meters[:min(5, len(w.meters))]
	f.TariffTargets = len(tariffs)
	var resend []wan.Item
	for d := range w.cfg.Days {
		day := day0(w.t0) + int64(d)
		for i := range 96 {
			w.now = w.t0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*15*time.Minute)
			for _, n := range w.meters {
				if _, err := n.m.Measure(day, i); err != nil {
					return err
				}
				f.ReadingsTaken++
			}
			if d == 0 && i == 48 {
				// Noon: every tenth meter switches supplier (UC6).
				for _, n := range w.meters {
					if !n.switched {
						continue
					}
					if err := w.alice.SwitchSupplier(ctx, n.cfg.Title, "supplier Suedwind", w.now, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)); err != nil {
						return err
					}
					f.SwitchedMeters++
				}
				// An on-demand read for a customer's move-out (UC3).
				n := w.meters[0]
				r, err := n.gw.g.ReadNow(n.cfg.Title)
				if err != nil {
					return fmt.Errorf("on-demand read: %w", err)
				}
				w.readings = append(w.readings, r)
				f.OnDemandReads++
			}
			if i == 64 {
				// A tariff change for the evening peak (UC4), requested and
				// approved by two operators, signed by the head-end, run once
				// by each meter.
				for _, n := range tariffs {
					c, err := w.command(ctx, n.cfg.Title, wan.CommandRequest{Kind: "tariff", Tariff: 2})
					if err != nil {
						return err
					}
					if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
						return fmt.Errorf("tariff on %x: %w", n.cfg.Title, err)
					}
				}
			}
			w.progress(d*96+i+1, w.cfg.Days*96, fmt.Sprintf("day %d, %02d:%02d", d+1, i/4, i%4*15))
		}
		// Collection overnight (UC2). Gateway 0's WAN is down during its
		// first flush; gateway 1 (gateway 0 when it is the only one)
		// restarts after collecting.
		w.now = w.t0.Add(time.Duration(d+1)*24*time.Hour + 30*time.Minute)
		for gi, g := range w.gws {
			for _, n := range w.meters {
				if n.gw != g {
					continue
				}
				if err := g.g.CollectDay(n.cfg.Title, day); err != nil {
					return fmt.Errorf("collect %x: %w", n.cfg.Title, err)
				}
			}
			w.progress(gi+1, len(w.gws), "collecting load-profile blocks")
		}
		if d == 0 {
			// One batch of the last gateway will reach the head-end twice,
			// as after a crash between the head-end's commit and the
			// gateway's acknowledgement.
			resend = append(resend, w.gws[len(w.gws)-1].g.Queue().Pending(20)...)
			w.wanDown[w.gws[0].name] = true
			if _, _, err := w.gws[0].g.Flush(ctx, uplink{w}, 500); !errors.Is(err, gateway.ErrWANDown) {
				return fmt.Errorf("flush with the WAN down: %w", err)
			}
			f.QueuedDuringOutage = w.gws[0].g.Queue().Len()
			// A gateway restarts: its queue comes back from disk.
			g := w.gws[min(1, len(w.gws)-1)]
			f.QueueBeforeRestart = g.g.Queue().Len()
			if err := w.restartGateway(g); err != nil {
				return err
			}
			f.QueueAfterRestart = g.g.Queue().Len()
		}
		w.wanDown[w.gws[0].name] = false
		if d == 0 {
			// The WAN is back: the head-end wakes gateway 0 with a signed
			// wake-up (the gateway never listens on the WAN); a replay of it
			// and one signed by an attacker are refused.
			g0 := w.gws[0]
			wake, err := w.alice.wakeUp(ctx, g0.cfg.Title)
			if err != nil {
				return err
			}
			if err := g0.g.AcceptWakeUp(wake, &w.heKey.PublicKey); err != nil {
				return fmt.Errorf("wake-up: %w", err)
			}
			t := time.Now()
			n, res, err := g0.g.Flush(ctx, uplink{w}, 500)
			if err != nil {
				return fmt.Errorf("flush after the wake-up: %w", err)
			}
			ingestTime += time.Since(t)
			ingested += n
			f.DeliveredAfterWakeUp = n
			ivs += res.Intervals
			for _, e := range res.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
			replayErr := g0.g.AcceptWakeUp(wake, &w.heKey.PublicKey)
			forgedWake, _ := protocol.SignCommand(protocol.Command{Meter: g0.cfg.Title, Counter: 1 << 40, Kind: protocol.CmdWakeUp}, key(), protocol.SubjectKeyID(&w.heKey.PublicKey), rand.Reader)
			forgedErr := g0.g.AcceptWakeUp(forgedWake, &w.heKey.PublicKey)
			tally(f.WakeUpRefused, replayErr, gateway.ErrWakeUp)
			tally(f.WakeUpRefused, forgedErr, gateway.ErrWakeUp)
		}
		for _, g := range w.gws {
			t := time.Now()
			n, res, err := g.g.Flush(ctx, uplink{w}, 500)
			if err != nil {
				return fmt.Errorf("flush %s: %w", g.name, err)
			}
			ingestTime += time.Since(t)
			ingested += n
			ivs += res.Intervals
			for _, e := range res.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
		}
		// The meters keep every item until the head-end's signed
		// acknowledgement, which each gateway relays (spec/Collection.tla,
		// EndToEndAcked).
		f.ItemsKeptBeforeAcks, f.ItemsKeptAfterAcks = 0, 0
		for _, n := range w.meters {
			f.ItemsKeptBeforeAcks += n.m.Status().Unacknowledged
			k, err := n.gw.g.RelayAcks(n.cfg.Title)
			if err != nil {
				return fmt.Errorf("relay acknowledgements to %x: %w", n.cfg.Title, err)
			}
			f.AcksRelayed += k
			f.ItemsKeptAfterAcks += n.m.Status().Unacknowledged
		}
		if len(resend) > 0 && d == 0 {
			r2, err := w.he.Ingest(ctx, w.gws[len(w.gws)-1].name, resend)
			if err != nil {
				return err
			}
			f.ResentRecognised = r2.Duplicates
			for _, e := range r2.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
		}
	}
	for _, n := range tariffs {
		if n.m.Status().Tariff == 2 {
			f.TariffMeters++
		}
	}
	if w.cfg.DuplicateBlock {
		if err := w.duplicateOneBlock(); err != nil {
			return err
		}
	}
	var err error
	if f.ItemsStored, f.IntervalsStored, err = w.store.Counts(); err != nil {
		return err
	}
	if w.cfg.BreakSignature {
		if err := w.breakOneSignature(); err != nil {
			return err
		}
	}
	var verifyFailures []string
	if f.SignaturesVerified, f.SignaturesBad, f.DuplicateIntervals, verifyFailures, err = w.verifyStored(); err != nil {
		return err
	}
	for i, g := range w.gws {
		air := g.seg.Medium().TotalAirtime() - airStart[i]
		meters := 0
		for _, n := range w.meters {
			if n.gw == g {
				meters++
			}
		}
		f.Airtime = append(f.Airtime, SegmentAirtime{Segment: g.name, Meters: meters, Airtime: air.Seconds(),
			Utilisation: air.Seconds() / (float64(w.cfg.Days) * 86400)})
	}

	// Step 3: the day of readings.
	want := len(w.meters) * 96 * w.cfg.Days
	rep.add(StepReadings, "quarter-hour readings taken", f.ReadingsTaken == want,
		plural(f.ReadingsTaken, "interval"), fmt.Sprintf("%d meters x 96 x %s = %d", len(w.meters), plural(w.cfg.Days, "day"), want), "")
	rep.add(StepReadings, "supplier switch at noon (UC6)", f.SwitchedMeters >= 1,
		plural(f.SwitchedMeters, "meter"), "every tenth meter, at least 1", "")
	rep.add(StepReadings, "on-demand read for a move-out (UC3)", f.OnDemandReads == 1,
		plural(f.OnDemandReads, "signed reading"), "1", "")
	rep.add(StepReadings, "tariff command at 16:00 (UC4)", f.TariffMeters == f.TariffTargets,
		fmt.Sprintf("%d of %d meters on tariff 2", f.TariffMeters, f.TariffTargets), fmt.Sprintf("all %d", f.TariffTargets), "")

	// Step 4: collection.
	rep.add(StepCollection, "intervals stored at the head-end", f.IntervalsStored == f.ReadingsTaken,
		fmt.Sprintf("%s in %s", plural(f.IntervalsStored, "interval"), plural(f.ItemsStored, "signed item")),
		fmt.Sprintf("= readings taken (%d)", f.ReadingsTaken), "")
	f.IntervalsLost = f.ReadingsTaken - (f.IntervalsStored - f.DuplicateIntervals)
	rep.add(StepCollection, "readings lost", f.IntervalsLost == 0,
		plural(f.IntervalsLost, "interval"), "0", "")
	rep.add(StepCollection, "intervals stored twice", f.DuplicateIntervals == 0,
		plural(f.DuplicateIntervals, "interval"), "0", "")
	rep.add(StepCollection, "resent items recognised as duplicates", f.ResentRecognised == len(resend) && len(resend) > 0,
		fmt.Sprintf("%d of %d items", f.ResentRecognised, len(resend)), fmt.Sprintf("all %d, none stored again", len(resend)), "")
	rep.add(StepCollection, "items refused at ingest", len(rejected) == 0,
		fmt.Sprintf("%d (%s)", len(rejected), Classes(f.IngestRejected)), "0", strings.Join(rejected, "\n"))
	rep.add(StepCollection, "WAN outage: gateway 0 holds its items, sends them on a signed wake-up", f.QueuedDuringOutage > 0 && f.DeliveredAfterWakeUp == f.QueuedDuringOutage,
		fmt.Sprintf("%d items queued, %d delivered", f.QueuedDuringOutage, f.DeliveredAfterWakeUp), "all queued delivered, > 0", "")
	rep.add(StepCollection, "replayed and forged wake-ups refused", f.WakeUpRefused["wake-up not authentic or replayed"] == 2,
		fmt.Sprintf("%d of 2 (%s)", Sum(f.WakeUpRefused)-f.WakeUpRefused["not refused"], Classes(f.WakeUpRefused)), "2 of 2, wake-up not authentic or replayed", "")
	rep.add(StepCollection, "gateway restart keeps its queue", f.QueueAfterRestart == f.QueueBeforeRestart,
		fmt.Sprintf("%d of %d items after restart", f.QueueAfterRestart, f.QueueBeforeRestart), fmt.Sprintf("all %d", f.QueueBeforeRestart), "")
	rep.add(StepCollection, "meters keep each item until the head-end's signed acknowledgement, relayed by the gateway", f.AcksRelayed > 0 && f.ItemsKeptBeforeAcks > 0 && f.ItemsKeptAfterAcks == 0,
		fmt.Sprintf("%d kept after the flush, %d acknowledgements relayed, %d kept after", f.ItemsKeptBeforeAcks, f.AcksRelayed, f.ItemsKeptAfterAcks), "all kept until acknowledged, 0 after", "")
	rep.add(StepCollection, "signatures verified by an outsider (roots and meter certificates only)", f.SignaturesBad == 0 && f.SignaturesVerified == f.ItemsStored,
		fmt.Sprintf("%d of %d items", f.SignaturesVerified, f.ItemsStored), fmt.Sprintf("all %d", f.ItemsStored), strings.Join(verifyFailures, "\n"))
	worst := f.Airtime[0]
	var parts []string
	for _, a := range f.Airtime {
		if a.Utilisation > worst.Utilisation {
			worst = a
		}
		parts = append(parts, fmt.Sprintf("%s %.2f %%", a.Segment, 100*a.Utilisation))
	}
	fig := strings.Join(parts, ", ")
	if len(parts) > 4 {
		fig = fmt.Sprintf("max %.2f %% (%s) over %d segments", 100*worst.Utilisation, worst.Segment, len(parts))
	}
	var airDetail []string
	for _, a := range f.Airtime {
		airDetail = append(airDetail, fmt.Sprintf("%s: %d meters, %.0f s airtime, %.2f %% of %s", a.Segment, a.Meters, a.Airtime, 100*a.Utilisation, plural(w.cfg.Days, "day")))
	}
	rep.add(StepCollection, "PLC airtime utilisation per segment (readings, collection)", worst.Utilisation <= maxSegmentUtilisation,
		fig, fmt.Sprintf("<= %.0f %% per S-FSK segment", 100*maxSegmentUtilisation), strings.Join(airDetail, "\n"))
	rate := float64(ivs) / max(ingestTime.Seconds(), 1e-9)
	rep.Info = append(rep.Info, fmt.Sprintf("ingest: %d interval values from %d signed items in %.0f ms (%.0f values/s, TLS not in the loop in-process)", ivs, ingested, ingestTime.Seconds()*1000, rate))
	return nil
}

// duplicateOneBlock copies the first stored block under another counter,
// behind the head-end's back (the broken variant DuplicateBlock): the
// same quarter hours are then stored twice.
func (w *world) duplicateOneBlock() error {
	if w.dbPath == "" || strings.Contains(w.dbPath, "://") {
		return errors.New("duplicate block: only with a SQLite database")
	}
	db, err := sql.Open("sqlite", "file:"+w.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`INSERT INTO data (meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals)
		SELECT meter, counter + 1000000, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals
		FROM data WHERE kind = ? ORDER BY meter, counter LIMIT 1`, int(wan.KindBlock))
	return err
}

// breakOneSignature flips a bit of one stored signature behind the
// head-end's back, in its SQLite database (the broken variant the demo's
// test uses to show the checks can fail), as duplicateOneBlock does.
func (w *world) breakOneSignature() error {
	if w.dbPath == "" || strings.Contains(w.dbPath, "://") {
		return errors.New("break signature: only with a SQLite database")
	}
	db, err := sql.Open("sqlite", "file:"+w.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var meter, raw []byte
	var ctr int64
	if err := db.QueryRow(`SELECT meter, counter, raw FROM data ORDER BY meter, counter LIMIT 1`).Scan(&meter, &ctr, &raw); err != nil {
		return fmt.Errorf("break signature: %w", err)
	}
	raw[len(raw)-1] ^= 1
	_, err = db.Exec(`UPDATE data SET raw = ? WHERE meter = ? AND counter = ?`, raw, meter, ctr)
	return err
}

// verifyStored re-verifies every stored item as an outsider would, and
// counts the quarter hours that verified blocks store more than once.
// failures names the items that did not verify.
func (w *world) verifyStored() (ok, bad, dupIntervals int, failures []string, err error) {
	type slot struct {
		meter protocol.SystemTitle
		at    int64
	}
	seen := map[slot]bool{}
	err = w.store.Each(func(kind wan.Kind, raw []byte) {
		var verr error
		switch kind {
		case wan.KindReading:
			_, verr = w.verify.VerifyReading(raw)
		case wan.KindBlock:
			var b protocol.SignedBlock
			if b, verr = protocol.UnmarshalSignedBlock(raw); verr == nil {
				var h protocol.BlockHeader
				if h, verr = w.verify.VerifyBlock(b); verr == nil {
					for _, iv := range b.Intervals {
						s := slot{h.Meter, h.Start + int64(iv.Index)*int64(h.Period)}
						if seen[s] {
							dupIntervals++
						}
						seen[s] = true
					}
				}
			}
		case wan.KindEvent:
			_, verr = w.verify.VerifyEvent(raw)
		}
		if verr != nil {
			bad++
			if len(failures) < 100 {
				failures = append(failures, fmt.Sprintf("item %d (kind %d, %d bytes): %s: %v", ok+bad, kind, len(raw), reasonClass(verr), verr))
			}
		} else {
			ok++
		}
	})
	return ok, bad, dupIntervals, failures, err
}
