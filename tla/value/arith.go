package value

import (
	"fmt"
	"math"
)

// Integer arithmetic of the Naturals and Integers modules on TLC's 32-bit
// integers: every result outside [-2^31, 2^31-1] is an error wrapping ErrOverflow.

func fit(op string, a, b int32, r int64) (Value, error) {
	if r < math.MinInt32 || r > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d %s %d", ErrOverflow, a, op, b)
	}
	return Int(int32(r)), nil
}

func ints(op string, x, y Value) (int32, int32, error) {
	a, err := asInt(op, x)
	if err != nil {
		return 0, 0, err
	}
	b, err := asInt(op, y)
	return a, b, err
}

// Add is x + y.
func Add(x, y Value) (Value, error) {
	a, b, err := ints("+", x, y)
	if err != nil {
		return nil, err
	}
	return fit("+", a, b, int64(a)+int64(b))
}

// Sub is x - y.
func Sub(x, y Value) (Value, error) {
	a, b, err := ints("-", x, y)
	if err != nil {
		return nil, err
	}
	return fit("-", a, b, int64(a)-int64(b))
}

// Mul is x * y.
func Mul(x, y Value) (Value, error) {
	a, b, err := ints("*", x, y)
	if err != nil {
		return nil, err
	}
	return fit("*", a, b, int64(a)*int64(b))
}

// Neg is -x.
func Neg(x Value) (Value, error) {
	a, err := asInt("-", x)
	if err != nil {
		return nil, err
	}
	return fit("-", 0, a, -int64(a))
}

// Div is x \div y: floor division (rounds towards negative infinity, as
// TLC's Integers does); division by zero is an error wrapping ErrDomain.
func Div(x, y Value) (Value, error) {
	a, b, err := ints("\\div", x, y)
	if err != nil {
		return nil, err
	}
	if b == 0 {
		return nil, fmt.Errorf("%w: %d \\div 0", ErrDomain, a)
	}
	q := int64(a) / int64(b)
	if (int64(a)%int64(b) != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return fit("\\div", a, b, q)
}

// Mod is x % y for y > 0, always in 0..y-1 (TLC refuses y <= 0).
func Mod(x, y Value) (Value, error) {
	a, b, err := ints("%", x, y)
	if err != nil {
		return nil, err
	}
	if b <= 0 {
		return nil, fmt.Errorf("%w: %d %% %d: the divisor must be positive", ErrDomain, a, b)
	}
	r := int64(a) % int64(b)
	if r < 0 {
		r += int64(b)
	}
	return Int(int32(r)), nil
}

// Pow is x^y for y >= 0 (0^0 = 1); negative exponents are an error.
func Pow(x, y Value) (Value, error) {
	a, b, err := ints("^", x, y)
	if err != nil {
		return nil, err
	}
	if b < 0 {
		return nil, fmt.Errorf("%w: %d^%d: negative exponent", ErrDomain, a, b)
	}
	r := int64(1)
	for i := int32(0); i < b; i++ {
		r *= int64(a)
		if r < math.MinInt32 || r > math.MaxInt32 {
			return nil, fmt.Errorf("%w: %d^%d", ErrOverflow, a, b)
		}
		if r == 0 || r == 1 && a == 1 {
			break
		}
	}
	return Int(int32(r)), nil
}

// Less is x < y on integers.
func Less(x, y Value) (bool, error) {
	a, b, err := ints("<", x, y)
	return a < b, err
}
