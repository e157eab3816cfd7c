//go:build !device

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/verimeter/verimeter/spec"
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
			steps, err := tracecheck.Merge(logs...)
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
