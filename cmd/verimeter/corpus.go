//go:build !device

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func init() {
	register(command{name: "corpus", summary: "run our checker on every exhaustive-search model of the tlaplus/Examples manifests against TLC's recorded results", run: runCorpus})
}

// errCorpus is wrapped by every problem with the corpus directory or its
// manifests.
var errCorpus = errors.New("corpus")

// corpusModel is one model of a manifest.json: the module it checks and
// what TLC recorded for it.
type corpusModel struct {
	Model    string        `json:"model"`  // the .cfg, relative to the corpus directory
	Module   string        `json:"module"` // the .tla
	Mode     string        `json:"-"`
	Result   string        `json:"tlc_result"`
	Distinct int64         `json:"tlc_distinct_states"` // -1: not recorded
	Runtime  time.Duration `json:"-"`                   // -1: "unknown"
}

// Verdicts of a corpus row.
const (
	verdictAgree       = "agree"
	verdictDisagree    = "DISAGREE"
	verdictUnsupported = "unsupported"
	verdictTimeout     = "timeout"
	verdictNoReference = "no TLC result"
)

// corpusRow is one model's line of the corpus report.
type corpusRow struct {
	corpusModel
	TLCRuntime string  `json:"tlc_runtime"`
	Got        string  `json:"result"`
	Distinct   int64   `json:"distinct_states"`
	Seconds    float64 `json:"seconds"`
	Verdict    string  `json:"verdict"` // agree, DISAGREE, unsupported, timeout, no TLC result
	Detail     string  `json:"detail,omitempty"`
}

// manifestFile is the part of a tlaplus/Examples manifest.json we read.
type manifestFile struct {
	Modules []struct {
		Path   string `json:"path"`
		Models []struct {
			Path     string          `json:"path"`
			Runtime  string          `json:"runtime"`
			Mode     json.RawMessage `json:"mode"`
			Result   string          `json:"result"`
			Distinct *int64          `json:"distinctStates"`
		} `json:"models"`
	} `json:"modules"`
}

// corpusDir is where the corpus lives: the argument, else $VERIMETER_CORPUS,
// else ../shared/corpus/tlaplus-examples.
func corpusDir(arg string) string {
	if arg != "" {
		return arg
	}
	if d := os.Getenv("VERIMETER_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "corpus", "tlaplus-examples")
}

// parseRuntime reads a manifest's hh:mm:ss; "unknown" is -1.
func parseRuntime(s string) (time.Duration, error) {
	if s == "unknown" {
		return -1, nil
	}
	p := strings.Split(s, ":")
	if len(p) != 3 {
		return 0, fmt.Errorf("runtime %q is not hh:mm:ss", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		n, err := strconv.Atoi(p[i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("runtime %q is not hh:mm:ss", s)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

// readCorpus reads every specifications/*/manifest.json of dir and returns
// all their models, sorted by path. Paths in the manifests are relative to
// dir.
func readCorpus(dir string) ([]corpusModel, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: directory %s not found (give DIR or set $VERIMETER_CORPUS to a copy of tlaplus/Examples)", errCorpus, dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "specifications", "*", "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCorpus, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no specifications/*/manifest.json in %s", errCorpus, dir)
	}
	var out []corpusModel
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCorpus, err)
		}
		var mf manifestFile
		if err := json.Unmarshal(src, &mf); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errCorpus, f, err)
		}
		for _, mod := range mf.Modules {
			for _, md := range mod.Models {
				rt, err := parseRuntime(md.Runtime)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: %s: %w", errCorpus, f, md.Path, err)
				}
				mode := "other"
				var s string
				if json.Unmarshal(md.Mode, &s) == nil {
					mode = s
				}
				d := int64(-1)
				if md.Distinct != nil {
					d = *md.Distinct
				}
				if md.Path == "" || mod.Path == "" {
					return nil, fmt.Errorf("%w: %s: a model or module without a path", errCorpus, f)
				}
				out = append(out, corpusModel{Model: md.Path, Module: mod.Path, Mode: mode, Result: md.Result, Distinct: d, Runtime: rt})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out, nil
}

// corpusRunner runs one model in a subprocess (exe followed by the check
// command's arguments) under a timeout and a memory cap.
type corpusRunner struct {
	exe     string
	dir     string
	timeout time.Duration
	memMiB  int
	workers int
}

// checkOutput is the part of `verimeter check -json` the corpus reads.
type checkOutput struct {
	Result    string `json:"result"`
	Distinct  int64  `json:"distinct_states"`
	Generated int64  `json:"states_generated"`
	Error     string `json:"error"`
}

func (r corpusRunner) run(md corpusModel) corpusRow {
	row := corpusRow{corpusModel: md, TLCRuntime: fmtRuntime(md.Runtime), Distinct: -1}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	args := []string{"check", "-json", "-progress", "0", "-workers", strconv.Itoa(r.workers),
		"-config", filepath.Join(r.dir, md.Model), filepath.Join(r.dir, md.Module)}
	// ulimit -v caps the address space; GOMEMLIMIT makes the collector work
	// hard before the cap is reached.
	script := fmt.Sprintf(`ulimit -v %d 2>/dev/null; exec "$0" "$@"`, (r.memMiB+1024)*1024)
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, r.exe}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMEMLIMIT=%dMiB", r.memMiB))
	cmd.Dir = r.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	row.Seconds = time.Since(start).Seconds()
	var out checkOutput
	jerr := json.Unmarshal(stdout.Bytes(), &out)
	switch {
	case ctx.Err() != nil:
		row.Got, row.Verdict = "-", verdictTimeout
		return row
	case jerr != nil:
		row.Got = "crash"
		msg := firstLine(strings.TrimSpace(stderr.String()))
		if memoryCapped(stderr.String()) {
			row.Got, row.Verdict, row.Detail = "-", verdictTimeout, "memory cap"
			return row
		}
		if msg == "" && err != nil {
			msg = err.Error()
		}
		row.Verdict, row.Detail = verdictDisagree, "no result: "+msg
		return row
	}
	row.Got, row.Distinct = out.Result, out.Distinct
	if out.Result == resultError {
		msg := out.Error
		if msg == "" {
			msg = strings.TrimSpace(stderr.String())
		}
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		row.Distinct = -1
		if i := strings.Index(msg, "unsupported: "); i >= 0 {
			row.Got, row.Verdict, row.Detail = verdictUnsupported, verdictUnsupported, msg[i+len("unsupported: "):]
			return row
		}
		if out.Generated == 0 && md.Result != "unknown" {
			// The model did not load (a construct the parser or the
			// configuration reader does not know, a module TLC finds in its
			// library): exit 2 claims no verdict. TLC loaded it, so it is
			// input we do not support yet.
			row.Got, row.Verdict, row.Detail = verdictUnsupported, verdictUnsupported, msg
			return row
		}
		row.Detail = msg
	}
	row.Verdict = compareTLC(md, out)
	return row
}

// compareTLC is the verdict of a run that finished: the result must be
// TLC's, and for a success the distinct-state count too where the manifest
// records it (a failure's count depends on when TLC's workers stopped).
func compareTLC(md corpusModel, out checkOutput) string {
	switch {
	case md.Result == "unknown" || md.Result == "":
		return verdictNoReference
	case out.Result != md.Result:
		return verdictDisagree
	case md.Result == resultSuccess && md.Distinct >= 0 && out.Distinct != md.Distinct:
		return verdictDisagree
	}
	return verdictAgree
}

func fmtRuntime(d time.Duration) string {
	if d < 0 {
		return "unknown"
	}
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// corpusCause is the part of an unsupported message that names the
// construct, without its position.
var corpusPos = regexp.MustCompile(`^.*?:\d+:\d+: `)

func corpusCause(detail string) string {
	c := corpusPos.ReplaceAllString(detail, "")
	c = strings.TrimPrefix(c, "unsupported: ")
	if i := strings.Index(c, " (no "); i >= 0 {
		c = c[:i]
	}
	return c
}

func runCorpus(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("corpus", flag.ContinueOnError)
	fset.SetOutput(stderr)
	timeout := fset.Duration("timeout", 2*time.Minute, "limit per model")
	maxRuntime := fset.Duration("max-runtime", 0, "only the models TLC's recorded runtime is at most this (0: no limit; unknown runtimes count as over)")
	minRuntime := fset.Duration("min-runtime", 0, "only the models TLC's recorded runtime is over this (unknown runtimes count as over)")
	only := fset.String("run", "", "only the models whose .cfg path matches this regular expression")
	asJSON := fset.Bool("json", false, "print the rows and totals as one JSON object")
	workers := fset.Int("workers", 1, "worker goroutines per model")
	mem := fset.Int("mem", 4096, "memory cap per model in MiB (GOMEMLIMIT; the address space gets 1 GiB more)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter corpus [-timeout 2m] [-max-runtime D] [-min-runtime D] [-run REGEXP] [-json] [DIR]")
		fmt.Fprintln(stderr, "DIR is a copy of tlaplus/Examples (default $VERIMETER_CORPUS or ../shared/corpus/tlaplus-examples)")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil || fset.NArg() > 1 || *workers < 1 || *mem < 64 {
		if err == nil {
			fset.Usage()
		}
		return exitBadInput
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(stderr, "verimeter corpus: -run:", err)
			return exitBadInput
		}
	}
	dir := corpusDir(fset.Arg(0))
	models, err := readCorpus(dir)
	if err != nil {
		fmt.Fprintln(stderr, "verimeter corpus:", err)
		return exitBadInput
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "verimeter corpus:", err)
		return exitInternal
	}
	// Models run in the corpus's root, as its CI runs TLC: a trace
	// validation model reads its log by a path relative to it.
	root, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintln(stderr, "verimeter corpus:", err)
		return exitInternal
	}
	r := corpusRunner{exe: exe, dir: root, timeout: *timeout, memMiB: *mem, workers: *workers}
	var rows []corpusRow
	counts := map[string]int{}
	causes := map[string]int{}
	const rowFmt = "%-70s %-16s %10s %-16s %10s %8.1f  %s\n"
	if !*asJSON {
		fmt.Fprintf(stdout, "%-70s %-16s %10s %-16s %10s %8s  %s\n", "model", "TLC", "distinct", "ours", "distinct", "seconds", "verdict")
	}
	for _, md := range models {
		if md.Mode != "exhaustive search" || (filter != nil && !filter.MatchString(md.Model)) {
			continue
		}
		over := func(lim time.Duration) bool { return md.Runtime < 0 || md.Runtime > lim }
		if *maxRuntime > 0 && over(*maxRuntime) || *minRuntime > 0 && !over(*minRuntime) {
			continue
		}
		row := r.run(md)
		rows = append(rows, row)
		counts[row.Verdict]++
		if row.Verdict == verdictUnsupported {
			causes[corpusCause(row.Detail)]++
		}
		if *asJSON {
			continue
		}
		verdict := row.Verdict
		if row.Detail != "" {
			verdict += ": " + firstLine(corpusPos.ReplaceAllString(row.Detail, ""))
		}
		fmt.Fprintf(stdout, rowFmt, md.Model, md.Result, count(md.Distinct), row.Got, count(row.Distinct), row.Seconds, verdict)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Dir    string         `json:"dir"`
			Rows   []corpusRow    `json:"rows"`
			Totals map[string]int `json:"totals"`
			Causes map[string]int `json:"unsupported_causes"`
		}{dir, rows, counts, causes}); err != nil {
			fmt.Fprintln(stderr, "verimeter corpus:", err)
			return exitInternal
		}
	} else {
		fmt.Fprintf(stdout, "%d agree, %d unsupported, %d timeout, %d disagree", counts[verdictAgree], counts[verdictUnsupported], counts[verdictTimeout], counts[verdictDisagree])
		if n := counts[verdictNoReference]; n > 0 {
			fmt.Fprintf(stdout, " (%d more without a TLC result in the manifest)", n)
		}
		fmt.Fprintf(stdout, " of %d exhaustive-search models\n", len(rows))
		if len(causes) > 0 {
			fmt.Fprintln(stdout, "unsupported causes:")
			keys := make([]string, 0, len(causes))
			for k := range causes {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				if causes[keys[i]] != causes[keys[j]] {
					return causes[keys[i]] > causes[keys[j]]
				}
				return keys[i] < keys[j]
			})
			for _, k := range keys {
				fmt.Fprintf(stdout, "%4d  %s\n", causes[k], k)
			}
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", counts[verdictAgree], counts[verdictDisagree])
	}
	if counts[verdictDisagree] > 0 {
		return exitInternal
	}
	return exitOK
}

func count(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// memoryCapped tells whether a checker that printed no result died at the
// memory cap: the collector's "out of memory", or the address-space limit
// (ulimit -v) refusing the runtime more memory ("cannot allocate memory").
// Such a run is a timeout at the cap, never a verdict.
func memoryCapped(stderr string) bool {
	return strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory")
}
