package spec

import (
	"context"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/msc"
)

// actionRecorder is a model that notes the name of every action taken.
type actionRecorder struct {
	*eval.Machine
	mu      sync.Mutex
	actions map[string]bool
}

func (r *actionRecorder) Next(s check.State, emit func(check.State, string) error) error {
	return r.Machine.Next(s, func(t check.State, action string) error {
		r.mu.Lock()
		r.actions[action] = true
		r.mu.Unlock()
		return emit(t, action)
	})
}

// TestEveryActionAndVariableHasARole explores each small model and requires a role annotation (spec/README.md) for every
// variable and for every action a behaviour takes: counterexamples are drawn
// with one lifeline per role (verimeter check -trace-format msc), and the
// generator maps actions to roles the same way.
func TestEveryActionAndVariableHasARole(t *testing.T) {
	for _, cfg := range models(t) {
		module := moduleOf(cfg)
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(module + ".tla")
			if err != nil {
				t.Fatal(err)
			}
			roles := msc.ParseRoles(src)
			m, err := eval.LoadModel(module+".tla", cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range m.Variables() {
				if roles.Var[v] == "" {
					t.Errorf("%s.tla: variable %s has no @role annotation", module, v)
				}
			}
			rec := &actionRecorder{Machine: m, actions: map[string]bool{}}
			if _, err := check.Run(context.Background(), rec, check.Options{NoDeadlock: true}); err != nil {
				t.Fatal(err)
			}
			var names []string
			for a := range rec.actions {
				names = append(names, a)
			}
			sort.Strings(names)
			for _, a := range names {
				if roles.Action[a] == "" {
					t.Errorf("%s.tla: action %s has no @role/@event annotation", module, a)
				}
			}
			t.Logf("%s: %d variables, actions %v, roles %v", module, len(m.Variables()), names, roles.Order)
		})
	}
}
