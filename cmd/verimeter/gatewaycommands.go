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
