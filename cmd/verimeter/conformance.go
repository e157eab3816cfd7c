//go:build !device

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	tlacheck "github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
)

func init() {
	register(command{name: "conformance", summary: "run our checker on every model of a TLA+ conformance suite (expected.tsv) against TLC's verdicts", run: runConformance})
}

// conformanceModel is one row of expected.tsv: TLC's verdict and, where
// given, its distinct-state count.
type conformanceModel struct {
	cfg, spec, result string
	distinct          int64 // -1: not given
}

// errExpected is wrapped by every problem with expected.tsv itself.
var errExpected = errors.New("conformance: bad expected.tsv")

// readConformance parses expected.tsv: tab-separated, '#' comments, the
// columns model, spec, result, distinct_states and more that are ignored.
func readConformance(path string) ([]conformanceModel, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var ms []conformanceModel
	sc := bufio.NewScanner(fh)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) < 4 || f[0] == "" || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("%w: %s:%d: want model, spec, result, distinct_states", errExpected, path, line)
		}
		d := int64(-1)
		if f[3] != "" {
			d, err = strconv.ParseInt(strings.ReplaceAll(f[3], ",", ""), 10, 64)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%w: %s:%d: distinct_states %q", errExpected, path, line, f[3])
			}
		}
		ms = append(ms, conformanceModel{cfg: f[0], spec: f[1], result: f[2], distinct: d})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: %s: no models", errExpected, path)
	}
	return ms, nil
}

// conformanceDir is where the suite lives: the argument, else
// $VERIMETER_CONFORMANCE, else ../shared/conformance/tla-examples.
func conformanceDir(arg string) string {
	if arg != "" {
		return arg
	}
	if d := os.Getenv("VERIMETER_CONFORMANCE"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "conformance", "tla-examples")
}

func runConformance(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", runtime.NumCPU(), "worker goroutines per model")
	only := fs.String("run", "", "only the models whose .cfg path matches this regular expression")
	timeout := fs.Duration("timeout", 30*time.Minute, "limit per model")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter conformance [-workers N] [-run REGEXP] [-timeout D] [DIR]")
		fmt.Fprintln(stderr, "DIR holds expected.tsv (default $VERIMETER_CONFORMANCE or ../shared/conformance/tla-examples)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 || *workers < 1 {
		if err == nil {
			fs.Usage()
		}
		return exitBadInput
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(stderr, "verimeter conformance: -run:", err)
			return exitBadInput
		}
	}
	defer tlacheck.TuneGC(0, 0, os.Getenv)()
	dir := conformanceDir(fs.Arg(0))
	models, err := readConformance(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		fmt.Fprintf(stderr, "verimeter conformance: %v\n(the suite is read from DIR, $VERIMETER_CONFORMANCE or ../shared/conformance/tla-examples)\n", err)
		return exitBadInput
	}
	const row = "%-62s %-15s %9s %-15s %9d %10d %8.2f %9.0f  %s\n"
	fmt.Fprintf(stdout, "%-62s %-15s %9s %-15s %9s %10s %8s %9s  %s\n", "model", "expected", "distinct", "got", "distinct", "generated", "seconds", "states/s", "verdict")
	passed, failed, unsupported := 0, 0, 0
	for _, md := range models {
		if filter != nil && !filter.MatchString(md.cfg) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		res, err := eval.CheckModel(ctx, under(dir, md.spec), under(dir, md.cfg), tlacheck.Options{Workers: *workers})
		cancel()
		got, _ := classify(res, err)
		verdict := "ok"
		switch {
		case errors.Is(err, eval.ErrUnsupported):
			got, verdict = "unsupported", "FAIL (unsupported: "+firstLine(err.Error())+")"
			unsupported++
		case got != md.result:
			verdict = "FAIL"
			if err != nil {
				verdict += " (" + firstLine(err.Error()) + ")"
			}
		case md.distinct >= 0 && res.Distinct != md.distinct:
			verdict = "FAIL (distinct states differ)"
		}
		if verdict == "ok" {
			passed++
		} else {
			failed++
		}
		want := "-"
		if md.distinct >= 0 {
			want = strconv.FormatInt(md.distinct, 10)
		}
		fmt.Fprintf(stdout, row, md.cfg, md.result, want, got, res.Distinct, res.Generated, res.Seconds, rate(res), verdict)
	}
	if unsupported > 0 {
		fmt.Fprintf(stdout, "(%d of the failed use constructs the checker does not support yet)\n", unsupported)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitInternal
	}
	return exitOK
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// under resolves a path of expected.tsv against the suite's directory
// (absolute paths are taken as they are).
func under(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
