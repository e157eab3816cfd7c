package check

import "github.com/verimeter/verimeter/tla/value"

// slabPool hands out a worker's slabs of one size and takes them all back
// at once, when nothing reads what they hold any more: the slabs of
// candidates (scratch.addCand) and of decoded states (scratch.decodeState)
// a chunk of the frontier filled are free once the chunk is merged (reuse,
// called as the next chunk begins). Made afresh for every chunk, they were
// a quarter of the bytes MCLamportMutex allocated; fresh memory costs page
// faults and collections, which slow the other worker too.
type slabPool[T any] struct {
	used, free [][]T
	made       int // slabs allocated (for tests)
}

// get returns an empty slab of capacity size, a free one if there is one.
// Every slab of the pool must have the same size.
func (p *slabPool[T]) get(size int) []T {
	s := takeFree(&p.free, size, &p.made)
	p.used = append(p.used, s)
	return s
}

// takeFree returns the last of the slices in free, taken out of it, or a
// new one of capacity size, counted in made (if not nil), where free is
// nil or empty.
func takeFree[T any](free *[][]T, size int, made *int) []T {
	if free != nil {
		if k := len(*free); k > 0 {
			s := (*free)[k-1]
			*free = (*free)[:k-1]
			return s
		}
	}
	if made != nil {
		*made++
	}
	s := make([]T, 0, size)
	value.TouchPages(s)
	return s
}

// growCapped returns s with room for one more element: itself, or a copy
// of twice its capacity, limit at most (len(s) < limit), so that a slice
// grown from a small capacity ends at limit exactly.
func growCapped[T any](s []T, limit int) []T {
	if len(s) < cap(s) {
		return s
	}
	grown := make([]T, len(s), min(2*cap(s), limit))
	value.TouchPages(grown)
	copy(grown, s)
	return grown
}

// reuse takes back every slab handed out, cleared so that a value it
// referenced can be collected (and a slab read after its reuse reads
// zeros). With poison (Options.ArenaPoison) no slab is handed out again,
// so that a reader that outlives its slab fails instead of reading
// another chunk's data.
func (p *slabPool[T]) reuse(poison bool) {
	for _, s := range p.used {
		clear(s[:cap(s)])
		if !poison {
			p.free = append(p.free, s[:0])
		}
	}
	clear(p.used)
	p.used = p.used[:0]
}

// encChunks are a worker's chunks of state encodings, arenaChunk bytes
// each, tagged with the round (the level expansion) that last wrote into
// them. The frontier states of a level are encoded while the level before
// it is expanded; once the level itself has been expanded, nothing reads
// those encodings any more (a spilled block or a checkpoint holds copies,
// read back into memory of its own), and their chunks are handed out
// again. Made afresh, they were a sixth of the bytes MCLamportMutex
// allocated.
type encChunks struct {
	round int // the current round: level expansions begun
	used  []encChunk
	free  [][]byte
	made  int // chunks of arenaChunk bytes allocated (for tests)
}

type encChunk struct {
	b     []byte
	round int // the last round that wrote into b
}

// poisonByte fills a chunk taken back under Options.ArenaPoison: no
// encoding begins with it, so a state decoded from it fails.
const poisonByte = 0xff

// get returns an empty chunk for encodings of at least n bytes; one
// larger than arenaChunk is the garbage collector's to free.
func (p *encChunks) get(n int) []byte {
	if n > arenaChunk {
		return make([]byte, 0, n)
	}
	b := takeFree(&p.free, arenaChunk, &p.made)
	p.used = append(p.used, encChunk{b: b, round: p.round})
	return b
}

// begin starts a round, the expansion of a level, in which the worker
// goes on writing into its current chunk (the last one handed out): the
// chunks last written two rounds before or earlier hold the encodings of
// levels expanded already and are free. With poison they are filled with
// poisonByte and never handed out again.
func (p *encChunks) begin(poison bool) {
	p.round++
	if k := len(p.used); k > 0 {
		p.used[k-1].round = p.round
	}
	keep := p.used[:0]
	for _, c := range p.used {
		if c.round > p.round-2 {
			keep = append(keep, c)
			continue
		}
		if poison {
			b := c.b[:cap(c.b)]
			for i := range b {
				b[i] = poisonByte
			}
			continue
		}
		p.free = append(p.free, c.b[:0])
	}
	clear(p.used[len(keep):])
	p.used = keep
}
