package adversary

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCampaign(t *testing.T) {
	var logBuf bytes.Buffer
	rep, err := Run(Config{Seed: 1, Attempts: 40, Log: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.Write(&table)
	t.Logf("adversary campaign:\n%s", table.String())
	if len(rep.Tallies) != len(Classes()) {
		t.Fatalf("%d classes ran, %d defined", len(rep.Tallies), len(Classes()))
	}
	for _, c := range rep.Tallies {
		if c.Attempts != 40 {
			t.Errorf("%s: %d attempts", c.Class, c.Attempts)
		}
	}
	if !rep.OK() {
		t.Fatalf("attacks not rejected as expected:\n%s", table.String())
	}
	// Every attempt is in the log, with its class and the error.
	if n := strings.Count(logBuf.String(), `"msg":"attack rejected"`); n != 40*len(Classes()) {
		t.Fatalf("%d rejections logged, want %d", n, 40*len(Classes()))
	}
}

// TestCampaignIsReproducible: the same seed gives the same report.
func TestCampaignIsReproducible(t *testing.T) {
	a, err := Run(Config{Seed: 7, Attempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(Config{Seed: 7, Attempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	var wa, wb bytes.Buffer
	a.Write(&wa)
	b.Write(&wb)
	if wa.String() != wb.String() {
		t.Fatalf("same seed, different reports:\n%s\n%s", wa.String(), wb.String())
	}
}

// TestCampaignCatchesNoReplayMutant builds the protocol with its replay
// window disabled and runs the campaign against it: the campaign must fail
// and name the replay classes.
func TestCampaignCatchesNoReplayMutant(t *testing.T) {
	if os.Getenv("VERIMETER_IN_MUTANT") != "" {
		t.Skip("inside the mutant run") // only the outer run asserts on the mutant
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the mutant: %v", err)
	}
	cmd := exec.Command(gobin, "test", "-count=1", "-tags", "verimeter_mutant_noreplay", "-run", "^TestCampaign$", ".")
	cmd.Env = append(os.Environ(), "VERIMETER_IN_MUTANT=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the campaign passed against a build without a replay window:\n%s", out)
	}
	for _, want := range []string{"replay of a data APDU", "counter rollback"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("mutant run does not report %q:\n%s", want, out)
		}
	}
	if !bytes.Contains(out, []byte("attacks not rejected as expected")) {
		t.Fatalf("mutant run failed for another reason:\n%s", out)
	}
}

// TestMarketCampaign runs the head-end's classes through the same harness.
func TestMarketCampaign(t *testing.T) {
	h, err := NewHeadEndEnv(rand.New(rand.NewPCG(3, 3)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rep, err := Run(Config{Seed: 3, Attempts: 20}, HeadEndClasses(h)...)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.Write(&table)
	if !rep.OK() || len(rep.Tallies) != len(Classes())+3 {
		t.Fatalf("market campaign:\n%s", table.String())
	}
	t.Logf("\n%s", table.String())
}
