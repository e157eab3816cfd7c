package tracecheck_test

import (
	"flag"
	"testing"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/statemachine/gen/difftest"
)

var writeFixtures = flag.Bool("write", false, "rewrite the generated machines of internal/commands when they are stale")

// TestCommandsFixturesUpToDate: the machines the role tests below run are
// what the generator writes today from spec/Commands.tla, the code the
// roles run (with exported names, the roles' own being unexported).
func TestCommandsFixturesUpToDate(t *testing.T) {
	for _, role := range []string{"headend", "gateway", "meter"} {
		target := gen.Target{Role: role, Path: "internal/commands/" + role + "/machine_gen.go", TestPath: "internal/commands/" + role + "/store_gen_test.go", Package: role, Modules: []string{"Commands"}}
		difftest.UpToDate(t, "../../spec", ".", target, *writeFixtures)
	}
}
