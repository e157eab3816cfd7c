package eval

import (
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// BenchmarkNext measures the next-state relation alone, the part of a
// check that compiled actions decide: the successors of the first 20,000
// states of a model, found breadth-first, without fingerprints, the
// claim table or the frontier. It is how a change to the evaluator is
// measured on a noisy machine: short, repeatable runs of the same states
// (go test -bench Next -count 10, two builds alternating).
func BenchmarkNext(b *testing.B) {
	for _, md := range []struct{ name, dir, spec, cfg string }{
		{"PaxosCommit", "transaction_commit", "PaxosCommit.tla", "PaxosCommit.cfg"},
		{"MCLamportMutex", "lamport_mutex", "MCLamportMutex.tla", "MCLamportMutex.cfg"},
	} {
		b.Run(md.name, func(b *testing.B) {
			dir := filepath.Join(conformanceDir(b), md.dir)
			m, err := LoadModel(filepath.Join(dir, md.spec), filepath.Join(dir, md.cfg))
			if err != nil {
				b.Fatal(err)
			}
			states := firstStates(b, m, 20000)
			count := func(check.State, int) error { return nil }
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, s := range states {
					if err := m.NextInto(s, count); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(states)), "ns/state")
		})
	}
}

// firstStates returns up to n distinct states of m, breadth-first.
func firstStates(b *testing.B, m *Machine, n int) []check.State {
	seen := map[uint64]bool{}
	var out []check.State
	add := func(s check.State) {
		h := uint64(0)
		for _, v := range s {
			h = h*0x9e3779b97f4a7c15 + v.Hash()
		}
		if len(out) < n && !seen[h] {
			seen[h] = true
			out = append(out, append(check.State(nil), s...))
		}
	}
	if err := m.Init(func(s check.State) error { add(s); return nil }); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(out) && len(out) < n; i++ {
		if err := m.NextInto(out[i], func(t check.State, _ int) error { add(t); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	return out
}
