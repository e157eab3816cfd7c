//go:build !device

package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verimeter/verimeter/headend"
)

func init() {
	register(command{name: "campaign", summary: "campaign show -config FILE -id N: a firmware campaign's progress and each meter's outcome, from the head-end's database", run: runCampaign})
}

func runCampaign(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "show" {
		fmt.Fprintln(stderr, "usage: verimeter campaign show -config headend.json -id N")
		return 2
	}
	fs := flag.NewFlagSet("campaign show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "head-end configuration (JSON, from verimeter provision): the database to read")
	id := fs.Uint("id", 0, "the campaign's id")
	setUsage(fs, stderr, "usage: verimeter campaign show -config headend.json -id N")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() != 0 || *id > 1<<32-1 {
		fmt.Fprintln(stderr, "verimeter campaign show: -config FILE is required, -id below 2^32, and nothing else")
		fs.Usage()
		return 2
	}
	if err := campaignShow(*cfgPath, uint32(*id), stdout); err != nil {
		fmt.Fprintf(stderr, "verimeter campaign: %v\n", err)
		return 1
	}
	return 0
}

// campaignShow prints a campaign as the head-end's database holds it: one
// summary line, then one line per meter in rollout order.
func campaignShow(path string, id uint32, stdout io.Writer) (err error) {
	var f headendFile
	if err := readJSON(path, &f); err != nil {
		return err
	}
	store, err := openHeadendStore(f)
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := store.Campaign(id)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, c)
	fmt.Fprint(stdout, campaignDetails(c))
	for _, m := range c.Meters {
		outcome, at := m.Outcome, ""
		if outcome == "" {
			outcome = "pending"
		}
		if !m.Reported.IsZero() {
			at = " at " + m.Reported.Format(time.RFC3339) + " via " + m.Gateway
		}
		detail := ""
		if m.Detail != "" {
			detail = ": " + m.Detail
		}
		fmt.Fprintf(stdout, "  %x stage %d %s%s%s\n", m.Meter, m.Stage+1, outcome, at, detail)
	}
	return nil
}

// campaignDetails is what an auditor checks of a campaign besides its
// progress: who approved it, which manifest and image (sizes and SHA-256),
// the stages and the failure limit, and why it stopped.
func campaignDetails(c *headend.Campaign) string {
	var b strings.Builder
	stage := "done"
	if c.Stage < len(c.Stages) {
		stage = fmt.Sprintf("stage %d under way", c.Stage+1)
	}
	fmt.Fprintf(&b, "  id %d, state %s, %s; stages at %v of the meters, stops when more than %.0f %% of a stage fail\n", c.ID, c.State, stage, c.Stages, 100*c.MaxFailureRate)
	fmt.Fprintf(&b, "  approved by %s and %s\n", c.FirstApprover, c.SecondApprover)
	fmt.Fprintf(&b, "  manifest %d bytes SHA-256 %x, image %d bytes SHA-256 %x\n", len(c.Manifest), sha256.Sum256(c.Manifest), len(c.Image), sha256.Sum256(c.Image))
	installed, failed := c.Outcome()
	fmt.Fprintf(&b, "  %d of %d meters not reported yet\n", len(c.Meters)-installed-failed, len(c.Meters))
	if c.Stopped {
		fmt.Fprintf(&b, "  stopped: %s\n", c.Reason)
	}
	return b.String()
}
