package check

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

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

// collisionOdds fills in TLC's two estimates of the probability that a
// fingerprint collision merged two states. The observed one needs the
// stored fingerprints sorted: they are compacted and sorted in place, which
// ends the table's use, so it runs last. Fingerprints are rotated so that
// the table's index bits come first: the table is then nearly in order and
// the sort nearly linear (a rotation keeps the distances' distribution).
func (c *checker) collisionOdds() {
	if c.exact != nil || c.res.Distinct == 0 {
		return
	}
	d, g := float64(c.res.Distinct), float64(c.res.Generated)
	c.res.CollisionCalculated = d * (g - d) / math.Exp2(64)
	if c.claims != nil {
		rot := 64 - bits.Len64(c.claims.mask)
		n := 0
		for _, sl := range c.claims.slots {
			if sl.fp != 0 && ^sl.key == keyStored {
				c.claims.slots[n].fp = bits.RotateLeft64(sl.fp, rot)
				n++
			}
		}
		slots := c.claims.slots[:n]
		slices.SortFunc(slots, func(a, b claimSlot) int { return cmp.Compare(a.fp, b.fp) })
		c.res.CollisionObserved = observed(len(slots), func(i int) uint64 { return slots[i].fp })
		return
	}
	rot := 64 - bits.Len64(c.seen.mask)
	n := 0
	for _, fp := range c.seen.slots {
		if fp != 0 {
			c.seen.slots[n] = bits.RotateLeft64(fp, rot)
			n++
		}
	}
	fps := c.seen.slots[:n]
	slices.Sort(fps)
	c.res.CollisionObserved = observed(n, func(i int) uint64 { return fps[i] })
}

// observed is 1 / the smallest distance between n sorted values (0 for
// fewer than two).
func observed(n int, at func(int) uint64) float64 {
	if n < 2 {
		return 0
	}
	minDist := ^uint64(0)
	for i := 1; i < n; i++ {
		if d := at(i) - at(i-1); d < minDist {
			minDist = d
		}
	}
	if minDist == 0 {
		return 1
	}
	return 1 / float64(minDist)
}
