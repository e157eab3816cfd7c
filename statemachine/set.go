package statemachine

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
)

// SetCap is the capacity of every Set: a TLA+ set variable of a role becomes
// a sorted array of at most SetCap elements inside the state struct, so that
// a step copies the state and never allocates. A step that would grow a set
// beyond it fails with a *CapacityError and leaves the state unchanged.
const SetCap = 32

// Set is a finite set of at most SetCap elements, kept sorted by the
// comparison function that every method takes (generated code passes the
// same one for a given element type). The zero Set is empty. Elements past
// Len are always the zero value, so == and reflect.DeepEqual on sets (and on
// structs holding them) compare contents.
type Set[T any] struct {
	n int
	e [SetCap]T
}

// Len is the number of elements.
func (s *Set[T]) Len() int { return s.n }

// Elems returns the elements in ascending order; the slice aliases s.
func (s *Set[T]) Elems() []T { return s.e[:s.n] }

func (s *Set[T]) find(x T, c func(a, b T) int) (int, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c(s.e[m], x) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < s.n && c(s.e[lo], x) == 0
}

// Has reports whether x is in s.
func (s *Set[T]) Has(x T, c func(a, b T) int) bool {
	_, ok := s.find(x, c)
	return ok
}

// Insert adds x; it reports false, leaving s unchanged, when x is new and s is full.
func (s *Set[T]) Insert(x T, c func(a, b T) int) bool {
	i, ok := s.find(x, c)
	if ok {
		return true
	}
	if s.n == SetCap {
		return false
	}
	copy(s.e[i+1:s.n+1], s.e[i:s.n])
	s.e[i] = x
	s.n++
	return true
}

// Remove deletes x if present.
func (s *Set[T]) Remove(x T, c func(a, b T) int) {
	i, ok := s.find(x, c)
	if !ok {
		return
	}
	copy(s.e[i:s.n-1], s.e[i+1:s.n])
	var zero T
	s.e[s.n-1] = zero
	s.n--
}

// Clear empties s.
func (s *Set[T]) Clear() { *s = Set[T]{} }

// CompareBool orders FALSE before TRUE, as element order for sets of records
// with Boolean fields.
func CompareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// CompareInt is cmp.Compare on the generated integer type, as a plain
// function value (no instantiation at each call site).
func CompareInt(a, b int64) int { return cmp.Compare(a, b) }

// CompareString is cmp.Compare on strings.
func CompareString(a, b string) int { return cmp.Compare(a, b) }

// Add returns a+b and sets *overflow when the sum leaves int64: a counter
// that would wrap is a hard error, never a silent wrap.
func Add(overflow *bool, a, b int64) int64 {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		*overflow = true
	}
	return a + b
}

// Sub returns a-b and sets *overflow when the difference leaves int64.
func Sub(overflow *bool, a, b int64) int64 {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		*overflow = true
	}
	return a - b
}

// Mul returns a*b and sets *overflow when the product leaves int64.
func Mul(overflow *bool, a, b int64) int64 {
	if a != 0 && b != 0 {
		p := a * b
		if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
			*overflow = true
		}
		return p
	}
	return 0
}

// CapacityError reports a step refused because a set of the role's state
// is full (SetCap) or an integer would overflow: the protocol allows the
// step, the implementation's fixed-size state does not.
type CapacityError struct {
	Role   string
	Action string
	What   string // the variable that is full, or "integer overflow"
}

func (e *CapacityError) Error() string {
	return fmt.Sprintf("%s: action %s exceeds capacity: %s", e.Role, e.Action, e.What)
}

// Seq is a TLA+ sequence of at most SetCap elements, the generated type of
// Seq(T) variables (histories and logbooks). The zero Seq is <<>>; elements
// past Len are always the zero value.
type Seq[T any] struct {
	n int
	e [SetCap]T
}

// Len is Len(s).
func (s *Seq[T]) Len() int { return s.n }

// Elems returns the elements in order; the slice aliases s.
func (s *Seq[T]) Elems() []T { return s.e[:s.n] }

// Append is Append(s, x); it reports false, leaving s unchanged, when s is full.
func (s *Seq[T]) Append(x T) bool {
	if s.n == SetCap {
		return false
	}
	s.e[s.n] = x
	s.n++
	return true
}

// Clear makes s <<>>.
func (s *Seq[T]) Clear() { *s = Seq[T]{} }

// MarshalJSON writes s as a JSON array in ascending order, so that a trace
// line (Recorder) shows the set's elements rather than its fixed-size
// array; the receiver is a value so that sets inside a state passed by
// value are written the same way.
func (s Set[T]) MarshalJSON() ([]byte, error) { return json.Marshal(s.e[:s.n]) }

// MarshalJSON writes s as a JSON array in order, for the same reason as
// Set's.
func (s Seq[T]) MarshalJSON() ([]byte, error) { return json.Marshal(s.e[:s.n]) }
