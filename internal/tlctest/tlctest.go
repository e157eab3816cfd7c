package tlctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Path returns TLC's script: $VERIMETER_TLC, else shared/tools/tlc/tlc
// beside the repository (the directory holding go.mod, found upwards from
// the test's directory). A missing TLC, or a missing java, fails the test
// with what to do: these tests are the evidence that we agree with TLC,
// and are never skipped.
func Path(t testing.TB) string {
	t.Helper()
	p := os.Getenv("VERIMETER_TLC")
	if p == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(filepath.Dir(root), "shared", "tools", "tlc", "tlc")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("TLC not found at %s (set VERIMETER_TLC): %v", abs, err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not installed: run make deps (installs openjdk-17-jre-headless): %v", err)
	}
	return abs
}

// Command is TLC's script (Path) run with args in dir, in Env's
// environment: how a test runs TLC.
func Command(t testing.TB, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(Path(t), args...)
	cmd.Dir, cmd.Env = dir, Env(t)
	return cmd
}

// Env is the environment to run TLC's script in: the test's own, with
// Java's temporary directory in a directory of the test (TLC leaves an
// empty tlc-NNN directory in it at every run, which in the system's /tmp
// would pile up by the thousand over the runs of the suite).
func Env(t testing.TB) []string {
	t.Helper()
	opts := "-Djava.io.tmpdir=" + t.TempDir()
	if o := os.Getenv("TLC_JAVA_OPTS"); o != "" {
		opts = o + " " + opts
	}
	return append(os.Environ(), "TLC_JAVA_OPTS="+opts)
}

// repoRoot is the nearest directory at or above the working directory
// that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", os.ErrNotExist
		}
		dir = up
	}
}
