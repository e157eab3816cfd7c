package eval

import (
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestUserDefinedInfixSymbols: ||, ??, !! and <: are infix symbols a
// module may define, as SANY reads them. TLC on the same files: success,
// 22 states generated, 21 distinct.
func TestUserDefinedInfixSymbols(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Integers
VARIABLE v
a || b == a + b
a ?? b == a * b
a !! b == a - b
a <: b == a
a ## b == b
Init == v = (1 || 2) + (2 ?? 3) + (5 !! 1) + (7 <: 8) + (1 ## 2)
Next == v' = (v || 1) % 20
====
`
	runFiles(t, "user-defined infix symbols", map[string]string{"Spec.tla": spec, "Spec.cfg": "INIT Init\nNEXT Next\n"},
		"Spec.cfg", check.Success, 21, nil)
}
