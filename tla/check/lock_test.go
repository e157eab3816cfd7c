//go:build unix

package check

import (
	"context"
	"errors"
	"testing"
)

// TestRunDirLocked checks that a run refuses a directory another run is
// using, with ErrInUse and no count, whether it starts there or recovers
// from its checkpoint, and takes it once the other run let go of it.
func TestRunDirLocked(t *testing.T) {
	dir := t.TempDir()
	want, err := Run(context.Background(), grid(60, false), Options{MetaDir: dir, Checkpoint: 1})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := lockDir(dir) // another run, still going
	if err != nil {
		t.Fatal(err)
	}
	for _, recover := range []bool{false, true} {
		res, err := Run(context.Background(), grid(60, false), Options{MetaDir: dir, Checkpoint: 1, Recover: recover})
		if !errors.Is(err, ErrInUse) || !errors.Is(err, ErrDisk) || res.Verdict != EvalError || res.Distinct != 0 {
			t.Errorf("recover %v: %v, %s, %d distinct; want ErrInUse, no states", recover, err, res.Verdict, res.Distinct)
		}
	}
	unlock()
	got, err := Run(context.Background(), grid(60, false), Options{MetaDir: dir, Recover: true})
	if err != nil || got.Distinct != want.Distinct {
		t.Errorf("recovered once the directory was free: %v, %d distinct, want %d", err, got.Distinct, want.Distinct)
	}
}
