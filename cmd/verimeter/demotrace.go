//go:build !device

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/verimeter/verimeter/spec"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// specTraceGroups are the spec modules the running roles log steps of, by
// the directory their logs go to under -spec-trace (one subdirectory per
// meter), with the model trace validation uses (spec/trace/).
var specTraceGroups = []struct{ dir, module, cfg string }{
	{"commands", "Commands.tla", "trace/Commands.cfg"},
}

// traceCheckResult sums a validation of a run's traces.
type traceCheckResult struct {
	Groups, Logs, Steps int
}

// validateSpecTraces checks every group of logs under dir (one per meter:
// dir/commands/<meter>/*.ndjson) against the spec it comes from, with the
// spec as this binary was built (spec.FS). Every role logs its steps, so
// no hidden step is allowed. The first group no behaviour explains is the
// error (a *tracecheck.Unexplained or *tracecheck.ParseError).
func validateSpecTraces(dir string) (traceCheckResult, error) {
	var res traceCheckResult
	specDir, err := os.MkdirTemp("", "verimeter-spec-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(specDir)
	if err := os.CopyFS(specDir, spec.FS); err != nil {
		return res, err
	}
	for _, g := range specTraceGroups {
		model, err := tracecheck.Load(filepath.Join(specDir, g.module), filepath.Join(specDir, g.cfg))
		if err != nil {
			return res, err
		}
		groups, err := os.ReadDir(filepath.Join(dir, g.dir))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return res, err
		}
		for _, grp := range groups {
			if !grp.IsDir() {
				continue
			}
			paths, err := fs.Glob(os.DirFS(filepath.Join(dir, g.dir, grp.Name())), "*.ndjson")
			if err != nil {
				return res, err
			}
			sort.Strings(paths)
			var logs [][]tracecheck.Step
			for _, p := range paths {
				steps, err := tracecheck.ReadFile(filepath.Join(dir, g.dir, grp.Name(), p))
				if err != nil {
					return res, err
				}
				logs = append(logs, steps)
			}
			steps, err := tracecheck.Merge(handOver(logs)...)
			if err != nil {
				return res, err
			}
			r, err := model.Check(steps, tracecheck.Options{})
			if err != nil {
				return res, fmt.Errorf("%s/%s: %w", g.dir, grp.Name(), err)
			}
			res.Groups++
			res.Logs += len(paths)
			res.Steps += r.Steps
		}
	}
	return res, nil
}

// handOver maps a meter's change of gateway onto the spec. spec/Commands
// has one gateway per meter; when the operator changes (UC7), a second
// gateway node relays the meter's commands, starting with nothing
// relayed. To the spec that is its one gateway forgetting what it relayed:
// a Restart. So each gateway log that starts no earlier than the previous
// gateway's last step gets the spec's Restart as its first step, at the
// clock of its first logged step (a log's steps keep their order in Merge;
// the check tries every order of steps with one Lamport time, which
// matters here because no logged message carries the meter's time to the
// new gateway). Logs of two gateways that overlap in time get nothing: the
// spec has no behaviour for them, and the check says so.
func handOver(logs [][]tracecheck.Step) [][]tracecheck.Step {
	var gws []int
	for i, l := range logs {
		if len(l) > 0 && l[0].Role == "gateway" {
			gws = append(gws, i)
		}
	}
	sort.Slice(gws, func(a, b int) bool { return logs[gws[a]][0].Clock < logs[gws[b]][0].Clock })
	out := append([][]tracecheck.Step(nil), logs...)
	for k := 1; k < len(gws); k++ {
		prev, next := logs[gws[k-1]], logs[gws[k]]
		if prev[len(prev)-1].Clock > next[0].Clock {
			continue
		}
		first := next[0]
		restart := tracecheck.Step{
			TraceLine: statemachine.TraceLine{Role: first.Role, Node: first.Node, Clock: first.Clock, Action: "Restart",
				Event: json.RawMessage(`{"kind":"restart","c":0}`), State: json.RawMessage(`{"relayed":[]}`)},
			File: first.File, Line: 0,
			Raw: fmt.Sprintf("(hand-over from %s to %s: the spec's gateway restarts with nothing relayed)", prev[0].Node, first.Node),
		}
		out[gws[k]] = append([]tracecheck.Step{restart}, next...)
	}
	return out
}
