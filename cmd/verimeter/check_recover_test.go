package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gridSpec is a model of about half a million states over some eight
// hundred levels: long enough to be killed half-way.
const gridSpec = `---- MODULE Grid ----
EXTENDS Naturals
CONSTANT N
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == \/ x < N /\ x' = x + 1 /\ y' = y
        \/ y < N /\ y' = y + 1 /\ x' = x
        \/ x' = (x * 7 + y) % N /\ y' = y
TypeOK == x \in 0..N /\ y \in 0..N
====
`

// gridModel builds the verimeter binary into a test directory and writes
// gridSpec there with the configuration cfg: the directory, the binary
// and the spec.
func gridModel(t *testing.T, cfg string) (dir, bin, spec string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	spec = filepath.Join(dir, "Grid.tla")
	if err := os.WriteFile(spec, []byte(gridSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Grid.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, bin, spec
}

// TestCheckKilledAndRecovered runs `verimeter check` with checkpoints,
// kills it (SIGKILL) once a checkpoint holds half the states, resumes it
// with -recover and compares the counts with an uninterrupted run's.
func TestCheckKilledAndRecovered(t *testing.T) {
	dir, bin, spec := gridModel(t, "CONSTANT N = 700\nINIT Init\nNEXT Next\nINVARIANT TypeOK\n")
	run := func(args ...string) checkReport {
		t.Helper()
		out, err := exec.Command(bin, append(append([]string{"check", "-json", "-progress", "0"}, args...), spec)...).Output()
		if err != nil {
			t.Fatalf("check %v: %v\n%s", args, err, out)
		}
		var rep checkReport
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("check %v: %v\n%s", args, err, out)
		}
		return rep
	}
	want := run()
	if want.Result != resultSuccess || want.Distinct < 100000 {
		t.Fatalf("uninterrupted run: %+v", want)
	}

	meta := filepath.Join(dir, "meta")
	c := exec.Command(bin, "check", "-progress", "0", "-metadir", meta, "-checkpoint", "100ms", "-queuemem", "64KiB", spec)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	var at int64
	for at < want.Distinct/2 {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before a checkpoint held half the states (last: %d of %d)", err, at, want.Distinct)
		case <-time.After(20 * time.Millisecond):
		}
		raw, err := os.ReadFile(filepath.Join(meta, "checkpoint", "meta.json"))
		if err != nil {
			continue
		}
		var m struct{ Distinct int64 }
		if json.Unmarshal(raw, &m) == nil {
			at = m.Distinct
		}
	}
	if err := c.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the run was not killed: %v", err)
	}
	got := run("-recover", meta, "-checkpoint", "100ms")
	if !got.Recovered || got.Result != want.Result || got.Distinct != want.Distinct || got.Generated != want.Generated || got.Depth != want.Depth {
		t.Fatalf("recovered: %s %d distinct %d generated depth %d (recovered %v); uninterrupted: %s %d %d %d",
			got.Result, got.Distinct, got.Generated, got.Depth, got.Recovered, want.Result, want.Distinct, want.Generated, want.Depth)
	}
	t.Logf("killed with a checkpoint of %d of %d states; recovered: %d distinct, %d generated", at, want.Distinct, got.Distinct, got.Generated)
}

// TestParseSize: -memory, -fpmem and -queuemem sizes, and -fpmem's
// fraction of -memory.
func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		text string
		of   int64
		want int64
	}{{"", 0, 0}, {"512MiB", 0, 512 << 20}, {"2GiB", 0, 2 << 30}, {"1.5GB", 0, 1500000000}, {"4096", 0, 4096},
		{"0.25", 4 << 30, 1 << 30}, {"64KiB", 1 << 30, 64 << 10}} {
		if got, err := parseSize(c.text, c.of); err != nil || got != c.want {
			t.Errorf("parseSize(%q, %d) = %d, %v; want %d", c.text, c.of, got, err, c.want)
		}
	}
	for _, bad := range []string{"lots", "-1GiB", "GiB"} {
		if _, err := parseSize(bad, 1<<30); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// TestCheckTerminated sends SIGTERM (as timeout, systemd or a container's
// stop do) to a run that keeps its trace and queue in a temporary
// directory (-queuemem): it ends as Ctrl-C ends it, with the counts so
// far and the CPU profile written, and leaves no temporary directory
// behind.
func TestCheckTerminated(t *testing.T) {
	dir, bin, spec := gridModel(t, "CONSTANT N = 3000\nINIT Init\nNEXT Next\n")
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "cpu.prof")
	c := exec.Command(bin, "check", "-json", "-progress", "0", "-queuemem", "64KiB", "-cpuprofile", prof, spec)
	c.Env = append(os.Environ(), "TMPDIR="+tmp)
	var out strings.Builder
	c.Stdout = &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	// wait for the run's temporary directory to hold a trace of 100,000
	// states
	for written := false; !written; {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before its trace file grew\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		traces, _ := filepath.Glob(filepath.Join(tmp, "verimeter-check-*", "trace.bin"))
		if len(traces) == 1 {
			st, err := os.Stat(traces[0])
			written = err == nil && st.Size() > 100000*14
		}
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatal("still running 30 s after SIGTERM")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInternal {
		t.Fatalf("exit %v, want %d as after Ctrl-C\n%s", err, exitInternal, out.String())
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil || rep.Distinct == 0 {
		t.Fatalf("report %+v, %v\n%s", rep, err, out.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary directory: %v", left)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("CPU profile: %v, %v", st, err)
	}
}
