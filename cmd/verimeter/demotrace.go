//go:build !device

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/spec"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// specTraceGroups are the spec modules the running roles log steps of, by
// the directory their logs go to under -spec-trace (one subdirectory per
// meter), with the model trace validation uses (spec/trace/) and the hidden
// steps it allows before each logged one. In Commands and Channel every
// role logs, so none (Channel's model, RolesView, leaves out the
// attacker). In Collection every role logs and the model's RolesView
// delivers what was sent in one step, so one: the WAN's DeliverAll before
// the head-end's Ingest. In Firmware only the meter acts, so none. In
// Tamper every role logs (meter, gateway, head-end), so none. In Market
// only the head-end acts (one log per meter and supplier switch), so none.
var specTraceGroups = []struct {
	dir, module, cfg string
	who              string // the roles that log, as the report names them
	maxHidden        int
	mapLogs          func([][]tracecheck.Step) ([][]tracecheck.Step, error) // the mapping of the logs onto the spec, if any
}{
	{"commands", "Commands.tla", "trace/Commands.cfg", "roles'", 0, handOverMap},
	{"channel", "Channel.tla", "trace/Channel.cfg", "roles'", 0, plaintextOfReceive},
	{"collection", "Collection.tla", "trace/Collection.cfg", "roles'", 1, nil},
	{"firmware", "Firmware.tla", "trace/Firmware.cfg", "meters'", 0, nil},
	{"tamper", "Tamper.tla", "trace/Tamper.cfg", "roles'", 0, nil},
	{"market", "Market.tla", "trace/Market.cfg", "head-end's", 0, nil},
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
	return validateSpecTracesWith(dir, nil)
}

// validateSpecTracesWith is validateSpecTraces with some modules' trace
// models replaced: cfgs maps a specTraceGroups .cfg path (e.g.
// "trace/Firmware.cfg") to the text to check with instead, for a run whose
// bounds exceed the default ones (a campaign offering more firmware
// versions than the demo). A larger .cfg is the remedy the tracecheck
// package names for a run longer than the model allows.
func validateSpecTracesWith(dir string, cfgs map[string]string) (traceCheckResults, error) {
	var rs traceCheckResults
	specDir, err := os.MkdirTemp("", "verimeter-spec-")
	if err != nil {
		return rs, err
	}
	defer os.RemoveAll(specDir)
	if err := os.CopyFS(specDir, spec.FS); err != nil {
		return rs, err
	}
	for name, text := range cfgs {
		p := filepath.Join(specDir, filepath.FromSlash(name))
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return rs, err
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return rs, err
		}
	}
	var first error
	for _, g := range specTraceGroups {
		r := validateModule(dir, specDir, g.dir, g.module, g.cfg, g.maxHidden, g.mapLogs)
		r.Who = g.who
		rs = append(rs, r)
		if first == nil {
			first = r.Err
		}
	}
	return rs, first
}

// validateModule checks the groups of one module (see validateSpecTraces),
// on as many workers as the machine has cores, each with its own model: a
// group is checked on its own, so 10,000 meters cost 10,000 checks of one
// meter's logs, in parallel.
func validateModule(dir, specDir, sub, module, cfg string, maxHidden int, mapLogs func([][]tracecheck.Step) ([][]tracecheck.Step, error)) traceCheckResult {
	res := traceCheckResult{Module: strings.TrimSuffix(module, ".tla")}
	groups, err := os.ReadDir(filepath.Join(dir, sub))
	if os.IsNotExist(err) {
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	var names []string
	for _, g := range groups {
		if g.IsDir() {
			names = append(names, g.Name())
		}
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(names)))
	type groupResult struct {
		logs, steps int
		err         error
	}
	out := make([]groupResult, len(names))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	loadErr := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			model, err := tracecheck.Load(filepath.Join(specDir, module), filepath.Join(specDir, cfg))
			if err != nil {
				loadErr[w] = err
				failed.Store(true)
				return
			}
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				out[i].logs, out[i].steps, out[i].err = validateGroup(model, filepath.Join(dir, sub, names[i]), sub+"/"+names[i], maxHidden, mapLogs)
				if out[i].err != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range loadErr {
		if err != nil {
			res.Err = err
			return res
		}
	}
	// Figures of the groups before the first that failed, in name order,
	// as a sequential check reports them (workers take groups in order, so
	// every group before a failed one was checked).
	for _, r := range out {
		if r.err != nil {
			res.Err = r.err
			return res
		}
		res.Groups++
		res.Logs += r.logs
		res.Steps += r.steps
	}
	return res
}

// validateGroup checks the logs of one meter (dir/*.ndjson) against model
// and returns how many logs and steps it explained.
func validateGroup(model *tracecheck.Model, dir, name string, maxHidden int, mapLogs func([][]tracecheck.Step) ([][]tracecheck.Step, error)) (int, int, error) {
	paths, err := fs.Glob(os.DirFS(dir), "*.ndjson")
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(paths)
	var logs [][]tracecheck.Step
	for _, p := range paths {
		steps, err := tracecheck.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return 0, 0, err
		}
		logs = append(logs, steps)
	}
	if mapLogs != nil {
		if logs, err = mapLogs(logs); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
	}
	steps, err := tracecheck.Merge(logs...)
	if err != nil {
		return 0, 0, err
	}
	r, err := model.Check(steps, tracecheck.Options{MaxHidden: maxHidden})
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", name, err)
	}
	return len(paths), r.Steps, nil
}

// plaintextOfReceive maps the gateway's Receive steps of spec/Channel.tla
// onto the spec. The spec's APDU names its plaintext (r, the meter's
// count of seals), which tells the spec's messages apart; the gateway
// cannot read it (it is the meter's count), so it logs r = 0. The spec's
// Receive(m) takes an m of net: the mapping gives each logged Receive of
// key k and counter c the r of the meter's Seal of (k, c) in the meter's
// log (its state after the Seal: mkey = k, next = c + 1, sent = r). A
// Receive of a (key, counter) the meter's log never sealed keeps r = 0 and
// no behaviour explains it.
func plaintextOfReceive(logs [][]tracecheck.Step) ([][]tracecheck.Step, error) {
	type kc struct{ k, c int64 }
	sealed := map[kc]int64{}
	for _, l := range logs {
		for _, s := range l {
			if s.Role != "meter" || s.Action != "Seal" {
				continue
			}
			var st struct{ Mkey, Next, Sent int64 }
			if err := json.Unmarshal(s.State, &st); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Where(), err)
			}
			if _, dup := sealed[kc{st.Mkey, st.Next - 1}]; !dup {
				// The first Seal of (k, c): a second one (a nonce reused,
				// or a log edited) is the meter's step the check rejects.
				sealed[kc{st.Mkey, st.Next - 1}] = st.Sent
			}
		}
	}
	out := make([][]tracecheck.Step, len(logs))
	for i, l := range logs {
		out[i] = l
		if len(l) == 0 || l[0].Role != "gateway" {
			continue
		}
		out[i] = make([]tracecheck.Step, len(l))
		for j, s := range l {
			out[i][j] = s
			if s.Action != "Receive" {
				continue
			}
			var ev struct {
				Kind string `json:"kind"`
				M    struct {
					K    int64 `json:"k"`
					C    int64 `json:"c"`
					R    int64 `json:"r"`
					Auth bool  `json:"auth"`
				} `json:"m"`
			}
			if err := json.Unmarshal(s.Event, &ev); err != nil {
				continue // the check reports a line that does not fit the spec
			}
			if r, ok := sealed[kc{ev.M.K, ev.M.C}]; ok && ev.M.R == 0 {
				ev.M.R = r
				b, err := json.Marshal(ev)
				if err != nil {
					return nil, err
				}
				out[i][j].Event = b
			}
		}
	}
	return out, nil
}

// handOverMap is handOver as a mapping of specTraceGroups.
func handOverMap(logs [][]tracecheck.Step) ([][]tracecheck.Step, error) { return handOver(logs), nil }

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
