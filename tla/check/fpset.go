package check

import (
	"math"
	"math/bits"

	"github.com/verimeter/verimeter/tla/value"
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
	s := &FPSet{slots: make([]uint64, size), mask: uint64(size - 1)}
	value.TouchPages(s.slots)
	return s
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
	value.TouchPages(s.slots)
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
// fingerprint collision merged two states. The observed one is 1 / the
// smallest gap between two stored fingerprints in sorted order; it is
// found without sorting the table: with the fingerprints rotated so that
// the table's index bits come first (a rotation keeps the gaps'
// distribution), a cluster of occupied slots holds exactly the values of
// its home slots, so sorting each (small) cluster orders them all.
func (c *checker) collisionOdds() {
	if c.exact != nil || c.res.Distinct == 0 {
		return
	}
	d, g := float64(c.res.Distinct), float64(c.res.Generated)
	c.res.CollisionCalculated = d * (g - d) / math.Exp2(64)
	if t := c.claims; t != nil {
		if uint64(len(t.slots)) != t.mask+1 {
			return // a failed recovery dropped the table
		}
		gf := newGapFinder(t.mask)
		start := uint64(0)
		for i, sl := range t.slots {
			if sl.fp == 0 {
				start = uint64(i)
				break
			}
		}
		for k := uint64(0); k <= t.mask; k++ {
			sl := &t.slots[(start+k)&t.mask]
			switch {
			case sl.fp == 0:
				gf.flush()
			case ^sl.key == keyStored:
				gf.buf = append(gf.buf, bits.RotateLeft64(sl.fp, gf.rot))
			}
		}
		c.res.CollisionObserved = gf.result()
		return
	}
	if uint64(len(c.seen.slots)) != c.seen.mask+1 {
		return
	}
	gf := newGapFinder(c.seen.mask)
	start := uint64(0)
	for i, fp := range c.seen.slots {
		if fp == 0 {
			start = uint64(i)
			break
		}
	}
	for k := uint64(0); k <= c.seen.mask; k++ {
		if fp := c.seen.slots[(start+k)&c.seen.mask]; fp == 0 {
			gf.flush()
		} else {
			gf.buf = append(gf.buf, bits.RotateLeft64(fp, gf.rot))
		}
	}
	c.res.CollisionObserved = gf.result()
}

// gapFinder finds the smallest gap between the values of a linear-probing
// table's clusters, given in table order starting at an empty slot, each
// cluster sorted on its own (flush).
type gapFinder struct {
	rot    int
	buf    []uint64
	prev   uint64
	have   bool
	minGap uint64
}

func newGapFinder(mask uint64) *gapFinder {
	return &gapFinder{rot: 64 - bits.Len64(mask), minGap: ^uint64(0)}
}

// flush orders the cluster's values (a few: insertion sort) and takes
// their gaps; a value below the previous one is the wrap-around of the
// table's cyclic order, whose gap is not one.
func (g *gapFinder) flush() {
	b := g.buf
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	for _, v := range b {
		if g.have && v > g.prev && v-g.prev < g.minGap {
			g.minGap = v - g.prev
		}
		g.prev, g.have = v, true
	}
	g.buf = b[:0]
}

// result is 1 / the smallest gap (0 for fewer than two values).
func (g *gapFinder) result() float64 {
	g.flush()
	if g.minGap == ^uint64(0) {
		return 0
	}
	return 1 / float64(g.minGap)
}
