package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/plc"
)

func init() {
	register(command{name: "plc", summary: "power-line tools: capacity (simulated airtime tables)", run: runPLC})
}

func runPLC(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "capacity" {
		fmt.Fprintln(stderr, "usage: verimeter plc capacity [-seed N] [-meters N] [-loss F]")
		return 2
	}
	fs := flag.NewFlagSet("plc capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "simulation seed")
	meters := fs.Int("meters", 0, "simulate one day for this many meters instead of printing the standard tables")
	loss := fs.Float64("loss", 0.05, "frame loss rate with -meters")
	setUsage(fs, stderr, "usage: verimeter plc capacity [-seed N] [-meters N] [-loss F]")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "verimeter plc capacity: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *meters == 0 {
		stdout.Write(plc.CapacityFigures(*seed))
		return 0
	}
	if *meters < 0 || *loss < 0 || *loss >= 1 {
		fmt.Fprintln(stderr, "verimeter plc capacity: -meters must be positive and -loss in [0,1)")
		return 2
	}
	var reps []plc.CapacityReport
	for _, p := range []plc.Profile{plc.SFSK, plc.G3Robust} {
		reps = append(reps, plc.SimulateDay(plc.DefaultTraffic(p, *meters, *loss, *seed)))
	}
	plc.WriteCapacityTable(stdout, reps)
	return 0
}
