//go:build !device

package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/verimeter/verimeter/internal/sim"
)

func init() {
	register(command{name: "demo", summary: "the whole system in one process: meters, gateways on simulated PLC, head-end, market, attacker; prints a report", run: runDemo})
}

// demoUsage is the demo's synopsis; TestUsageMatchesFlags keeps it in
// step with the flags.
const demoUsage = "usage: verimeter demo [-processes] [-meters N] [-gateways N] [-days N] [-seed N] [-db FILE] [-trace FILE] [-spec-trace DIR] [-export DIR] [-report-dir DIR]"

func demoFlags(cfg *sim.Config, stderr io.Writer) (*flag.FlagSet, *string, *bool) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, demoUsage)
		fs.PrintDefaults()
	}
	procs := fs.Bool("processes", false, "play the ten use cases with real processes (headend serve, meter run, gateway run) over sockets and TLS, every operator action through the operator API; default 4 meters and 2 gateways; -db postgres://... runs two head-ends on it and kills the first midway")
	fs.IntVar(&cfg.Meters, "meters", 200, "number of meters (at least 1)")
	fs.IntVar(&cfg.Gateways, "gateways", 4, "number of gateways, one PLC segment each (1 to -meters)")
	fs.IntVar(&cfg.Days, "days", 1, "days of 15-minute readings (at least 1)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of consumption, medium and attacker")
	fs.StringVar(&cfg.DB, "db", "", "head-end database: a SQLite file, or postgres://... for an empty PostgreSQL database (default: a temporary SQLite file)")
	trace := fs.String("trace", "", "write an NDJSON trace of every APDU on the medium to this file")
	fs.StringVar(&cfg.SpecTrace, "spec-trace", "", "keep the logs of the roles' steps (which the demo validates against the spec) in this directory, for verimeter trace-check")
	fs.StringVar(&cfg.Export, "export", "", "write a sample of signed readings and interval proofs, with the root and certificates, to this directory (for verimeter verify)")
	fs.StringVar(&cfg.ReportDir, "report-dir", "", "write the detail of each failing check to a file in this directory (default: a new temporary directory, named in the report)")
	return fs, trace, procs
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	var cfg sim.Config
	fs, trace, procs := demoFlags(&cfg, stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "verimeter demo: unexpected argument %q (the demo takes flags only)\n%s\n", fs.Arg(0), demoUsage)
		return 2
	}
	if *procs {
		return runProcessDemo(fs, cfg, stdout, stderr)
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n%s\n", err, demoUsage)
		return 2
	}
	if need := (cfg.Meters + sim.MaxMetersPerGateway - 1) / sim.MaxMetersPerGateway; cfg.Gateways < need {
		fmt.Fprintf(stderr, "verimeter demo: %d meters need %d gateways (a PLC segment serves at most %d); using %d\n", cfg.Meters, need, sim.MaxMetersPerGateway, need)
		cfg.Gateways = need
	}
	// The progress bar redraws one line with carriage returns: only a
	// terminal shows it as a bar, a log file or a pipe would fill up.
	if isTerminal(stderr) {
		cfg.Progress = stderr
	}
	if *trace != "" {
		f, err := os.Create(*trace)
		if err != nil {
			fmt.Fprintf(stderr, "verimeter demo: -trace: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Trace = f
	}
	rep, err := runScenario(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	if err := rep.WriteDetails(); err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	rep.Write(stdout)
	if !rep.OK() {
		fmt.Fprintf(stderr, "verimeter demo: some checks failed; details in %s\n", rep.Dir)
		return 1
	}
	return 0
}

// runScenario runs the simulated world (internal/sim) with the roles'
// logs validated against the spec as `verimeter trace-check` and the crash
// campaign validate them.
func runScenario(cfg sim.Config) (*sim.Report, error) {
	cfg.ValidateTraces = func(dir string) []sim.TraceResult {
		rs, _ := validateSpecTraces(dir)
		out := make([]sim.TraceResult, len(rs))
		for i, r := range rs {
			out[i] = sim.TraceResult{Module: r.Module, Who: r.Who, Groups: r.Groups, Logs: r.Logs, Steps: r.Steps, Err: r.Err}
		}
		return out
	}
	return sim.Run(cfg)
}

// isTerminal reports whether w is a terminal, where a progress bar that
// redraws itself with carriage returns belongs; a file or a pipe gets no
// bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
