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
	made    [consSlots]ConsEntry
	scans   [scanSlots]ScanEntry
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

// ConsEntry is a value a constructor made from atoms, as its worker
// remembers it (WorkerMemo.Cons): the constructor's site and the atoms.
type ConsEntry struct {
	site unsafe.Pointer
	n    int
	args [maxConsArgs]Value
	v    Value
}

// A WorkerMemo remembers consSlots values made from up to maxConsArgs
// atoms, direct-mapped by the site and the atoms' hashes.
const (
	consBits    = 8
	consSlots   = 1 << consBits
	maxConsArgs = 6
)

// Cons looks up the value the constructor at site (an address standing
// for it) made before from args: {p} and [type |-> "req", clock |-> c]
// are made again and again from a few integers and strings, and the one
// made first serves every state (and the encoder's, decoder's and
// membership memos find it by its address) instead of a new allocation
// each time, which with two workers costs both. It returns the value, or
// nil and the entry to Keep the value made in; (nil, nil) where args are
// not all atoms (integers, strings, model values, booleans) or too many,
// or m is nil.
func (m *WorkerMemo) Cons(site unsafe.Pointer, args []Value) (Value, *ConsEntry) {
	if m == nil {
		return nil, nil
	}
	i, ok := consSlot(site, args)
	if !ok {
		return nil, nil
	}
	e := &m.made[i]
	if e.site == site && e.n == len(args) {
		hit := true
		for i, a := range args {
			if e.args[i] != a {
				hit = false
				break
			}
		}
		if hit {
			return e.v, nil
		}
	}
	return nil, e
}

// consSlot is the slot of site's value made from args; false where args
// are not all atoms or too many.
func consSlot(site unsafe.Pointer, args []Value) (uint64, bool) {
	if len(args) > maxConsArgs {
		return 0, false
	}
	h := addr(site)
	for _, a := range args {
		switch a.(type) {
		case Int, Str, Model, Bool:
		default:
			return 0, false
		}
		h = h*0x100000001b3 + a.Hash()
	}
	return addrSlot(h, consBits), true
}

// Keep remembers v, made at site from args, in e (from Cons).
func (e *ConsEntry) Keep(site unsafe.Pointer, args []Value, v Value) {
	e.site, e.n, e.v = site, len(args), v
	copy(e.args[:], args)
	clear(e.args[len(args):])
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

// ScanEntry is the positions of the elements of a set that a scan keeps
// (WorkerMemo.Scan): those of the messages of one type, say, in a scan
// \E m \in msgs : m.type = "phase1b" /\ ..., which a model's actions make
// of the same set again and again (for each acceptor, each ballot, each
// majority) and which skips most of the set's elements.
type ScanEntry struct {
	site unsafe.Pointer
	set  *Set
	pos  []int32
	busy bool // a scan is going over pos (Hold)
}

// A WorkerMemo remembers scanSlots scans, direct-mapped by the site and
// the set's addresses.
const (
	scanBits  = 6
	scanSlots = 1 << scanBits
)

// Scan returns the entry of the scan at site (an address standing for it
// and for a test of the elements that depends on nothing but them) of s,
// and whether it holds the positions that scan kept before; a nil entry
// where m is nil or the entry's slot is held by a scan going on (a scan
// nested in its body).
func (m *WorkerMemo) Scan(site unsafe.Pointer, s *Set) (*ScanEntry, bool) {
	if m == nil {
		return nil, false
	}
	e := &m.scans[addrSlot(addr(site)^addr(unsafe.Pointer(s))>>3, scanBits)]
	if e.busy {
		return nil, false
	}
	return e, e.site == site && e.set == s
}

// Start empties e for the positions the scan at site keeps of s, which
// Add appends in increasing order.
func (e *ScanEntry) Start(site unsafe.Pointer, s *Set) {
	e.site, e.set, e.pos = site, s, e.pos[:0]
}

// Add appends position j.
func (e *ScanEntry) Add(j int) { e.pos = append(e.pos, int32(j)) }

// Hold returns the positions and marks e as in use until Release: a scan
// nested in the body of the one going over them finds the slot taken
// (Scan) and scans the whole set instead of writing over them.
func (e *ScanEntry) Hold() []int32 {
	e.busy = true
	return e.pos
}

// Release ends Hold.
func (e *ScanEntry) Release() { e.busy = false }
