package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// market is step 8: every participant fetches what its contract covers and
// verifies each interval offline; the switched meters' quarter hours are
// split between the old and the new supplier; participants without a
// contract or with a revoked certificate are refused.
func (w *world) market(rep *Report) error {
	ctx := context.Background()
	f := &rep.Fig
	f.FetchRefused = map[string]int{}
	w.now = w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour + 2*time.Hour)
	from, to := w.t0, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)
	noon := w.t0.Add(12 * time.Hour)
	perMeter := 96 * w.cfg.Days
	// Each participant verifies a block's signature once and every interval
	// of it against the signed Merkle root.
	verified := map[string]map[string]protocol.BlockHeader{}
	var failures []string
	verify := func(who string, ps []protocol.IntervalProof) map[int64]bool {
		cache := verified[who]
		if cache == nil {
			cache = map[string]protocol.BlockHeader{}
			verified[who] = cache
		}
		out := map[int64]bool{}
		for _, p := range ps {
			h, ok := cache[string(p.Sign1)]
			var err error
			if !ok {
				if h, err = w.verify.VerifyBlockHeader(p.Sign1); err == nil {
					cache[string(p.Sign1)] = h
				}
			}
			if err == nil {
				err = protocol.VerifyIntervalAgainst(h, p.Interval, p.Path)
			}
			if err != nil {
				f.IntervalsBad++
				if len(failures) < 100 {
					failures = append(failures, fmt.Sprintf("%s: interval %d: %v", who, p.Interval.Index, err))
				}
				continue
			}
			f.IntervalsVerified++
			out[h.Start+int64(p.Interval.Index)*int64(h.Period)] = true
		}
		return out
	}
	var partition []string
	for i, n := range w.meters {
		w.progress(i+1, len(w.meters), "market participants fetch and verify")
		g, err := w.partAPI["grid operator Netz"].Intervals(ctx, n.cfg.Title, from, to)
		if err != nil {
			return fmt.Errorf("grid operator's fetch for %x: %w", n.cfg.Title, err)
		}
		f.IntervalsEntitled += perMeter
		verify("grid operator Netz", g)
		if n.supplier == "supplier Lapsed" {
			continue // revoked at noon: refused below
		}
		f.IntervalsEntitled += perMeter
		if !n.switched {
			a, err := w.partAPI[n.supplier].Intervals(ctx, n.cfg.Title, from, to)
			if err != nil {
				return fmt.Errorf("%s's fetch for %x: %w", n.supplier, n.cfg.Title, err)
			}
			verify(n.supplier, a)
			continue
		}
		a, errA := w.partAPI[n.supplier].Intervals(ctx, n.cfg.Title, from, to)
		b, errB := w.partAPI["supplier Suedwind"].Intervals(ctx, n.cfg.Title, from, to)
		if err := errors.Join(errA, errB); err != nil {
			return fmt.Errorf("fetch for switched meter %x: %w", n.cfg.Title, err)
		}
		// The old supplier sees only before noon, the new one only from
		// noon of the first day; every quarter hour goes to exactly one.
		seenA, seenB := verify(n.supplier, a), verify("supplier Suedwind", b)
		bad := 0
		for ts := range seenA {
			if ts >= noon.Unix() && ts < from.Add(24*time.Hour).Unix() {
				bad++ // the old supplier sees after the switch
			}
		}
		for ts := range seenB {
			if ts < noon.Unix() || seenA[ts] {
				bad++ // the new supplier sees before the switch
			}
		}
		if len(seenA)+len(seenB) != perMeter {
			bad += perMeter - len(seenA) - len(seenB)
		}
		if bad != 0 {
			partition = append(partition, fmt.Sprintf("meter %x: old supplier %d, new supplier %d quarter hours, %d misplaced", n.cfg.Title, len(seenA), len(seenB), bad))
		}
		f.PartitionViolations += max(bad, -bad)
		if len(w.proofs) == 0 && len(a) > 0 && len(b) > 0 {
			w.proofs = append(w.proofs, a[0], a[len(a)-1], b[0], b[len(b)-1])
		}
	}
	rep.add(StepMarket, "supplier switch: each quarter hour to exactly one supplier", f.PartitionViolations == 0 && f.SwitchedMeters > 0,
		fmt.Sprintf("%d misplaced over %s", f.PartitionViolations, plural(f.SwitchedMeters, "switched meter")),
		"0; old supplier until 12:00, new from 12:00", strings.Join(partition, "\n"))
	rep.add(StepMarket, "participants verify every interval offline (signature, Merkle proof)", f.IntervalsBad == 0 && f.IntervalsVerified == f.IntervalsEntitled,
		fmt.Sprintf("%d of %d intervals", f.IntervalsVerified, f.IntervalsEntitled),
		fmt.Sprintf("all their contracts cover (%d; the revoked supplier's excepted)", f.IntervalsEntitled), strings.Join(failures, "\n"))
	// A supplier asking for a period or a meter outside its contracts is
	// refused: the new supplier for the morning before the switch, and a
	// supplier for another supplier's meter.
	tries, refusedNoContract := 0, 0
	_, err := w.partAPI["supplier Suedwind"].Intervals(ctx, w.meters[0].cfg.Title, from, noon)
	tries++
	if tally(f.FetchRefused, err, headend.ErrNotEntitled) {
		refusedNoContract++
	}
	for _, n := range w.meters {
		if n.supplier == "supplier Nordstrom" && !n.switched {
			_, err := w.partAPI["supplier Suedwind"].Intervals(ctx, n.cfg.Title, from, to)
			tries++
			if tally(f.FetchRefused, err, headend.ErrNotEntitled) {
				refusedNoContract++
			}
			break
		}
	}
	rep.add(StepMarket, "participant without a contract for meter and period refused", refusedNoContract == tries,
		fmt.Sprintf("%d of %d requests refused", refusedNoContract, tries), "all, no contract for meter and period", "")
	revoked := map[string]int{}
	_, err = w.partAPI["supplier Lapsed"].Intervals(ctx, w.meters[min(2, len(w.meters)-1)].cfg.Title, from, to)
	ok := tally(revoked, err, headend.ErrParticipant) && errors.Is(err, protocol.ErrRevoked)
	for k, v := range revoked {
		f.FetchRefused[k] += v
	}
	rep.add(StepMarket, "participant whose certificate was revoked at noon refused", ok,
		fmt.Sprintf("refused: %s", Classes(revoked)), "refused, certificate revoked", "")
	return nil
}

// commandsPolicy checks who may disconnect a meter (UC4) through the
// operator API, that an approved disconnect runs once, and the hourly
// limit of disconnects (disconnectsPerHour).
func (w *world) commandsPolicy(rep *Report) error {
	ctx := context.Background()
	f := &rep.Fig
	f.CommandRefused, f.RepeatRefused = map[string]int{}, map[string]int{}
	n := w.meters[len(w.meters)-1]
	req := wan.CommandRequest{Meter: hexTitle(n.cfg.Title), Kind: "disconnect"}
	// Four eyes: alice requests, her own approval is refused.
	pending, err := w.alice.RequestCommand(ctx, req)
	if err != nil {
		return err
	}
	_, err = w.alice.ApproveCommand(ctx, pending.ID)
	ok1 := tally(f.CommandRefused, err, errSameOperator)
	// A supplier is no operator: the operator API refuses its certificate.
	_, err = w.partAPI["supplier Nordstrom"].RequestCommand(ctx, req)
	ok2 := tally(f.CommandRefused, err, errForbidden)
	// Alice signs her approval with her own key, bob adds his: the
	// head-end checks both, embeds them and signs; the meter checks them.
	mine, err := w.alice.Approval(ctx, pending.ID)
	if err != nil {
		return err
	}
	c, err := w.bob.ApproveCommand(ctx, pending.ID, mine)
	if err != nil {
		return err
	}
	if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
		return err
	}
	f.DisconnectRuns++
	// A second disconnect within the hour, requested and approved by two
	// operators, is above the head-end's limit.
	_, err = w.command(ctx, w.meters[0].cfg.Title, wan.CommandRequest{Kind: "disconnect"})
	ok3 := tally(f.CommandRefused, err, errRuleRefused) && errors.Is(err, headend.ErrRateLimit)
	rep.add(StepMarket, "disconnect approved by its own requester, requested by a supplier, or above the hourly limit, refused", ok1 && ok2 && ok3,
		fmt.Sprintf("3 tried: %s", Classes(f.CommandRefused)), "1 approved by its requester, 1 not an operator, 1 above the hourly limit", "")
	// Delivered again: the gateway refuses a command it relayed; after a
	// restart it has forgotten, and the meter refuses the old counter.
	again := n.gw.g.Command(n.cfg.Title, c)
	if err := w.restartGateway(n.gw); err != nil {
		return err
	}
	afterRestart := n.gw.g.Command(n.cfg.Title, c)
	ok1 = tally(f.RepeatRefused, again, gateway.ErrRelayed)
	ok2 = tally(f.RepeatRefused, afterRestart, gateway.ErrMeterRefus)
	rep.add(StepMarket, "approved disconnect runs once", f.DisconnectRuns == 1 && ok1 && ok2,
		fmt.Sprintf("ran %d time; 2 repeats: %s", f.DisconnectRuns, Classes(f.RepeatRefused)),
		"once; repeat refused by the gateway, after its restart by the meter", "")
	log, err := w.alice.audit(ctx)
	if err != nil {
		return err
	}
	f.AuditEntries = len(log)
	rep.add(StepMarket, "head-end audit log", len(log) > 0, fmt.Sprintf("%d entries", len(log)), "> 0", "")
	return nil
}

// restartGateway closes a gateway and opens it again from its directory (its
// queue comes back, what it relayed is forgotten) and recommissions its
// meters.
func (w *world) restartGateway(g *gwNode) error {
	g.g.Close()
	ng, err := gateway.New(g.cfg)
	if err != nil {
		return err
	}
	g.g = ng
	for _, n := range w.meters {
		if n.gw == g {
			if err := g.g.Commission(n.cfg.Title, n.channelPub); err != nil {
				return fmt.Errorf("recommission after restart: %w", err)
			}
		}
	}
	return nil
}
