package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/verimeter/verimeter"

// pkg is what `go list -json` tells of one package.
type pkg struct {
	ImportPath string
	Deps       []string
}

// list returns the packages matching patterns, each with its transitive
// dependencies, as built with tags.
func list(t *testing.T, tags string, patterns ...string) []pkg {
	t.Helper()
	// -pgo=off: the packages as written, not the variants compiled with
	// cmd/verimeter's default.pgo ("tla/eval [.../cmd/verimeter]").
	args := []string{"list", "-pgo=off", "-deps=false", "-json=ImportPath,Deps"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go %s listed no package", strings.Join(args, " "))
	}
	return pkgs
}

// violations returns, for every listed package, the dependencies that
// start with one of the forbidden prefixes (a prefix names a package and
// everything below it).
func violations(pkgs []pkg, forbidden func(from string) []string) []string {
	var bad []string
	for _, p := range pkgs {
		for _, f := range forbidden(p.ImportPath) {
			for _, d := range p.Deps {
				if d == f || strings.HasPrefix(d, f+"/") {
					bad = append(bad, fmt.Sprintf("%s depends on %s", p.ImportPath, d))
				}
			}
		}
	}
	return bad
}

var roles = []string{module + "/meter", module + "/gateway", module + "/headend"}

// TestRolesNeverImportEachOther: a meter, a gateway and a head-end share
// only the protocol, the PLC binding and the WAN contract; one role's code
// reaching into another's would let a decision of one run on the other's
// state.
func TestRolesNeverImportEachOther(t *testing.T) {
	pkgs := list(t, "", "./meter/...", "./gateway/...", "./headend/...")
	bad := violations(pkgs, func(from string) []string {
		var f []string
		for _, r := range roles {
			if from != r && !strings.HasPrefix(from, r+"/") {
				f = append(f, r)
			}
		}
		return f
	})
	for _, b := range bad {
		t.Error(b)
	}
}

// TestDeviceBuildsLinkNoEngine: the firmware of a meter or a gateway
// (-tags device) carries the generated machines, never the TLA+ engine or
// the generator they came from.
func TestDeviceBuildsLinkNoEngine(t *testing.T) {
	pkgs := list(t, "device", "./meter", "./gateway")
	bad := violations(pkgs, func(string) []string {
		return []string{module + "/tla", module + "/statemachine/gen"}
	})
	for _, b := range bad {
		t.Error(b)
	}
}

// TestDeviceBuildsCompile: the device builds the rules above inspect
// compile (go list reads imports without type-checking, so a file that
// needs a server-only helper would pass them and still break the
// firmware's build).
func TestDeviceBuildsCompile(t *testing.T) {
	cmd := exec.Command("go", "build", "-tags", "device", "-o", os.DevNull, "./meter", "./gateway", "./cmd/verimeter")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags device: %v\n%s", err, out)
	}
}

// metricsLibraries are the Prometheus client and what it brings: the
// head-end and `verimeter gateway run` serve metrics through it
// (cmd/verimeter/metrics.go), while the roles only count (their Stats).
func metricsLibraries(string) []string {
	return []string{"github.com/prometheus", "github.com/beorn7/perks", "github.com/munnerz/goautoneg"}
}

// TestDeviceBuildsLinkNoMetricsLibrary: the firmware of a meter or a
// gateway, and the device build of the command, carries no metrics library;
// a role's counters are plain atomics that a collector outside reads.
func TestDeviceBuildsLinkNoMetricsLibrary(t *testing.T) {
	pkgs := list(t, "device", "./meter", "./gateway", "./cmd/verimeter")
	for _, b := range violations(pkgs, metricsLibraries) {
		t.Error(b)
	}
}

// productionPatterns are the packages a deployment runs.
var productionPatterns = []string{"./protocol/...", "./plc/...", "./wan/...", "./meter/...", "./gateway/...", "./headend/...", "./statemachine/...", "./tla/..."}

// simulationOnly names what only the demo, the campaigns and the tests may
// link: fault injection, the simulated world, the adversary, the
// throwaway PostgreSQL of the tests, the tests' way to TLC.
func simulationOnly(string) []string {
	return []string{module + "/internal/faultproxy", module + "/internal/sim", module + "/internal/pgtest", module + "/internal/tlctest", module + "/internal/memtest", module + "/fuzz"}
}

// TestSimulationRuleCatchesAViolation: the rule of
// TestProductionLinksNoSimulation reports a production package that
// depends on the simulation, directly or below it, and nothing else.
func TestSimulationRuleCatchesAViolation(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: module + "/wan", Deps: []string{module + "/protocol", module + "/internal/sim"}},
		{ImportPath: module + "/gateway", Deps: []string{module + "/internal/sim/procs"}},
		{ImportPath: module + "/meter", Deps: []string{module + "/internal/simulator", module + "/plc"}},
	}
	bad := violations(pkgs, simulationOnly)
	want := []string{module + "/wan depends on " + module + "/internal/sim", module + "/gateway depends on " + module + "/internal/sim/procs"}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}

// TestProductionLinksNoSimulation: the simulated world (fault injection,
// the attacker, scenarios) lives under internal/ for the demo and the
// tests; no production package may link it.
func TestProductionLinksNoSimulation(t *testing.T) {
	pkgs := list(t, "", productionPatterns...)
	bad := violations(pkgs, simulationOnly)
	for _, b := range bad {
		t.Error(b)
	}
}
