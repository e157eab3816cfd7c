package value

import "unsafe"

// WorkerMemo is one worker's memory of the sets it asks about again and
// again (a type invariant's [RM -> ...] and SUBSET Message, asked of every
// state): the functions it found in them, by address, and
// comparableRecord's answers. The sets keep such memories of their own
// (memo, setIndex), for callers without a WorkerMemo; those are shared by
// the workers and written on every miss, and two workers writing them in
// turn make each other read them from the other core's cache. A
// WorkerMemo is written by its worker only. Its entries keep their sets
// and functions alive, so an address names one value while remembered.
type WorkerMemo struct {
	kinds   [memoKinds]memoKind
	members [memoMembers]memberEntry
}

// A WorkerMemo remembers memoMembers functions found, direct-mapped by
// memoMemberBits bits of the set's and the function's addresses.
const (
	memoMemberBits = 10
	memoMembers    = 1 << memoMemberBits
)

// memberEntry is a function f found in the set at address set.
type memberEntry struct {
	set unsafe.Pointer
	f   *Func
}

func (m *WorkerMemo) member(set unsafe.Pointer, f *Func) *memberEntry {
	return &m.members[addrSlot(addr(unsafe.Pointer(f))^addr(set)>>3, memoMemberBits)]
}

// has reports whether f was found in the set at set.
func (m *WorkerMemo) has(set unsafe.Pointer, f *Func) bool {
	e := m.member(set, f)
	return e.f == f && e.set == set
}

// add remembers that f is in the set at set, unless f is made in an arena,
// which reuses its memory.
func (m *WorkerMemo) add(set unsafe.Pointer, f *Func) {
	if !f.arena {
		*m.member(set, f) = memberEntry{set, f}
	}
}

// Memo is the memo of the worker that owns the arena (nil for a nil
// Arena).
func (a *Arena) Memo() *WorkerMemo {
	if a == nil {
		return nil
	}
	return &a.memo
}

// containsIn is s.Contains(x) for a worker with memo m (nil: none): the
// sets that remember what they found, or hold sets that do, use m.
func containsIn(s SetValue, x Value, m *WorkerMemo) (bool, error) {
	if m == nil {
		return s.Contains(x)
	}
	switch t := s.(type) {
	case *Set:
		return t.containsMemo(x, m)
	case *FuncSet:
		return t.containsMemo(x, m)
	case *RecordSet:
		return t.containsMemo(x, m)
	case *SeqSet:
		return t.containsMemo(x, m)
	case *Subset:
		return t.containsMemo(x, m)
	case *Product:
		return t.containsMemo(x, m)
	case *LazyUnion:
		return t.containsMemo(x, m)
	}
	return s.Contains(x)
}

// InMemo is In for a worker with memo m (nil: none).
func InMemo(x, s Value, m *WorkerMemo) (bool, error) {
	set, err := asSet("\\in", s)
	if err != nil {
		return false, err
	}
	return containsIn(set, x, m)
}

// IsSubsetMemo is IsSubset for a worker with memo m (nil: none).
func IsSubsetMemo(a, b SetValue, m *WorkerMemo) (bool, error) {
	ea, err := a.Enumerate()
	if err != nil {
		return false, err
	}
	for _, x := range ea.elems {
		in, err := containsIn(b, x, m)
		if err != nil || !in {
			return false, err
		}
	}
	return true, nil
}
