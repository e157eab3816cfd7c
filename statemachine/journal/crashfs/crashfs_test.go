package crashfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestReplayMaterialisesEveryCrashState: a synced write, an unsynced one
// and a rename. Each prefix lands whole; the unsynced write is torn at
// each cut, zero-filled, and dropped where something follows it; the
// synced write is never torn once synced; the rename may be lost.
func TestReplayMaterialisesEveryCrashState(t *testing.T) {
	m := New()
	m.Record()
	initial := m.Snapshot()
	f, _ := m.OpenFile("/d/a", os.O_RDWR|os.O_CREATE, 0)
	f.WriteAt([]byte("synced"), 0)
	f.Sync()
	f.WriteAt([]byte("-unsynced-record-of-20"), 6)
	m.Rename("/d/a", "/d/b")
	ops := m.Ops()
	if len(ops) != 5 {
		t.Fatalf("recorded %v", ops)
	}
	seen := map[string]int{}
	res := Replay(initial, ops, func(fs *MemFS, k int) error {
		b, errA := fs.ReadFile("/d/a")
		if k == 5 {
			if bb, errB := fs.ReadFile("/d/b"); errB == nil {
				b = bb
			} else if errA != nil {
				return errors.New("neither name holds the file")
			}
		}
		if k >= 3 && !strings.HasPrefix(string(b), "synced") {
			return errors.New("a synced write was lost")
		}
		seen[string(b)]++
		return nil
	})
	// 6 prefixes. Before its fsync (prefix 2) the first write (6 bytes) is
	// torn at 1, 3 and 5 bytes and zero-filled; the second (22 bytes) is
	// the last unsynced one in prefixes 4 and 5: 6 cuts and a zero fill
	// each, dropped only in 5, where the rename follows it; and in 5 the
	// rename, which no directory fsync follows, may not have landed.
	if res.Points != 6 || res.Torn != 18 || res.Dropped != 2 || res.Failures != 0 {
		t.Fatalf("%+v", res)
	}
	if seen["synced-"] == 0 || seen["synced"+strings.Repeat("\x00", 22)] == 0 || seen["synced-unsynced-record-of-2"] == 0 {
		t.Fatalf("states: %v", seen)
	}
	if res.Line("x") != "crashpoints: role=x points=6 torn=18 dropped=2 failures=0" {
		t.Fatal(res.Line("x"))
	}
}

// TestFailLandsHalfAWrite: a write the disk refuses lands half, as a full
// disk takes what fits; the error carries the cause.
func TestFailLandsHalfAWrite(t *testing.T) {
	m := New()
	f, _ := m.OpenFile("/a", os.O_RDWR|os.O_CREATE, 0)
	m.Fail = func(k OpKind, _ string) error {
		if k == OpWrite {
			return syscall.ENOSPC
		}
		return nil
	}
	n, err := f.WriteAt([]byte("abcd"), 0)
	if n != 2 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("%d %v", n, err)
	}
	if b, _ := m.ReadFile("/a"); string(b) != "ab" {
		t.Fatalf("%q", b)
	}
}

// fakeTB records what Report asks of a test.
type fakeTB struct{ errors, fatals []string }

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Error(args ...any)   { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

// TestReport: each failing state is an error of the test, and too few
// crash points fail it; a full result with none passes.
func TestReport(t *testing.T) {
	var bad fakeTB
	Result{Points: 3, Failures: 1, Failed: []string{"state 2: lost"}}.Report(&bad, "x", nil, 4)
	if len(bad.errors) != 1 || len(bad.fatals) != 1 {
		t.Fatalf("errors %q, fatals %q", bad.errors, bad.fatals)
	}
	var good fakeTB
	Result{Points: 4}.Report(&good, "x", nil, 4)
	if len(good.errors)+len(good.fatals) != 0 {
		t.Fatalf("errors %q, fatals %q", good.errors, good.fatals)
	}
}
