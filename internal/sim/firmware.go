package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
)

func (w *world) firmware(rep *Report) error {
	lr := []byte(strings.Repeat("VM-E3 legally relevant code v5 ", 33))
	other := []byte(strings.Repeat("VM-E3 communication stack v5 ", 35))
	image := append(append([]byte(nil), lr...), other...)
	m := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: w.now.Unix()}
	bad, err := protocol.SignManifest(m, rand.Reader, w.man) // no authority signature
	if err != nil {
		return err
	}
	good, err := protocol.SignManifest(m, rand.Reader, w.man, w.auth)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// One meter's self-test fails (selfTestOf): it must roll back.
	victim := w.meters[len(w.meters)/2]
	attempts := map[*meterNode]int{}
	titles := make([]protocol.SystemTitle, len(w.meters))
	byTitle := map[protocol.SystemTitle]*meterNode{}
	for i, n := range w.meters {
		titles[i] = n.cfg.Title
		byTitle[n.cfg.Title] = n
	}
	// Each gateway picks its meters' work up from the head-end and reports
	// every outcome, round after round, until no round brings more: the
	// head-end judges each stage as its last meter reports and offers the
	// next stage, or stops the campaign.
	run := func(id uint32) (c *headend.Campaign, reached int, err error) {
		for {
			round := 0
			for _, gw := range w.gws {
				var mine []protocol.SystemTitle
				for _, n := range w.meters {
					if n.gw == gw {
						mine = append(mine, n.cfg.Title)
					}
				}
				k, err := gw.g.RunCampaigns(ctx, w.he, mine, func(r gateway.CampaignResult) {
					if r.Campaign == id {
						attempts[byTitle[r.Meter]]++
						reached++
						w.progress(reached, len(w.meters), fmt.Sprintf("firmware campaign %d", id))
					}
				})
				if err != nil {
					return nil, reached, err
				}
				round += k
			}
			if round == 0 {
				break
			}
		}
		c, err = w.store.Campaign(id)
		return c, reached, err
	}
	f := &rep.Fig
	f.CampaignsRefused = map[string]int{}
	var air time.Duration
	for _, g := range w.gws {
		air -= g.seg.Medium().TotalAirtime()
	}
	// Operator alice requests each campaign and operator bob approves it
	// through the operator API.
	if err := w.alice.requestCampaign(ctx, 1, bad, image, titles); err != nil {
		return err
	}
	if err := w.bob.approveCampaign(ctx, 1); err != nil {
		return err
	}
	c1, reached1, err := run(1)
	if err != nil {
		return err
	}
	_, f1 := c1.Outcome()
	f.Stage1Reached, f.Stage1Refused = reached1, f1
	rep.add(StepFirmware, "campaign without the metrology authority's signature", c1.Stopped && f1 == reached1 && reached1 > 0,
		fmt.Sprintf("refused by %d of %d meters of stage 1; campaign %s", f1, reached1, map[bool]string{true: "stopped", false: "not stopped"}[c1.Stopped]),
		"every meter reached refuses, campaign stops", "")
	if err := w.alice.requestCampaign(ctx, 2, good, image, titles); err != nil {
		return err
	}
	// The requester's own approval is refused (403, the head-end's
	// ErrApproval named in the answer).
	oneErr := w.alice.approveCampaign(ctx, 2)
	tally(f.CampaignsRefused, oneErr, headend.ErrApproval)
	rep.add(StepFirmware, "campaign approved by one person", errors.Is(oneErr, &APIError{Status: http.StatusForbidden}) && errors.Is(oneErr, headend.ErrApproval),
		fmt.Sprintf("refused: %s", Classes(f.CampaignsRefused)), "refused, second approver missing", "")
	if err := w.bob.approveCampaign(ctx, 2); err != nil {
		return err
	}
	c2, _, err := run(2)
	if err != nil {
		return err
	}
	inst, fail := c2.Outcome()
	v5, v4 := 0, 0
	for _, n := range w.meters {
		switch n.m.Status().Version {
		case 5:
			v5++
		case 4:
			v4++
		}
		for _, e := range n.m.Status().Logbook {
			if e.Event == "rolled back" {
				f.RolledBack++
			}
		}
	}
	f.Installed, f.SelfTestFailed = inst, fail
	rep.add(StepFirmware, "dual-signed v5 in stages of 5, 25, 100 %", v5 == len(w.meters)-1 && inst == v5,
		fmt.Sprintf("%d of %d meters on v5, %d failed its self-test", inst, len(w.meters), fail),
		fmt.Sprintf("all but the meter whose self-test fails (%d)", len(w.meters)-1), "")
	rep.add(StepFirmware, "forced self-test failure rolled back", f.RolledBack == 1 && victim.m.Status().Version == 4 && v4 == 1,
		fmt.Sprintf("%s; meter %x on v%d", plural(f.RolledBack, "rollback"), victim.cfg.Title, victim.m.Status().Version), "1 rollback, back on v4", "")
	logOK := true
	var missing []string
	for _, n := range w.meters {
		e := len(n.m.Status().Logbook)
		f.LogbookEntries += e
		f.FirmwareAttempts += attempts[n]
		if e != attempts[n] {
			logOK = false
			missing = append(missing, fmt.Sprintf("meter %x: %d entries for %d attempts", n.cfg.Title, e, attempts[n]))
		}
	}
	rep.add(StepFirmware, "WELMEC 7.2 logbook entry for every attempt", logOK,
		fmt.Sprintf("%d entries for %d attempts", f.LogbookEntries, f.FirmwareAttempts), "one per attempt, every meter", strings.Join(missing, "\n"))
	for _, g := range w.gws {
		air += g.seg.Medium().TotalAirtime()
	}
	rep.Info = append(rep.Info, fmt.Sprintf("firmware: a %d-byte image, %.0f s of PLC airtime over %s for both campaigns",
		len(image), air.Seconds(), plural(len(w.gws), "segment")))
	return nil
}
