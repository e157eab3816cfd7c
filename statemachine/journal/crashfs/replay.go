package crashfs

import (
	"fmt"
	"os"
	"path"
	"strings"
)

// Result counts what Replay did.
type Result struct {
	Points   int // crash points: prefixes of the operations, each materialised with every write landed
	Torn     int // variants with the last unsynced write cut short or zero-filled
	Dropped  int // variants with the last unsynced write, or a rename no directory fsync followed, lost while later operations landed
	Failures int
	// Failed describes the first few failing states.
	Failed []string
}

// Line is the result as `make crashpoints` collects it.
func (r Result) Line(role string) string {
	return fmt.Sprintf("crashpoints: role=%s points=%d torn=%d dropped=%d failures=%d", role, r.Points, r.Torn, r.Dropped, r.Failures)
}

// TB is what Report needs of a *testing.T.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Error(args ...any)
	Fatalf(format string, args ...any)
}

// Report is how a crash-point test ends: its Line on standard output for
// `make crashpoints`, the line and the operations replayed in the test's
// log, each failing state an error, and fewer than minPoints crash points
// a failure (the test did not reach the writes it means to cut).
func (r Result) Report(t TB, role string, ops []Op, minPoints int) {
	t.Helper()
	fmt.Println(r.Line(role))
	t.Logf("%s (%s)", r.Line(role), Summary(ops))
	for _, f := range r.Failed {
		t.Error(f)
	}
	if r.Points < minPoints {
		t.Fatalf("only %d crash points", r.Points)
	}
}

// Full reports whether the full crash-point set was asked for
// (CRASHPOINTS=full, as `make crashpoints` does); tests run a short set
// otherwise.
func Full() bool { return os.Getenv("CRASHPOINTS") == "full" }

// tornCuts are the byte counts of a torn write that land (fewer than the
// whole write): inside the record header, at its end, half way, and one
// byte short.
func tornCuts(n int) []int {
	var out []int
	seen := map[int]bool{}
	for _, c := range []int{1, 7, 16, 17, n / 2, n - 1} {
		if c > 0 && c < n && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// Replay materialises, for every prefix ops[:k] (k from 0 to len(ops)),
// the filesystem a crash right after them leaves, starting from initial;
// and, where the prefix holds a write not yet made durable (no later fsync
// of its file and no later write to it), the variants where that write is
// torn (cut at several offsets, or zero-filled) or dropped. check restarts
// the role from each state (the crash came after ops[:k]) and returns why
// it is wrong, or nil.
func Replay(initial Snapshot, ops []Op, check func(fsys *MemFS, k int) error) Result {
	var r Result
	var k int
	run := func(fsys *MemFS, desc string) {
		if err := check(fsys, k); err != nil {
			r.Failures++
			if len(r.Failed) < 5 {
				r.Failed = append(r.Failed, fmt.Sprintf("%s: %v", desc, err))
			}
		}
	}
	for k = 0; k <= len(ops); k++ {
		r.Points++
		run(materialise(initial, ops[:k], -1, nil, -1), fmt.Sprintf("crash after %d of %d operations", k, len(ops)))
		if rn := lastUnsyncedRename(ops[:k]); rn >= 0 {
			r.Dropped++
			run(materialise(initial, ops[:k], -1, nil, rn), fmt.Sprintf("crash after %d of %d operations, %s not durable", k, len(ops), ops[rn]))
		}
		w := lastUnsynced(ops[:k])
		if w < 0 {
			continue
		}
		data := ops[w].Data
		for _, c := range tornCuts(len(data)) {
			r.Torn++
			run(materialise(initial, ops[:k], w, data[:c], -1), fmt.Sprintf("crash after %d of %d operations, %s torn after %d bytes", k, len(ops), ops[w], c))
		}
		r.Torn++
		run(materialise(initial, ops[:k], w, make([]byte, len(data)), -1), fmt.Sprintf("crash after %d of %d operations, %s zero-filled", k, len(ops), ops[w]))
		if w < k-1 {
			r.Dropped++
			run(materialise(initial, ops[:k], w, []byte{}, -1), fmt.Sprintf("crash after %d of %d operations, %s dropped", k, len(ops), ops[w]))
		}
	}
	return r
}

// lastUnsynced is the index of the last write in ops that no later fsync of
// its file (or later write to it) follows, or -1.
func lastUnsynced(ops []Op) int {
	synced := map[int]bool{}
	for i := len(ops) - 1; i >= 0; i-- {
		switch ops[i].Kind {
		case OpSync:
			synced[ops[i].Ino] = true
		case OpWrite:
			if !synced[ops[i].Ino] {
				return i
			}
			synced[ops[i].Ino] = true // an earlier write to it is not the last one
		}
	}
	return -1
}

// lastUnsyncedRename is the index of the last rename in ops that no later
// fsync of its target's directory follows, or -1: until that fsync the
// directory may still name the old file after a crash.
func lastUnsyncedRename(ops []Op) int {
	synced := map[string]bool{}
	for i := len(ops) - 1; i >= 0; i-- {
		switch ops[i].Kind {
		case OpSyncDir:
			synced[ops[i].Name] = true
		case OpRename:
			if !synced[path.Dir(ops[i].NewName)] {
				return i
			}
		}
	}
	return -1
}

// materialise applies ops to initial; the write at index w (if w >= 0)
// lands as repl instead: a shorter slice is a torn write, an empty one a
// dropped write, zeros an extension the data never reached. The rename at
// index skip (if skip >= 0) does not land; the writes after it still reach
// the renamed file, which then has no name.
func materialise(initial Snapshot, ops []Op, w int, repl []byte, skip int) *MemFS {
	m := FromSnapshot(initial)
	for i, o := range ops {
		switch o.Kind {
		case OpCreate:
			m.names[o.Name] = o.Ino
			m.inos[o.Ino] = nil
			m.next = max(m.next, o.Ino)
		case OpWrite:
			data := o.Data
			if i == w {
				data = repl
			}
			d := m.inos[o.Ino]
			if end := o.Off + int64(len(data)); end > int64(len(d)) {
				d = append(d, make([]byte, end-int64(len(d)))...)
			}
			copy(d[o.Off:], data)
			m.inos[o.Ino] = d
		case OpTruncate:
			d := m.inos[o.Ino]
			if o.Size <= int64(len(d)) {
				d = d[:o.Size]
			} else {
				d = append(d, make([]byte, o.Size-int64(len(d)))...)
			}
			m.inos[o.Ino] = d
		case OpRename:
			if i == skip {
				continue
			}
			if i, ok := m.names[o.Name]; ok {
				delete(m.names, o.Name)
				m.names[o.NewName] = i
			}
		case OpRemove:
			delete(m.names, o.Name)
		}
	}
	// Inodes no name reaches are gone.
	live := map[int]bool{}
	for _, i := range m.names {
		live[i] = true
	}
	for i := range m.inos {
		if !live[i] {
			delete(m.inos, i)
		}
	}
	return m
}

// Summary is a short description of ops, for a failing test's log.
func Summary(ops []Op) string {
	var b strings.Builder
	n := map[OpKind]int{}
	for _, o := range ops {
		n[o.Kind]++
	}
	for k := OpCreate; k <= OpSyncDir; k++ {
		if n[k] > 0 {
			fmt.Fprintf(&b, "%s %d ", k, n[k])
		}
	}
	return strings.TrimSpace(b.String())
}
