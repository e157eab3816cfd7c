package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// relayCommands fetches the commands the head-end holds ready for this
// gateway's meters, relays each to its meter over PLC (the meter verifies
// the head-end's signature and counter) and reports the meter's answer:
// accepted, or refused with the reason. A command that did not reach its
// meter (no answer on the line) is not reported: it stays ready and is
// fetched again on the next run.
func relayCommands(g *gateway.Gateway, up *gateway.HTTPSUplink, stdout io.Writer) error {
	ctx := context.Background()
	cmds, err := up.Commands(ctx)
	if wanFault(err) {
		// The commands stay ready for the next run; the data is forwarded.
		fmt.Fprintf(stdout, "%s: commands not fetched: %v\n", g.Name(), err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetching commands: %w", err)
	}
	var relayed, refused, undelivered int
	for _, c := range cmds {
		meter, err := protocol.ParseSystemTitle(c.Meter)
		if err != nil {
			return fmt.Errorf("command %d: %w", c.ID, err)
		}
		signed, err := base64.StdEncoding.DecodeString(c.Signed)
		if err != nil {
			return fmt.Errorf("command %d: %w", c.ID, err)
		}
		res := wan.CommandResult{OK: true}
		switch err := g.Command(meter, signed); {
		case err == nil:
			relayed++
		case errors.Is(err, gateway.ErrMeterRefus):
			res = wan.CommandResult{Error: err.Error()}
			refused++
		default:
			fmt.Fprintf(stdout, "%s: command %d to %s not delivered: %v\n", g.Name(), c.ID, c.Meter, err)
			undelivered++
			continue
		}
		// A report lost on the WAN leaves the command ready: the next run
		// relays it again and the meter refuses the repeat (its counter),
		// which is then reported as the meter's refusal.
		if err := up.CommandResult(ctx, c.ID, res); wanFault(err) {
			fmt.Fprintf(stdout, "%s: result of command %d not reported: %v\n", g.Name(), c.ID, err)
		} else if err != nil {
			return fmt.Errorf("reporting command %d: %w", c.ID, err)
		}
	}
	fmt.Fprintf(stdout, "%s: %d commands relayed, %d refused by meters, %d not delivered\n", g.Name(), relayed, refused, undelivered)
	return nil
}

// wanFault says whether err is the WAN's or a busy head-end's, which a
// later run retries, rather than a refusal.
func wanFault(err error) bool {
	return errors.Is(err, gateway.ErrWANDown) || errors.Is(err, gateway.ErrHeadEndBusy)
}

// readRequested is an on-demand read an operator asked for: the request,
// and the reading's counter once taken or the meter's refusal.
type readRequested struct {
	id      int64
	meter   string
	counter uint64
	refusal string
}

// takeRequestedReads fetches the head-end's pending read requests for this
// gateway's meters (UC3) and takes each reading over PLC; the readings are
// queued, to be forwarded with the rest before reportReads reports them. A
// request for a meter that did not answer is not reported: it stays
// pending and is fetched again on the next run.
func takeRequestedReads(g *gateway.Gateway, up *gateway.HTTPSUplink, stdout io.Writer) ([]readRequested, error) {
	reads, err := up.Reads(context.Background())
	if wanFault(err) {
		fmt.Fprintf(stdout, "%s: read requests not fetched: %v\n", g.Name(), err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetching read requests: %w", err)
	}
	var out []readRequested
	for _, r := range reads {
		meter, err := protocol.ParseSystemTitle(r.Meter)
		if err != nil {
			return nil, fmt.Errorf("read request %d: %w", r.ID, err)
		}
		raw, err := g.ReadNow(meter)
		switch {
		case err == nil:
			_, ctr, err := protocol.PeekData(raw, false)
			if err != nil {
				return nil, fmt.Errorf("read request %d: %w", r.ID, err)
			}
			out = append(out, readRequested{id: r.ID, meter: r.Meter, counter: ctr})
		case errors.Is(err, gateway.ErrMeterRefus):
			out = append(out, readRequested{id: r.ID, meter: r.Meter, refusal: err.Error()})
		default:
			fmt.Fprintf(stdout, "%s: read request %d of %s not served: %v\n", g.Name(), r.ID, r.Meter, err)
		}
	}
	return out, nil
}

// reportReads reports the read requests takeRequestedReads served, after
// their readings were forwarded: the head-end closes a request only when
// it holds the reading. A report lost on the WAN leaves the request
// pending; the next run takes another reading for it. So does a refusal
// (the reading is still queued because the forward did not finish).
func reportReads(g *gateway.Gateway, up *gateway.HTTPSUplink, reads []readRequested, stdout io.Writer) error {
	done := 0
	for _, r := range reads {
		err := up.ReadResult(context.Background(), r.id, wan.ReadResult{Counter: r.counter, Error: r.refusal})
		switch {
		case wanFault(err), errors.Is(err, gateway.ErrHeadEndRefused):
			// Refused: the reading is still queued (the forward did not
			// finish) or another run reported it; the request is the
			// head-end's to keep.
			fmt.Fprintf(stdout, "%s: read request %d not reported: %v\n", g.Name(), r.id, err)
			continue
		case err != nil:
			return fmt.Errorf("reporting read request %d: %w", r.id, err)
		}
		if r.refusal == "" {
			done++
		}
	}
	fmt.Fprintf(stdout, "%s: %d of %d requested reads taken and reported\n", g.Name(), done, len(reads))
	return nil
}
