package tlctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvKeepsTLCsTempFiles runs TLC with Env and finds the directory TLC
// leaves behind in the test's temporary directory named there, not in the
// system's.
func TestEnvKeepsTLCsTempFiles(t *testing.T) {
	tlc := Path(t)
	dir := t.TempDir()
	mod := "---- MODULE Tiny ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\nNext == x' = 1 - x\n====\n"
	if err := os.WriteFile(filepath.Join(dir, "Tiny.tla"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Tiny.cfg"), []byte("INIT Init\nNEXT Next\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := Env(t)
	var tmp string
	for _, kv := range env {
		if opts, ok := strings.CutPrefix(kv, "TLC_JAVA_OPTS="); ok {
			for _, o := range strings.Fields(opts) {
				if d, ok := strings.CutPrefix(o, "-Djava.io.tmpdir="); ok {
					tmp = d
				}
			}
		}
	}
	if tmp == "" {
		t.Fatalf("no java.io.tmpdir in TLC's environment")
	}
	cmd := exec.Command(tlc, "-workers", "1", "Tiny.tla")
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "2 distinct states found") {
		t.Fatalf("TLC: %v\n%s", err, out)
	}
	left, err := filepath.Glob(filepath.Join(tmp, "tlc-*"))
	if err != nil || len(left) == 0 {
		t.Errorf("TLC left nothing in %s (%v): its temporary files went elsewhere", tmp, err)
	}
}
