//go:build !device

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/internal/sim/procs"
)

// runProcessDemo is `verimeter demo -processes`: the flags it takes are
// -meters, -gateways and -db (empty, or a PostgreSQL URL); the others
// belong to the simulated world and are refused. The deployment is
// provisioned in a new temporary directory, removed when every check held
// and kept (and named) otherwise.
func runProcessDemo(fs *flag.FlagSet, cfg sim.Config, stdout, stderr io.Writer) int {
	d := procs.UseCases{Meters: 4, Gateways: 2, Log: stderr, Traces: traceSteps}
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "processes":
		case "meters":
			d.Meters = cfg.Meters
		case "gateways":
			d.Gateways = cfg.Gateways
		case "db":
			d.Postgres = cfg.DB
		default:
			bad = append(bad, "-"+f.Name)
		}
	})
	switch {
	case len(bad) > 0:
		fmt.Fprintf(stderr, "verimeter demo: %s: not with -processes (it takes -meters, -gateways and -db postgres://...)\n%s\n", strings.Join(bad, ", "), demoUsage)
		return 2
	case d.Postgres != "" && !strings.HasPrefix(d.Postgres, "postgres://") && !strings.HasPrefix(d.Postgres, "postgresql://"):
		fmt.Fprintf(stderr, "verimeter demo: -db with -processes is a PostgreSQL URL (postgres://...): the head-ends' SQLite file lives in the deployment\n%s\n", demoUsage)
		return 2
	case d.Meters < 2 || d.Gateways < 1 || d.Gateways > d.Meters:
		fmt.Fprintf(stderr, "verimeter demo: -processes needs -meters of at least 2 and 1 to -meters gateways\n%s\n", demoUsage)
		return 2
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	// Short: Unix socket paths are limited to 108 bytes.
	if d.Dir, err = os.MkdirTemp("", "vmd"); err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	d.Bin = bin
	rep, err := d.Run()
	rep.Write(stdout)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "verimeter demo: %v (the deployment is kept in %s, each process's output under logs/)\n", err, d.Dir)
		return 1
	case !rep.OK():
		fmt.Fprintf(stderr, "verimeter demo: some checks failed; the deployment is kept in %s, each process's output under logs/\n", d.Dir)
		return 1
	}
	os.RemoveAll(d.Dir)
	return 0
}

// traceSteps is the process demo's trace checker: every module's logs in
// dir judged against the spec (validateSpecTraces), the steps explained per
// module.
func traceSteps(dir string) (map[string]int, error) {
	rs, err := validateSpecTraces(dir)
	steps := map[string]int{}
	for _, r := range rs {
		steps[r.Module] += r.Steps
	}
	return steps, err
}

// makeFirmware writes campaign's firmware for model at version (see
// procs.Firmware) to fw-CAMPAIGN.json in dir, the file `gateway run
// -firmware` reads.
func makeFirmware(dir string, campaign, version uint32, model string) (firmwareFile, error) {
	manifest, image, err := procs.Firmware(dir, version, model)
	if err != nil {
		return firmwareFile{}, err
	}
	f := firmwareFile{Campaign: campaign, Manifest: manifest, Image: image}
	return f, writeJSON(filepath.Join(dir, fmt.Sprintf("fw-%d.json", campaign)), f)
}
