package spec

import (
	"os"
	"sort"
	"testing"

	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/msc"
)

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
			// The actions a behaviour takes: those that generated a
			// successor in the model's run (TestModelsPass's, with
			// coverage).
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := coverageOf(t, cfg, string(text))
			if len(res.Coverage) == 0 {
				t.Fatalf("%s: no coverage reported", cfg)
			}
			var names []string
			for _, a := range res.Coverage {
				if a.Generated > 0 {
					names = append(names, a.Name)
				}
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
