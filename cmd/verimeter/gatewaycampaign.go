package main

import (
	"context"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
)

// pickUpCampaigns asks the head-end, on the gateway's own connection, for
// the firmware campaign work of its meters, relays it over PLC and reports
// each meter's outcome (gateway.RunCampaigns). A meter's refusal is an
// outcome, not a failure of the run.
func pickUpCampaigns(g *gateway.Gateway, src gateway.FirmwareSource, meters []gatewayMeter, stdout io.Writer) error {
	titles := make([]protocol.SystemTitle, 0, len(meters))
	for _, m := range meters {
		t, err := parseTitle(m.Title)
		if err != nil {
			return err
		}
		titles = append(titles, t)
	}
	n, err := g.RunCampaigns(context.Background(), src, titles, func(r gateway.CampaignResult) {
		if r.Installed {
			fmt.Fprintf(stdout, "firmware %x campaign %d: installed\n", r.Meter, r.Campaign)
		} else {
			fmt.Fprintf(stdout, "firmware %x campaign %d: refused: %v\n", r.Meter, r.Campaign, r.Refusal)
		}
	})
	fmt.Fprintf(stdout, "%s: %d firmware outcomes reported to the head-end\n", g.Name(), n)
	if err != nil {
		return fmt.Errorf("firmware campaigns: %w", err)
	}
	return nil
}
