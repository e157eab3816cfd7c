package value

import (
	"sort"
	"strconv"
	"strings"
)

// Canonical prints v in a form that does not depend on TLC's order of
// interning (sets sorted by their printed elements, record fields by name,
// strings quoted as Go does), so that a value of the spec and one written
// by a generated machine, which knows no interning order, compare as
// strings: the differential tests and trace validation use it. A set that
// cannot be enumerated prints as "?" and its TLC form.
func Canonical(v Value) string {
	switch x := v.(type) {
	case Int:
		return strconv.FormatInt(int64(x), 10)
	case Bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case Str:
		return strconv.Quote(x.Go())
	case SetValue:
		s, err := x.Enumerate()
		if err != nil {
			return "?" + v.String()
		}
		out := make([]string, 0, s.Len())
		for _, e := range s.Elems() {
			out = append(out, Canonical(e))
		}
		return CanonicalSet(out)
	case *Func:
		var parts []string
		if x.IsSeq() {
			for i := 0; i < x.Len(); i++ {
				parts = append(parts, Canonical(x.RangeAt(i)))
			}
			return "<<" + strings.Join(parts, ", ") + ">>"
		}
		for i := 0; i < x.Len(); i++ {
			k := x.DomainAt(i)
			if s, ok := k.(Str); ok {
				parts = append(parts, s.Go()+" |-> "+Canonical(x.RangeAt(i)))
			} else {
				parts = append(parts, Canonical(k)+" :> "+Canonical(x.RangeAt(i)))
			}
		}
		sort.Strings(parts)
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?" + v.String()
}

// CanonicalSet prints a set from its elements' canonical forms: sorted,
// duplicates dropped. It reorders es.
func CanonicalSet(es []string) string {
	sort.Strings(es)
	out := es[:0:0]
	for i, e := range es {
		if i == 0 || e != es[i-1] {
			out = append(out, e)
		}
	}
	return "{" + strings.Join(out, ", ") + "}"
}
