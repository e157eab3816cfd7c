package value

import (
	"errors"
	"fmt"
)

// Kind classifies a value for comparison: values of different kinds are
// incomparable (an error in TLC) except model values, which are below everything.
type Kind uint8

// The kinds, in the order TLC ranks them where a rank matters.
const (
	KindModel Kind = iota
	KindBool
	KindInt
	KindString
	KindSet
	KindFunc
)

func (k Kind) String() string {
	switch k {
	case KindModel:
		return "model value"
	case KindBool:
		return "boolean"
	case KindInt:
		return "integer"
	case KindString:
		return "string"
	case KindSet:
		return "set"
	case KindFunc:
		return "function"
	}
	return "unknown"
}

// Value is one immutable TLA+ value. Hash is canonical: values equal by Equal
// have equal hashes whatever their representation (a record and the function
// with the same string domain, a tuple and the function on 1..n, a..b and the
// enumerated set).
type Value interface {
	Kind() Kind
	Hash() uint64
	// String prints the value in TLC's format (as TLC prints traces).
	String() string
}

// Errors of evaluation on values; every error returned by this package wraps
// one of them so that callers can tell the class with errors.Is.
var (
	// ErrIncomparable: TLC refuses to compare values of different kinds
	// (e.g. 1 = "a") or a typed model value with a value of another type.
	ErrIncomparable = errors.New("value: incomparable values")
	// ErrOverflow: TLC's integers are 32-bit; leaving the range is an error.
	ErrOverflow = errors.New("value: integer overflow")
	// ErrDomain: an operator applied outside its domain (division by zero,
	// f[x] with x outside DOMAIN f, Head(<<>>)).
	ErrDomain = errors.New("value: argument outside the domain")
	// ErrType: an operator applied to a value of the wrong kind.
	ErrType = errors.New("value: wrong kind of value")
	// ErrInfinite: enumeration of an infinite set (Nat, Int, STRING, Seq(S)).
	ErrInfinite = errors.New("value: set is infinite")
	// ErrTooLarge: an enumeration larger than MaxEnumerate.
	ErrTooLarge = errors.New("value: set too large to enumerate")
)

// MaxEnumerate caps the size of any set this package enumerates, so that
// a mistaken SUBSET of a large set fails instead of exhausting memory.
const MaxEnumerate = 1 << 26

func incomparable(a, b Value) error {
	return fmt.Errorf("%w: attempted to compare %s %s with %s %s", ErrIncomparable, a.Kind(), a, b.Kind(), b)
}

func typeErr(op string, want string, v Value) error {
	return fmt.Errorf("%w: %s expects %s, got %s %s", ErrType, op, want, v.Kind(), v)
}
