package value

// Hashing: every value hashes to 64 bits by mixing (not XOR) its parts in
// canonical order, with a distinct seed per kind, so that permutations and
// differently nested values do not collide systematically.

const (
	seedBool   = 0x9e3779b97f4a7c15
	seedInt    = 0xbf58476d1ce4e5b9
	seedString = 0x94d049bb133111eb
	seedModel  = 0x2545f4914f6cdd1d
	seedSet    = 0xd6e8feb86659fd93
	seedFunc   = 0xa0761d6478bd642f
)

// mix64 is the SplitMix64 finalizer: a bijection with full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Mix combines a running hash with the next part; order matters.
func Mix(h, part uint64) uint64 {
	return mix64(h*0x100000001b3 + part + 0x9e3779b97f4a7c15)
}

func hashInt(i int32) uint64 { return mix64(uint64(int64(i)) ^ seedInt) }

func hashString(s string) uint64 {
	// FNV-1a then mixed; computed once per interned string.
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h ^ seedString)
}

// hashSetElems hashes a finite set from its elements: the sum of a mix of
// each element's hash (see setHash), so that adding an element to a set
// updates the hash instead of recomputing it.
func hashSetElems(n int, at func(int) uint64) uint64 {
	return setHash(n, setSum(n, at))
}

// setSum is the sum of the mixed hashes of a set's elements.
func setSum(n int, at func(int) uint64) uint64 {
	var sum uint64
	for i := 0; i < n; i++ {
		sum += elemPart(at(i))
	}
	return sum
}

// elemPart is an element's share of its set's sum.
func elemPart(h uint64) uint64 { return mix64(h ^ seedSet) }

// setHash is the hash of a set of n elements whose mixed hashes sum to sum.
func setHash(n int, sum uint64) uint64 {
	return mix64(uint64(seedSet) + uint64(n)*0x9e3779b97f4a7c15 + sum)
}
