//go:build !device

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/verimeter/verimeter/spec"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// specTraceGroups are the spec modules the running roles log steps of, by
// the directory their logs go to under -spec-trace (one subdirectory per
// meter), with the model trace validation uses (spec/trace/) and the hidden
// steps it allows before each logged one. In Commands every role logs, so
// none; in Channel only the meter logs (its machine decides counters,
// reservations and key epochs) and the model's MeterView leaves out the
// steps that touch no meter variable, so one: the gateway's Rekey before the
// meter's Agree. In Collection every role logs and the model's RolesView
// delivers what was sent in one step, so one: the WAN's DeliverAll before
// the head-end's Ingest. In Firmware only the meter acts, so none. In Tamper every role logs
// (meter, gateway, head-end), so none.
var specTraceGroups = []struct {
	dir, module, cfg string
	who              string // the roles that log, as the report names them
	maxHidden        int
	handOver         bool // map a change of gateway onto the spec (handOver)
}{
	{"commands", "Commands.tla", "trace/Commands.cfg", "roles'", 0, true},
	{"channel", "Channel.tla", "trace/Channel.cfg", "meters'", 1, false},
	{"collection", "Collection.tla", "trace/Collection.cfg", "roles'", 1, false},
	{"firmware", "Firmware.tla", "trace/Firmware.cfg", "meters'", 0, false},
	{"tamper", "Tamper.tla", "trace/Tamper.cfg", "roles'", 0, false},
}

// traceCheckResult sums the validation of one module's traces in a run.
type traceCheckResult struct {
	Module              string // e.g. "Commands"
	Who                 string // the roles that log, e.g. "meters'"
	Groups, Logs, Steps int
	Err                 error // the first group no behaviour explains, or why the check could not run
}

// traceCheckResults holds one result per module of specTraceGroups, in
// that order.
type traceCheckResults []traceCheckResult

// total sums the modules' figures.
func (rs traceCheckResults) total() (t traceCheckResult) {
	for _, r := range rs {
		t.Groups, t.Logs, t.Steps = t.Groups+r.Groups, t.Logs+r.Logs, t.Steps+r.Steps
	}
	return t
}

// module returns the result of the named module (zero if not checked).
func (rs traceCheckResults) module(name string) traceCheckResult {
	for _, r := range rs {
		if r.Module == name {
			return r
		}
	}
	return traceCheckResult{Module: name}
}

// validateSpecTraces checks every group of logs under dir (one per meter
// and module: dir/commands/<meter>/*.ndjson, dir/channel/<meter>/*.ndjson)
// against the spec module it comes from, with the spec as this binary was
// built (spec.FS). Each module is checked on its own; the returned error is
// the first module's failure (a *tracecheck.Unexplained or
// *tracecheck.ParseError naming the group), and every module's figures and
// error are in the results.
func validateSpecTraces(dir string) (traceCheckResults, error) {
	var rs traceCheckResults
	specDir, err := os.MkdirTemp("", "verimeter-spec-")
	if err != nil {
		return rs, err
	}
	defer os.RemoveAll(specDir)
	if err := os.CopyFS(specDir, spec.FS); err != nil {
		return rs, err
	}
	var first error
	for _, g := range specTraceGroups {
		r := validateModule(dir, specDir, g.dir, g.module, g.cfg, g.maxHidden, g.handOver)
		r.Who = g.who
		rs = append(rs, r)
		if first == nil {
			first = r.Err
		}
	}
	return rs, first
}

// validateModule checks the groups of one module (see validateSpecTraces).
func validateModule(dir, specDir, sub, module, cfg string, maxHidden int, mapHandOver bool) traceCheckResult {
	res := traceCheckResult{Module: strings.TrimSuffix(module, ".tla")}
	model, err := tracecheck.Load(filepath.Join(specDir, module), filepath.Join(specDir, cfg))
	if err != nil {
		res.Err = err
		return res
	}
	groups, err := os.ReadDir(filepath.Join(dir, sub))
	if os.IsNotExist(err) {
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	for _, grp := range groups {
		if !grp.IsDir() {
			continue
		}
		paths, err := fs.Glob(os.DirFS(filepath.Join(dir, sub, grp.Name())), "*.ndjson")
		if err != nil {
			res.Err = err
			return res
		}
		sort.Strings(paths)
		var logs [][]tracecheck.Step
		for _, p := range paths {
			steps, err := tracecheck.ReadFile(filepath.Join(dir, sub, grp.Name(), p))
			if err != nil {
				res.Err = err
				return res
			}
			logs = append(logs, steps)
		}
		if mapHandOver {
			logs = handOver(logs)
		}
		steps, err := tracecheck.Merge(logs...)
		if err != nil {
			res.Err = err
			return res
		}
		r, err := model.Check(steps, tracecheck.Options{MaxHidden: maxHidden})
		if err != nil {
			res.Err = fmt.Errorf("%s/%s: %w", sub, grp.Name(), err)
			return res
		}
		res.Groups++
		res.Logs += len(paths)
		res.Steps += r.Steps
	}
	return res
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
