package value

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/internal/tlctest"
)

// Names the differential test's values use. TLC orders strings by first
// sighting (its UniqueString table), so our table interns them in TLC's
// order: first those TLC's parser knows before it reads a module (the
// keyword SUBSET, the tokens << and >>), then the others in the order the
// module lists them (Strs) before any value. Model values likewise (the
// CONSTANTS line).
var (
	diffModels = []string{"ma", "mb", "mc"}
	diffFields = []string{"fa", "fb", "fc", "fd", "fe", "ff"}
	diffStrs   = []string{
		"SUBSET", "<<", ">>", "", "ab c", "x, y", "c]d", "e[f", "a |-> b", "(1 :> 2 @@ 3 :> 4)",
		"{}", "k :> v", `back\slash`, `quote"inside`,
		"a fairly long name here", "another string that is long enough to need a line of its own",
	}
)

// diffGen draws random values with this package's constructors.
type diffGen struct {
	r   *rand.Rand
	tab *Interner
	// quotes lets str draw the string with a '"' in it: TLC prints it as
	// \", which its pretty printer cannot parse, so that a value holding it
	// is printed on one line however long.
	quotes bool
}

// str draws one of diffStrs.
func (g *diffGen) str() Value {
	for {
		s := diffStrs[g.r.IntN(len(diffStrs))]
		if g.quotes || !strings.Contains(s, `"`) {
			return g.tab.String(s)
		}
	}
}

func (g *diffGen) scalar() Value {
	switch g.r.IntN(5) {
	case 0:
		return Int(int32(g.r.IntN(2000001) - 1000000))
	case 1:
		return Int(int32(g.r.IntN(100)))
	case 2:
		return Bool(g.r.IntN(2) == 0)
	case 3:
		return g.tab.Model(diffModels[g.r.IntN(len(diffModels))])
	}
	return g.str()
}

// value is a value nested up to depth levels with up to width elements per
// level; sets hold elements of one shape (TLC cannot compare the others).
func (g *diffGen) value(depth, width int) Value {
	if depth == 0 || g.r.IntN(6) == 0 {
		return g.scalar()
	}
	n := g.r.IntN(width + 1)
	elems := make([]Value, n)
	kind := g.r.IntN(5)
	if kind == 0 {
		return g.set(elems)
	}
	for i := range elems {
		elems[i] = g.value(depth-1, width)
	}
	switch kind {
	case 1, 2:
		return Tuple(elems...)
	case 3:
		return g.record(depth-1, width, n)
	}
	models := n <= len(diffModels) && g.r.IntN(2) == 0
	dom := make([]Value, n)
	for i := range dom {
		dom[i] = Int(int32(7*i - 3))
		if models {
			dom[i] = g.tab.Model(diffModels[i])
		}
	}
	if f, err := NewFunc(dom, elems); err == nil {
		return f
	}
	return Tuple(elems...)
}

// set fills elems with values of one shape (TLC cannot compare a record
// with a tuple, say) and makes a set of them: integers, strings, pairs, or
// records of scalars with fixed field kinds.
func (g *diffGen) set(elems []Value) Value {
	proto := g.r.IntN(4)
	for i := range elems {
		str := g.str()
		num := Int(int32(g.r.IntN(100000) - 50000))
		switch proto {
		case 0:
			elems[i] = num
		case 1:
			elems[i] = str
		case 2:
			elems[i] = Tuple(num, str)
		default:
			r, err := Record(g.tab, diffFields[:4], []Value{num, str, Bool(g.r.IntN(2) == 0),
				Tuple(Int(int32(g.r.IntN(10))), Int(int32(g.r.IntN(10))))})
			if err != nil {
				return Tuple(elems...)
			}
			elems[i] = r
		}
	}
	if s, err := NewSet(elems...); err == nil {
		return s
	}
	return Tuple(elems...)
}

// record is a record with the first n field names, values nested up to
// depth.
func (g *diffGen) record(depth, width, n int) Value {
	n = min(n, len(diffFields))
	vals := make([]Value, n)
	for i := range vals {
		vals[i] = g.value(depth, width)
	}
	if r, err := Record(g.tab, diffFields[:n], vals); err == nil {
		return r
	}
	return Tuple(vals...)
}

// diffModule writes the TLA+ module and configuration that make TLC print
// every value in the first state of a counterexample.
func diffModule(names []string, vals []Value) (tla, cfg string) {
	var b strings.Builder
	b.WriteString("---- MODULE PrettyDiff ----\nEXTENDS Integers, TLC\n")
	fmt.Fprintf(&b, "CONSTANTS %s\n", strings.Join(diffModels, ", "))
	fmt.Fprintf(&b, "VARIABLES step, %s\n", strings.Join(names, ", "))
	quoted := make([]string, 0, len(diffFields)+len(diffStrs))
	for _, s := range append(append([]string{}, diffStrs...), diffFields...) {
		quoted = append(quoted, quote(s))
	}
	fmt.Fprintf(&b, "Strs == <<%s>>\n", strings.Join(quoted, ", "))
	b.WriteString("Init == /\\ step = 0\n")
	for i, v := range vals {
		fmt.Fprintf(&b, "        /\\ %s = %s\n", names[i], v)
	}
	fmt.Fprintf(&b, "Next == /\\ step' = 1\n        /\\ UNCHANGED <<%s>>\n", strings.Join(names, ", "))
	b.WriteString("Inv == step = 0\n====\n")
	var c strings.Builder
	for _, m := range diffModels {
		fmt.Fprintf(&c, "CONSTANT %s = %s\n", m, m)
	}
	c.WriteString("INIT Init\nNEXT Next\nINVARIANT Inv\n")
	return b.String(), c.String()
}

// diffFirstState returns, by variable name, the lines TLC printed for each
// variable in "State 1: <Initial predicate>" ("/\ v = ..." and its
// continuation lines, joined by newlines).
func diffFirstState(t *testing.T, out string) map[string]string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "State 1: <Initial predicate>\n")
	if !ok {
		t.Fatalf("no State 1 in TLC's output:\n%s", out)
	}
	block, _, _ := strings.Cut(rest, "\n\n")
	got := map[string]string{}
	name := ""
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "/\\ ") {
			n, _, ok := strings.Cut(strings.TrimPrefix(line, "/\\ "), " = ")
			if !ok {
				t.Fatalf("unexpected line %q in TLC's state", line)
			}
			name = n
			got[name] = line
			continue
		}
		if name == "" {
			t.Fatalf("continuation line %q before any variable", line)
		}
		got[name] += "\n" + line
	}
	return got
}

// diffAt describes where a and b first differ.
func diffAt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("from byte %d: TLC %q, ours %q", i, a[lo:min(len(a), i+40)], b[lo:min(len(b), i+40)])
}

// TestPrettyMatchesTLC runs TLC on one module whose initial state holds 60
// random values (most longer than a line, nested 2 to 4 levels) and checks
// that every variable TLC prints in the trace is "/\ name = " followed by
// Pretty of the value's text: TLC formats the value alone, so continuation
// lines are indented from column 0, not from the value's column.
func TestPrettyMatchesTLC(t *testing.T) {
	tlc := tlctest.Path(t)
	g := &diffGen{r: rand.New(rand.NewPCG(20260429, 80)), tab: NewInterner()}
	for _, m := range diffModels {
		g.tab.Model(m)
	}
	for _, s := range append(append([]string{}, diffStrs...), diffFields...) {
		g.tab.String(s)
	}
	const n = 60
	names := make([]string, n)
	vals := make([]Value, n)
	for i := range vals {
		names[i] = fmt.Sprintf("v%02d", i+1)
		// Three values in four longer than a line (drawn again until
		// they are), the others of any length.
		g.quotes = i%10 == 9
		for try := 0; try < 100; try++ {
			vals[i] = g.value(2+i%3, []int{3, 5, 8, 12}[i%4])
			if i%4 == 0 || len(vals[i].String()) > PrettyWidth {
				break
			}
		}
	}
	dir := t.TempDir()
	tla, cfg := diffModule(names, vals)
	if err := os.WriteFile(filepath.Join(dir, "PrettyDiff.tla"), []byte(tla), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "PrettyDiff.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tlc, "-workers", "1", "-config", "PrettyDiff.cfg", "PrettyDiff.tla")
	cmd.Env = tlctest.Env(t)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // TLC exits non-zero on the violation
	got := diffFirstState(t, string(out))
	long, multi, quoted := 0, 0, 0
	for i, v := range vals {
		text := v.String()
		want := "/\\ " + names[i] + " = " + Pretty(text, PrettyWidth)
		tlcText, ok := got[names[i]]
		switch {
		case !ok:
			t.Errorf("TLC printed no %s", names[i])
		case stripOutsideStrings(tlcText) != stripOutsideStrings(want):
			t.Errorf("%s: TLC's value text differs from String() (not a Pretty matter), %s:\nTLC:\n%s\nours:\n%s",
				names[i], diffAt(tlcText, want), tlcText, want)
		case tlcText != want:
			t.Errorf("%s: Pretty differs from TLC, %s:\nTLC:\n%s\nours:\n%s", names[i], diffAt(tlcText, want), tlcText, want)
		}
		if len(text) > PrettyWidth {
			long++
		}
		if strings.Contains(tlcText, "\n") {
			multi++
		}
		if strings.Contains(text, `\"`) {
			quoted++
		}
	}
	t.Logf("%d values compared, %d longer than %d characters, %d printed by TLC on several lines, %d holding \\\" (unparsable)",
		n, long, PrettyWidth, multi, quoted)
	if long < n/2 || multi < n/2 {
		t.Errorf("too few long values to be a test: %d long, %d on several lines", long, multi)
	}
}
