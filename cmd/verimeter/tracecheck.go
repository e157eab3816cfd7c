//go:build !device

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// Exit codes of verimeter trace-check beyond exitOK, exitInternal (1: a log
// or the spec cannot be read or parsed, or the search hit its state cap) and
// exitBadInput (2: usage).
const exitUnexplained = 10

func init() {
	register(command{name: "trace-check", summary: "validate the roles' NDJSON traces against a TLA+ specification", run: runTraceCheck})
}

// runTraceCheck merges the logs of several role instances in Lamport order
// and searches the spec for a behaviour that explains them
// (statemachine/tracecheck); the first step none explains is reported with
// the states that explain the steps before it.
func runTraceCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trace-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("spec", "", "the TLA+ module the roles' machines are generated from (required)")
	config := fs.String("config", "", "model configuration (default: the .cfg beside the spec)")
	hidden := fs.Int("max-hidden", tracecheck.DefaultMaxHidden, "unlogged steps (attacker, network, roles without a log) allowed before each logged step")
	maxStates := fs.Int("max-states", tracecheck.DefaultMaxStates, "cap on the candidate states kept at once")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter trace-check -spec SPEC.tla [-config F.cfg] [-max-hidden K] [-max-states N] LOG.ndjson...")
		fmt.Fprintln(stderr, "exit: 0 explained, 10 a step no behaviour of the spec explains, 1 unreadable or malformed log or spec, or state cap reached, 2 usage")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return exitBadInput
	}
	if *spec == "" || fs.NArg() == 0 || *hidden < 0 || *maxStates < 1 {
		fs.Usage()
		return exitBadInput
	}
	model, err := tracecheck.Load(*spec, *config)
	if err != nil {
		fmt.Fprintf(stderr, "trace-check: %v\n", err)
		return exitInternal
	}
	var logs [][]tracecheck.Step
	for _, path := range fs.Args() {
		steps, err := tracecheck.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "trace-check: %v\n", err)
			return exitInternal
		}
		logs = append(logs, steps)
	}
	// The mapping of the module's logs onto the spec, as the demo applies
	// it (specTraceGroups).
	for _, g := range specTraceGroups {
		if g.module == model.Module+".tla" && g.mapLogs != nil {
			if logs, err = g.mapLogs(logs); err != nil {
				fmt.Fprintf(stderr, "trace-check: %v\n", err)
				return exitInternal
			}
		}
	}
	steps, err := tracecheck.Merge(logs...)
	if err != nil {
		fmt.Fprintf(stderr, "trace-check: %v\n", err)
		return exitInternal
	}
	res, err := model.Check(steps, tracecheck.Options{MaxHidden: *hidden, MaxStates: *maxStates})
	var u *tracecheck.Unexplained
	switch {
	case errors.As(err, &u):
		fmt.Fprintf(stdout, "%v\n", u)
		return exitUnexplained
	case err != nil:
		fmt.Fprintf(stderr, "trace-check: %v\n", err)
		return exitInternal
	}
	fmt.Fprintf(stdout, "%v (%d nodes)\n", res, res.Nodes)
	return exitOK
}
