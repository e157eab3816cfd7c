package check

// FPSet is a compact set of 64-bit state fingerprints: open addressing with
// linear probing in one flat []uint64 (8 bytes a slot, no pointers for the
// garbage collector to scan). The checker inserts from one goroutine between
// levels and reads from many during a level, so it needs no locks: Go's memory
// model makes the writes of the merge phase visible to the workers started
// after it.
type FPSet struct {
	slots []uint64
	n     int
	mask  uint64
}

// NewFPSet returns a set sized for about hint fingerprints.
func NewFPSet(hint int) *FPSet {
	size := 1024
	for size*3/4 < hint {
		size <<= 1
	}
	return &FPSet{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// fpKey maps the fingerprint 0, which marks an empty slot, to another value.
func fpKey(fp uint64) uint64 {
	if fp == 0 {
		return 0x8000000000000001
	}
	return fp
}

// Contains reports whether fp was inserted.
func (s *FPSet) Contains(fp uint64) bool {
	fp = fpKey(fp)
	for i := fp & s.mask; ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case fp:
			return true
		case 0:
			return false
		}
	}
}

// Insert adds fp and reports whether it was new.
func (s *FPSet) Insert(fp uint64) bool {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	fp = fpKey(fp)
	for i := fp & s.mask; ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case fp:
			return false
		case 0:
			s.slots[i] = fp
			s.n++
			return true
		}
	}
}

// Len is the number of fingerprints in the set.
func (s *FPSet) Len() int { return s.n }

func (s *FPSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.mask = uint64(len(s.slots) - 1)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		for i := fp & s.mask; ; i = (i + 1) & s.mask {
			if s.slots[i] == 0 {
				s.slots[i] = fp
				break
			}
		}
	}
}
