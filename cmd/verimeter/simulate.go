//go:build !device

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	tlacheck "github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
)

// simReport is the JSON object `verimeter check -simulate -json` prints:
// the check report's fields and the simulation's own.
type simReport struct {
	checkReport
	Behaviours int64  `json:"behaviours"`
	Seed       uint64 `json:"seed"`
}

// runSimulate is `verimeter check -simulate`: random behaviours of the
// model, reported as a check run is (result, exit code, counterexample).
func runSimulate(ctx context.Context, spec, config string, opts tlacheck.SimOptions, asJSON bool, traceFormat string, stdout, stderr io.Writer) int {
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	m, err := eval.LoadModel(spec, config)
	var res tlacheck.SimResult
	switch {
	case err != nil:
		res.Verdict, res.Error = tlacheck.EvalError, err.Error()
	case m.ConstantOnly:
		res.Verdict, res.Workers = tlacheck.Success, 1
	case m.HasPostcondition():
		// TLC checks it after its simulation, with the figures of its own
		// random walk; that is not built in.
		err = fmt.Errorf("%w: POSTCONDITION in simulation mode", eval.ErrUnsupported)
		res.Verdict, res.Error = tlacheck.EvalError, err.Error()
	default:
		opts.NoDeadlock = opts.NoDeadlock || m.NoDeadlock
		res, err = tlacheck.Simulate(ctx, m, opts)
		m.ApplyAlias(&res.Result)
		m.LabelTrace(&res.Result)
		if l := m.InitLabel(); l != "" && len(res.Labels) > 0 {
			res.Labels[0] = l // TLC's simulation names the initial predicate
		}
		if err != nil && ctx.Err() != nil && res.Behaviours > 0 && opts.Behaviours == 0 {
			err = nil // interrupted: the normal end of an unbounded simulation
		}
	}
	rep, code := report(res.Result, err)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(simReport{checkReport: rep, Behaviours: res.Behaviours, Seed: opts.Seed}); err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			return exitInternal
		}
		return code
	}
	fmt.Fprintf(stdout, "Running random simulation with seed %d.\n", opts.Seed)
	if code == exitOK {
		fmt.Fprintln(stdout, "Simulation completed. No error has been found.")
	} else {
		printViolation(stdout, rep, res.Result)
	}
	if err := printCounterexample(stdout, spec, res.Result, traceFormat); err != nil {
		fmt.Fprintln(stderr, "verimeter check:", err)
		return exitInternal
	}
	if res.Workers == 0 {
		return code
	}
	fmt.Fprintf(stdout, "%d states generated in %d behaviours, the longest of %d states.\n", res.Generated, res.Behaviours, res.Depth)
	fmt.Fprintf(stdout, "Finished in %.2f s (%.0f states/s).\n", res.Seconds, rate(res.Result))
	return code
}

// writeDump writes the model's state graph to path in DOT, atomically (a
// viewer never reads half a graph).
func writeDump(ctx context.Context, path, spec, config string) error {
	m, err := eval.LoadModel(spec, config)
	if err != nil {
		return err
	}
	if m.ConstantOnly {
		return fmt.Errorf("a constant-only model has no state graph")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dump-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tlacheck.Dump(ctx, m, tmp, tlacheck.DumpOptions{}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
