package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
)

// pickUpCampaigns asks the head-end, on the gateway's own connection, for
// the firmware campaign work of its meters, relays it over PLC and reports
// each meter's outcome (gateway.RunCampaigns). A meter's refusal is an
// outcome, not a failure of the run. After a WAN fault or a busy head-end
// it asks again for up to retryFor (a meter that reported is not offered
// again).
func pickUpCampaigns(g *gateway.Gateway, src gateway.FirmwareSource, meters []gatewayMeter, retryFor time.Duration, stdout io.Writer) error {
	titles := make([]protocol.SystemTitle, 0, len(meters))
	for _, m := range meters {
		t, err := protocol.ParseSystemTitle(m.Title)
		if err != nil {
			return err
		}
		titles = append(titles, t)
	}
	n := 0
	report := func(err error) error {
		fmt.Fprintf(stdout, "%s: %d firmware outcomes reported to the head-end\n", g.Name(), n)
		if err != nil {
			return fmt.Errorf("firmware campaigns: %w", err)
		}
		return nil
	}
	deadline := time.Now().Add(retryFor)
	wait := 20 * time.Millisecond
	for {
		k, err := g.RunCampaigns(context.Background(), src, titles, func(r gateway.CampaignResult) {
			if r.Installed {
				fmt.Fprintf(stdout, "firmware %x campaign %d: installed\n", r.Meter, r.Campaign)
			} else {
				fmt.Fprintf(stdout, "firmware %x campaign %d: refused: %v\n", r.Meter, r.Campaign, r.Refusal)
			}
		})
		n += k
		if err == nil || !(errors.Is(err, gateway.ErrWANDown) || errors.Is(err, gateway.ErrHeadEndBusy)) || time.Now().Add(wait).After(deadline) {
			return report(err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}
