//go:build !device

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	tlacheck "github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/itf"
	"github.com/verimeter/verimeter/tla/msc"
	tlavalue "github.com/verimeter/verimeter/tla/value"
)

// Exit codes of verimeter check, fixed so that scripts and CI can tell a
// property violation from a broken spec.
const (
	exitOK          = 0
	exitInternal    = 1
	exitBadInput    = 2
	exitAssumption  = 10
	exitDeadlock    = 11
	exitSafety      = 12
	exitLiveness    = 13
	exitUncovered   = 14
	resultSuccess   = "success"
	resultSafety    = "safety failure"
	resultDeadlock  = "deadlock failure"
	resultLiveness  = "liveness failure"
	resultAssume    = "assumption failure"
	resultUncovered = "coverage failure"
	resultError     = "error"
	traceFormatText = "text"
	traceFormatMSC  = "msc"
)

func init() {
	register(command{name: "check", summary: "model-check a TLA+ specification (safety, deadlock) as TLC does", run: runCheck})
}

// checkReport is the JSON object `verimeter check -json` prints: the
// fields TLC users look for, with the counterexample.
type checkReport struct {
	Result    string  `json:"result"`
	Distinct  int64   `json:"distinct_states"`
	Generated int64   `json:"states_generated"`
	Depth     int     `json:"depth"`
	Seconds   float64 `json:"seconds"`
	Workers   int     `json:"workers"`
	Queue     int64   `json:"states_left_on_queue"`
	Error     string  `json:"error,omitempty"`
	// CollisionCalculated and CollisionObserved are TLC's two estimates of
	// the probability that a fingerprint collision merged two states.
	CollisionCalculated float64 `json:"collision_calculated,omitempty"`
	CollisionObserved   float64 `json:"collision_observed,omitempty"`
	// Checkpoints counts the checkpoints written (-checkpoint); Recovered
	// tells that the run resumed from one (-recover).
	Checkpoints int        `json:"checkpoints,omitempty"`
	Recovered   bool       `json:"recovered,omitempty"`
	Violation   *violation `json:"violation,omitempty"`
	// Coverage is each action's counts (-coverage); Uncovered the actions
	// never enabled or adding no state that the model does not excuse, and
	// StaleExcuses the model's excuses for actions that are covered or
	// absent (-coverage-strict fails on either).
	Coverage     []tlacheck.ActionCoverage `json:"coverage,omitempty"`
	Uncovered    []string                  `json:"uncovered,omitempty"`
	StaleExcuses []string                  `json:"stale_excuses,omitempty"`
}

// violation is what was violated and the shortest behaviour that shows it.
type violation struct {
	Kind     string      `json:"kind"` // invariant, deadlock, liveness, error
	Property string      `json:"property,omitempty"`
	Trace    []traceStep `json:"trace"`
	// BackTo is, for a liveness violation, the 1-based number of the state
	// the trace's cycle returns to after its last state.
	BackTo int `json:"back_to_state,omitempty"`
	// BackToAction names the action of that last step of the cycle.
	BackToAction string `json:"back_to_action,omitempty"`
}

type traceStep struct {
	Action string            `json:"action"`
	State  map[string]string `json:"state"`
	// Alias is the state as the model's ALIAS shows it (TLC's trace).
	Alias map[string]string `json:"alias,omitempty"`
	// Label is the action as TLC's trace names it: with its arguments
	// and where it is written.
	Label string `json:"label,omitempty"`
}

// classify maps a run's outcome to the result string and exit code of the
// check command.
func classify(res tlacheck.Result, err error) (string, int) {
	switch {
	case errors.Is(err, eval.ErrAssumption):
		return resultAssume, exitAssumption
	case errors.Is(err, tlacheck.ErrCollision), res.Verdict == tlacheck.Canceled:
		return resultError, exitInternal
	case err != nil && res.Verdict != tlacheck.EvalError:
		return resultError, exitInternal // a fault of the checker itself
	case err != nil:
		// Syntax, unknown names, unsupported constructs, missing files and
		// evaluation errors (1 = "a", overflow) are the spec's fault, as
		// TLC reports them.
		return resultError, exitBadInput
	}
	switch res.Verdict {
	case tlacheck.Success:
		return resultSuccess, exitOK
	case tlacheck.InvariantViolated:
		return resultSafety, exitSafety
	case tlacheck.Deadlocked:
		return resultDeadlock, exitDeadlock
	}
	if strings.Contains(string(res.Verdict), "liveness") {
		return resultLiveness, exitLiveness
	}
	return resultError, exitInternal
}

func report(res tlacheck.Result, err error) (checkReport, int) {
	result, code := classify(res, err)
	r := checkReport{Result: result, Distinct: res.Distinct, Generated: res.Generated, Depth: res.Depth,
		Seconds: res.Seconds, Workers: res.Workers, Queue: res.Queue, Error: res.Error,
		CollisionCalculated: res.CollisionCalculated, CollisionObserved: res.CollisionObserved,
		Checkpoints: res.Checkpoints, Recovered: res.Recovered}
	if code == exitOK || len(res.Trace) == 0 && code != exitSafety && code != exitDeadlock {
		return r, code
	}
	v := &violation{Property: res.Invariant}
	if v.Property == "" {
		v.Property = res.Property
	}
	switch res.Verdict {
	case tlacheck.InvariantViolated:
		v.Kind = "invariant"
	case tlacheck.Deadlocked:
		v.Kind = "deadlock"
	case tlacheck.EvalError:
		v.Kind = "error"
	default:
		v.Kind = string(res.Verdict)
	}
	for i, st := range res.Trace {
		step := traceStep{Action: st.Action, State: textMap(res.Variables, st.State)}
		if i < len(res.Shown) {
			step.Alias = textMap(res.Shown[i].Names, res.Shown[i].Values)
		}
		if i < len(res.Labels) && res.Labels[i] != st.Action {
			step.Label = res.Labels[i]
		}
		v.Trace = append(v.Trace, step)
	}
	if res.Verdict == tlacheck.LivenessViolated {
		v.BackTo, v.BackToAction = res.CycleStart+1, res.CycleAction
	}
	r.Violation = v
	return r, code
}

// textMap maps each name to its value's text (TLC's format).
func textMap(names []string, vals []tlavalue.Value) map[string]string {
	m := make(map[string]string, len(vals))
	for i, val := range vals {
		if i < len(names) {
			m[names[i]] = val.String()
		}
	}
	return m
}

// printViolation writes TLC's line for a run that found an error.
func printViolation(w io.Writer, rep checkReport, res tlacheck.Result) {
	switch {
	case initViolation(res):
		fmt.Fprintf(w, "Error: Invariant %s is violated by the initial state:\n", res.Invariant)
	case rep.Result == resultSafety && res.Invariant == "":
		fmt.Fprintf(w, "Error: Action property %s is violated.\n", res.Property)
	case rep.Result == resultSafety:
		fmt.Fprintf(w, "Error: Invariant %s is violated.\n", res.Invariant)
	case rep.Result == resultDeadlock:
		fmt.Fprintln(w, "Error: Deadlock reached.")
	case rep.Result == resultLiveness:
		fmt.Fprintf(w, "Error: Temporal property %s was violated.\n", res.Property)
	default:
		fmt.Fprintf(w, "Error: %s\n", rep.Error)
	}
}

// printCounterexample writes res's trace, if any, in the chosen format:
// TLC's text or a message sequence chart.
func printCounterexample(w io.Writer, spec string, res tlacheck.Result, format string) error {
	if len(res.Trace) == 0 {
		return nil
	}
	if format == traceFormatMSC {
		return writeMSC(w, spec, res)
	}
	if initViolation(res) {
		writeState(w, shownState(res, 0)) // TLC prints the state alone
		fmt.Fprintln(w)
		return nil
	}
	if res.Verdict == tlacheck.LivenessViolated {
		fmt.Fprint(w, "\nError: The following behavior constitutes a counter-example:\n\n")
	} else {
		fmt.Fprintln(w, "Error: The behavior up to this point is:")
	}
	printTrace(w, res)
	return nil
}

// printTrace writes the counterexample as TLC does: State N: <action>
// followed by the state's lines (through the model's ALIAS, if any); a
// liveness counterexample ends with TLC's "State N: Stuttering" or "Back
// to state N: <action>".
func printTrace(w io.Writer, res tlacheck.Result) {
	live := res.Verdict == tlacheck.LivenessViolated
	for i, st := range res.Trace {
		if live && i == len(res.Trace)-1 && st.Action == tlacheck.StutteringAction {
			fmt.Fprintf(w, "State %d: Stuttering\n", i+1)
			return
		}
		action := st.Action
		if i < len(res.Labels) {
			action = res.Labels[i]
		}
		fmt.Fprintf(w, "State %d: <%s>\n", i+1, action)
		writeState(w, shownState(res, i))
		fmt.Fprintln(w)
	}
	if live {
		action := res.CycleAction
		if res.CycleLabel != "" {
			action = res.CycleLabel
		}
		fmt.Fprintf(w, "Back to state %d: <%s>\n\n", res.CycleStart+1, action)
	}
}

// initViolation reports whether res is an invariant violated by an
// initial state, which TLC reports without a trace ("Error: Invariant Inv
// is violated by the initial state:" and the state).
func initViolation(res tlacheck.Result) bool {
	return res.Verdict == tlacheck.InvariantViolated && res.Invariant != "" && res.Property == "" && len(res.Trace) == 1
}

// shownState is state i of res's trace as printed: through the ALIAS, if
// any.
func shownState(res tlacheck.Result, i int) tlacheck.ShownState {
	if i < len(res.Shown) {
		return res.Shown[i]
	}
	return tlacheck.ShownState{Names: res.Variables, Values: res.Trace[i].State}
}

// writeState writes a state's lines as TLC prints them: "/\ name = value",
// "name = value" when the state has one line, or the ALIAS's _format.
func writeState(w io.Writer, s tlacheck.ShownState) {
	for i, name := range s.Names {
		if i >= len(s.Values) {
			break
		}
		// TLC breaks a long value over lines (Values.ppr).
		val := tlavalue.Pretty(s.Values[i].String(), tlavalue.PrettyWidth)
		switch {
		case s.Format != "":
			io.WriteString(w, javaFormat(s.Format, name, val))
		case len(s.Names) == 1:
			fmt.Fprintf(w, "%s = %s\n", name, val)
		default:
			fmt.Fprintf(w, "/\\ %s = %s\n", name, val)
		}
	}
}

// javaFormat is Java's String.format(pattern, name, value) for the
// patterns an ALIAS's _format field holds: %s takes the next argument, %n
// is a line break, %% a percent sign; other text, and a % sequence it does
// not know, is copied as written.
func javaFormat(pattern, name, value string) string {
	args := []string{name, value}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '%' || i+1 == len(pattern) {
			b.WriteByte(pattern[i])
			continue
		}
		switch pattern[i+1] {
		case 's':
			if len(args) > 0 {
				b.WriteString(args[0])
				args = args[1:]
			} else {
				b.WriteString("%s")
			}
		case 'n':
			b.WriteByte('\n')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteString(pattern[i : i+2])
		}
		i++
	}
	return b.String()
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "model configuration (default: the .cfg beside SPEC.tla)")
	workers := fs.Int("workers", runtime.NumCPU(), "worker goroutines (the result does not depend on it)")
	asJSON := fs.Bool("json", false, "print one JSON object with the result and any counterexample on stdout")
	exact := fs.Bool("exact", false, "keep every state besides its fingerprint and fail on a fingerprint collision (costs memory)")
	progress := fs.Duration("progress", time.Minute, "interval of progress lines on stderr (0: none)")
	noDeadlock := fs.Bool("deadlock", false, "do not check for deadlock (as TLC's -deadlock)")
	itfPath := fs.String("itf", "", "also write the counterexample to this file in the Informal Trace Format (Apalache, Quint)")
	traceFormat := fs.String("trace-format", traceFormatText, "counterexample format: text (TLC's) or msc (Mermaid sequence diagram)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the run to this file at its end (go tool pprof -sample_index=alloc_space)")
	coverage := fs.Bool("coverage", false, "report per action (disjunct of Next) the states it was enabled in, the successors it generated and the new distinct states it found (TLC's -coverage)")
	strict := fs.Bool("coverage-strict", false, "as -coverage, and exit 14 when an action was never enabled or added no distinct state and the configuration has no `\\* @uncovered Action: reason` line for it (or has one for a covered action)")
	memory := fs.String("memory", "1GiB", "memory budget: the garbage collector's soft limit (GOMEMLIMIT overrides it), and the base of a -fpmem fraction")
	fpmem := fs.String("fpmem", "", "memory of the fingerprint table, allocated up front: a fraction of -memory (0.5) or a size (2GiB) (default: grows from small)")
	queuemem := fs.String("queuemem", "", "memory of the BFS queue before its blocks are written to -metadir, compressed (e.g. 256MiB; default: no limit)")
	metadir := fs.String("metadir", "", "directory of the run's files: the trace (kept on disk, not in memory), the spilled queue, the checkpoints (default: a temporary directory when -queuemem is set)")
	checkpoint := fs.Duration("checkpoint", 0, "write a checkpoint to -metadir between two levels at most this often (0: none)")
	recoverDir := fs.String("recover", "", "resume from the last checkpoint in this directory (the -metadir of the interrupted run)")
	simulate := fs.Bool("simulate", false, "random behaviours instead of the whole state space (TLC's simulation mode): invariants, action properties and deadlock checked on each")
	depth := fs.Int("depth", 100, "with -simulate: states per behaviour, the initial one included (TLC's -depth)")
	num := fs.Int64("num", 0, "with -simulate: behaviours to generate (0: until interrupted, as TLC's -simulate)")
	seed := fs.Uint64("seed", 0, "with -simulate: the random seed (the same seed gives the same behaviours; 0: from the clock, printed)")
	lncheck := fs.String("lncheck", "default", "when liveness is checked: default (also during the search, at most every minute, on the states explored so far, so that a violation stops the run early, as TLC) or final (only after the search; TLC's -lncheck final)")
	dump := fs.String("dump", "", "also write the reachable state graph to this file in Graphviz DOT (TLC's -dump dot; small models, at most 10,000 states)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter check [-config F.cfg] [-workers N] [-json] [-exact] [-deadlock] [-progress D] [-coverage | -coverage-strict] [-trace-format text|msc] [-itf FILE] [-cpuprofile FILE] [-memprofile FILE] [-memory SIZE] [-fpmem F|SIZE] [-queuemem SIZE] [-metadir DIR] [-checkpoint D] [-recover DIR] [-lncheck default|final] [-simulate [-depth N] [-num N] [-seed S]] [-dump FILE.dot] SPEC.tla")
		fmt.Fprintln(stderr, "exit: 0 ok, 10 assumption, 11 deadlock, 12 safety, 13 liveness, 14 uncovered action (-coverage-strict), 2 bad input or unsupported, 1 internal error")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return exitBadInput
	}
	if fs.NArg() != 1 || *workers < 1 || (*lncheck != "default" && *lncheck != "final") || *depth < 1 || *num < 0 || (*traceFormat != traceFormatText && *traceFormat != traceFormatMSC) {
		fs.Usage()
		return exitBadInput
	}
	mem, err := parseSize(*memory, 0)
	if err != nil || mem <= 0 {
		fmt.Fprintf(stderr, "verimeter check: -memory %q: want a size such as 4GiB\n", *memory)
		return exitBadInput
	}
	opts := tlacheck.Options{Workers: *workers, Exact: *exact, NoDeadlock: *noDeadlock, ProgressEvery: *progress,
		Coverage: *coverage || *strict, MetaDir: *metadir, Checkpoint: *checkpoint}
	if *lncheck == "final" {
		opts.LivenessEvery = -1
	}
	if opts.FPMem, err = parseSize(*fpmem, mem); err != nil {
		fmt.Fprintf(stderr, "verimeter check: -fpmem %q: want a fraction of -memory (0.5) or a size (2GiB)\n", *fpmem)
		return exitBadInput
	}
	if opts.FrontierMem, err = parseSize(*queuemem, 0); err != nil {
		fmt.Fprintf(stderr, "verimeter check: -queuemem %q: want a size such as 256MiB\n", *queuemem)
		return exitBadInput
	}
	if *recoverDir != "" {
		if *metadir != "" && *metadir != *recoverDir {
			fmt.Fprintln(stderr, "verimeter check: -recover resumes in its own directory; -metadir must be the same or absent")
			return exitBadInput
		}
		opts.MetaDir, opts.Recover = *recoverDir, true
	}
	if opts.Checkpoint > 0 && opts.MetaDir == "" {
		fmt.Fprintln(stderr, "verimeter check: -checkpoint needs -metadir")
		return exitBadInput
	}
	if opts.MetaDir == "" && opts.FrontierMem > 0 {
		dir, err := os.MkdirTemp("", "verimeter-check-")
		if err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			return exitInternal
		}
		defer os.RemoveAll(dir)
		opts.MetaDir = dir
	} else if opts.MetaDir != "" {
		if err := os.MkdirAll(opts.MetaDir, 0o755); err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			return exitBadInput
		}
	}
	// SIGTERM (timeout, systemd, a container's stop) ends the run as
	// Ctrl-C does: the counts so far printed, the profiles written, the
	// temporary -metadir with its spilled queue removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A model checker's heap is mostly long-lived states: collect rarely,
	// under the -memory soft limit (GOGC and GOMEMLIMIT override both).
	defer tlacheck.TuneGC(mem, 0, os.Getenv)()
	if *progress > 0 {
		opts.Progress = stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			return exitBadInput
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			f.Close()
			return exitInternal
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if *memProfile != "" {
		defer writeMemProfile(*memProfile, stderr)
	}
	spec := fs.Arg(0)
	if *simulate {
		return runSimulate(ctx, spec, *config, tlacheck.SimOptions{Depth: *depth, Behaviours: *num, Seed: *seed, NoDeadlock: *noDeadlock},
			*asJSON, *traceFormat, stdout, stderr)
	}
	res, err := eval.CheckModel(ctx, spec, *config, opts)
	rep, code := report(res, err)
	if *dump != "" && res.Workers > 0 {
		if derr := writeDump(ctx, *dump, spec, *config); derr != nil {
			fmt.Fprintln(stderr, "verimeter check: -dump:", derr)
			return exitBadInput
		}
	}
	if opts.Coverage && code == exitOK {
		rep.Coverage = res.Coverage
		cfgPath := *config
		if cfgPath == "" {
			cfgPath = strings.TrimSuffix(spec, ".tla") + ".cfg"
		}
		text, rerr := os.ReadFile(cfgPath)
		if rerr != nil {
			fmt.Fprintln(stderr, "verimeter check:", rerr)
			return exitBadInput
		}
		rep.Uncovered, rep.StaleExcuses = tlacheck.Uncovered(res.Coverage, tlacheck.CoverageExcuses(text))
		if *strict && (len(rep.Uncovered) > 0 || len(rep.StaleExcuses) > 0) {
			rep.Result, code = resultUncovered, exitUncovered
		}
	}
	if *itfPath != "" && len(res.Trace) > 0 {
		if werr := writeITF(*itfPath, spec, res); werr != nil {
			fmt.Fprintln(stderr, "verimeter check:", werr)
			return exitInternal
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "verimeter check:", err)
			return exitInternal
		}
		return code
	}
	switch {
	case code == exitOK:
		fmt.Fprintln(stdout, "Model checking completed. No error has been found.")
	case code == exitUncovered:
		fmt.Fprintln(stdout, "Model checking completed. No error has been found.")
		fmt.Fprintf(stdout, "Error: coverage: never enabled or adding no state, without a reason in the model: %s; reasons for covered or absent actions: %s\n",
			listOrNone(rep.Uncovered), listOrNone(rep.StaleExcuses))
	default:
		printViolation(stdout, rep, res)
	}
	if err := printCounterexample(stdout, spec, res, *traceFormat); err != nil {
		fmt.Fprintln(stderr, "verimeter check:", err)
		return exitInternal
	}
	if res.Workers == 0 {
		return code // nothing was explored: the spec did not load
	}
	fmt.Fprintf(stdout, "%d states generated, %d distinct states found, %d states left on queue.\n", res.Generated, res.Distinct, res.Queue)
	if res.CollisionCalculated > 0 || res.CollisionObserved > 0 {
		fmt.Fprintf(stdout, "The probability of a fingerprint collision: calculated (optimistic): val = %.1E, based on the actual fingerprints: val = %.1E\n",
			res.CollisionCalculated, res.CollisionObserved)
	}
	fmt.Fprintf(stdout, "The depth of the complete state graph search is %d.\n", res.Depth)
	fmt.Fprintf(stdout, "Finished in %.2f s with %d workers (%.0f states/s).\n", res.Seconds, res.Workers, rate(res))
	if len(rep.Coverage) > 0 {
		printCoverage(stdout, rep.Coverage)
	}
	return code
}

// printCoverage writes the per-action table of -coverage: TLC's
// distinct:generated pair, with the number of states the action was
// enabled in.
func printCoverage(w io.Writer, cov []tlacheck.ActionCoverage) {
	fmt.Fprintln(w, "Coverage (action: enabled in states, generated, distinct states found first):")
	for _, a := range cov {
		flag := ""
		if a.Enabled == 0 || a.Distinct == 0 {
			flag = "  <- adds no state"
		}
		fmt.Fprintf(w, "  <%s>: enabled %d, %d:%d%s\n", a.Name, a.Enabled, a.Distinct, a.Generated, flag)
	}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func rate(res tlacheck.Result) float64 {
	if res.Seconds <= 0 {
		return 0
	}
	return float64(res.Generated) / res.Seconds
}

// writeMSC draws the trace as a Mermaid sequence diagram with the roles
// annotated (spec/README.md) in the spec and the modules it extends or
// instantiates beside it as lifelines; other modules of the directory may
// annotate the same names for other roles and are not read.
func writeMSC(w io.Writer, specPath string, res tlacheck.Result) error {
	var srcs [][]byte
	// The spec itself first, so its roles come first on the chart.
	for _, f := range usedModules(specPath) {
		if src, err := os.ReadFile(f); err == nil {
			srcs = append(srcs, src)
		}
	}
	return msc.Render(w, msc.ParseRoles(srcs...), res)
}

// writeITF writes the counterexample as ITF JSON, atomically (a reader
// never sees half a trace).
func writeITF(path, specPath string, res tlacheck.Result) error {
	var b strings.Builder
	if err := itf.Write(&b, res, filepath.Base(specPath)); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var (
	extendsLine  = regexp.MustCompile(`(?m)^\s*EXTENDS\s+([A-Za-z0-9_,\s]+?)\s*$`)
	instanceName = regexp.MustCompile(`\bINSTANCE\s+([A-Za-z0-9_]+)`)
	moduleName   = regexp.MustCompile(`[A-Za-z0-9_]+`)
)

// usedModules is specPath and the files of the modules it uses,
// transitively, that exist beside it (standard modules are built in).
func usedModules(specPath string) []string {
	dir := filepath.Dir(specPath)
	out := []string{specPath}
	seen := map[string]bool{filepath.Clean(specPath): true}
	for i := 0; i < len(out); i++ {
		src, err := os.ReadFile(out[i])
		if err != nil {
			continue
		}
		var names []string
		for _, m := range extendsLine.FindAllStringSubmatch(string(src), -1) {
			names = append(names, moduleName.FindAllString(m[1], -1)...)
		}
		for _, m := range instanceName.FindAllStringSubmatch(string(src), -1) {
			names = append(names, m[1])
		}
		for _, n := range names {
			f := filepath.Join(dir, n+".tla")
			if _, err := os.Stat(f); err == nil && !seen[filepath.Clean(f)] {
				seen[filepath.Clean(f)] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// parseSize reads a size in bytes ("512MiB", "2GiB", "1000000", "1.5GB"),
// or, when of > 0, a fraction of it ("0.25"); "" is 0.
func parseSize(text string, of int64) (int64, error) {
	if text == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := 0.0
	num := text
	for _, u := range units {
		if strings.HasSuffix(text, u.suffix) {
			num, mult = strings.TrimSuffix(text, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", text, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("size %q: negative", text)
	}
	if mult == 0 {
		if v < 1 && of > 0 {
			return int64(v * float64(of)), nil
		}
		mult = 1
	}
	return int64(v * mult), nil
}

// writeMemProfile writes the heap profile (allocations since the start, by
// site) to path: where a run's time goes to the allocator and the
// collector, the CPU profile shows only as malloc and GC.
func writeMemProfile(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(stderr, "verimeter check: -memprofile:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(stderr, "verimeter check: -memprofile:", err)
	}
}
