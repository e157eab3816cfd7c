package eval

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// ErrNoConfig: the model configuration (.cfg) named or implied by the
// spec's name does not exist. It is its own class, not ErrModuleNotFound,
// so that a user is told which file to create or name with -config.
var ErrNoConfig = errors.New("no such file")

// LoadModel reads, resolves and binds a specification file to its model
// configuration, as `verimeter check SPEC.tla` does: cfgPath defaults to
// the .cfg beside the spec with the same base name. It exists so that the
// CLI, the conformance runner and the spec's own tests build a model the
// same way.
func LoadModel(specPath, cfgPath string) (*Machine, error) {
	return loadModel(specPath, cfgPath, RunInfo{})
}

func loadModel(specPath, cfgPath string, run RunInfo) (*Machine, error) {
	if cfgPath == "" {
		cfgPath = strings.TrimSuffix(specPath, filepath.Ext(specPath)) + ".cfg"
	}
	spec, err := Load(specPath)
	if err != nil {
		return nil, err
	}
	if err := spec.Resolve(); err != nil {
		return nil, err
	}
	src, err := os.ReadFile(cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config file %s: %w", cfgPath, ErrNoConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", cfgPath, err)
	}
	c, err := cfg.Parse(cfgPath, src)
	if err != nil {
		return nil, err
	}
	return BuildRun(spec, c, run)
}

// CheckModel loads a model with LoadModel and explores it with opts
// (NoDeadlock is taken from the configuration's CHECK_DEADLOCK unless
// already set). Errors from loading come back with an empty Result and the
// verdict EvalError; errors from exploring come back with check.Run's
// Result.
func CheckModel(ctx context.Context, specPath, cfgPath string, opts check.Options) (check.Result, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0) // as check.Run
	}
	m, err := loadModel(specPath, cfgPath, RunInfo{Workers: workers, NoDeadlock: opts.NoDeadlock})
	if err != nil {
		return check.Result{Verdict: check.EvalError, Error: err.Error()}, err
	}
	if m.ConstantOnly {
		// TLC reports success with no states once the assumptions hold.
		w := opts.Workers
		if w <= 0 {
			w = 1
		}
		return check.Result{Verdict: check.Success, Workers: w}, nil
	}
	opts.NoDeadlock = opts.NoDeadlock || m.NoDeadlock
	hashed := value.FilterHashes()
	res, err := check.Run(ctx, m, opts)
	if value.FilterHashes() != hashed {
		// A set {x \in S : P} over an infinite S was fingerprinted (in a
		// state, or an element of a set): different ones may have merged.
		err = &PosError{m.spec.Root.Pos, "unsupported: a set {x \\in S : P} over an infinite S inside a state or a set (it cannot be fingerprinted)", ErrUnsupported}
		return check.Result{Verdict: check.EvalError, Error: err.Error(), Workers: res.Workers}, err
	}
	if err == nil && res.Verdict == check.Success {
		if err := m.CheckPostcondition(res); err != nil {
			res.Verdict, res.Error = check.EvalError, err.Error()
			return res, err
		}
	}
	m.ApplyAlias(&res)
	m.LabelTrace(&res)
	return res, err
}
