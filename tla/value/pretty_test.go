package value

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// prettyLongSeq is TLC's layout of <<1000, 2000, ..., 30000>> at width 80
// (TLC prints the same for the sequence whose closing >> is cut to >).
const prettyLongSeq = `<< 1000,
   2000,
   3000,
   4000,
   5000,
   6000,
   7000,
   8000,
   9000,
   10000,
   11000,
   12000,
   13000,
   14000,
   15000,
   16000,
   17000,
   18000,
   19000,
   20000,
   21000,
   22000,
   23000,
   24000,
   25000,
   26000,
   27000,
   28000,
   29000,
   30000 >>`

// prettySeq is "step, 2*step, ..., n*step".
func prettySeq(n, step int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint((i + 1) * step)
	}
	return strings.Join(parts, ", ")
}

// prettyPadded is <<"xx...x", 1>>, n+9 characters long.
func prettyPadded(n int) string { return `<<"` + strings.Repeat("x", n) + `", 1>>` }

// prettyNest is a value nested d levels deep, with siblings at every level.
func prettyNest(d int) string {
	if d == 0 {
		return `"leaf"`
	}
	return fmt.Sprintf(`<<%d, [k |-> %s, z |-> "zz"]>>`, d, prettyNest(d-1))
}

// prettyTable holds TLC's outputs, obtained by calling
// tlc2.pprint.PrettyPrint.mypp(in, width) of the tla2tools.jar in
// shared/tools/tlc (the function TLC prints trace values with), except
// "nesting beyond the cap": there TLC dies of a StackOverflowError (from
// 1,500 levels or so with Java's default stack), and Pretty returns the text
// unchanged.
var prettyTable = []struct {
	name  string
	in    string
	width int
	want  string
	// unchanged: TLC returns the input as it is.
	unchanged bool
}{
	{name: "empty text", in: "", width: 80, unchanged: true},
	{name: "empty set", in: "{}", width: 80, unchanged: true},
	{name: "empty sequence", in: "<<>>", width: 80, unchanged: true},
	{name: "short record", in: `[a |-> 1, b |-> "x"]`, width: 80, unchanged: true},
	{name: "records in a set", in: `{[id |-> 0, name |-> "a fairly long name here", ok |-> TRUE], [id |-> 1, name |-> "a fairly long name here", ok |-> TRUE], [id |-> 2, name |-> "a fairly long name here", ok |-> TRUE]}`, width: 80, want: `{ [id |-> 0, name |-> "a fairly long name here", ok |-> TRUE],
  [id |-> 1, name |-> "a fairly long name here", ok |-> TRUE],
  [id |-> 2, name |-> "a fairly long name here", ok |-> TRUE] }`},
	{name: "nested sets", in: `{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, {21, 22, 23, 24, 25, 26, 27, 28, 29, 30}, {}}`, width: 80, want: `{ {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
  {11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
  {21, 22, 23, 24, 25, 26, 27, 28, 29, 30},
  {} }`},
	{name: "long sequence", in: "<<" + prettySeq(30, 1000) + ">>", width: 80, want: prettyLongSeq},
	{name: "function", in: `(10 :> "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" @@ 20 :> {})`, width: 80, want: `( 10 :>
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" @@
  20 :> {} )`},
	{name: "function with long arguments", in: `(<<1, "a long argument that will not fit on the line", "more">> :> {1, 2} @@ <<2, "a long argument that will not fit on the line", "more">> :> <<>>)`, width: 80, want: `( <<1, "a long argument that will not fit on the line", "more">> :> {1, 2} @@
  <<2, "a long argument that will not fit on the line", "more">> :> <<>> )`},
	{name: "function of records", in: `(m1 :> [state |-> "working", votes |-> {m1, m2, m3}, log |-> <<1, 2, 3>>] @@ m2 :> [state |-> "prepared", votes |-> {}, log |-> <<>>] @@ m3 :> [state |-> "aborted", votes |-> {m2}, log |-> <<4>>])`, width: 80, want: `( m1 :> [state |-> "working", votes |-> {m1, m2, m3}, log |-> <<1, 2, 3>>] @@
  m2 :> [state |-> "prepared", votes |-> {}, log |-> <<>>] @@
  m3 :> [state |-> "aborted", votes |-> {m2}, log |-> <<4>>] )`},
	{name: "record with a long field", in: `[a |-> {<<1, "some long text">>, <<2, "some long text">>, <<3, "some long text">>, <<4, "some long text">>}, b |-> 0]`, width: 80, want: `[ a |->
      { <<1, "some long text">>,
        <<2, "some long text">>,
        <<3, "some long text">>,
        <<4, "some long text">> },
  b |-> 0 ]`},
	{name: "strings with delimiters", in: `{"a, b", "c]d", "x |-> y", "(1 :> 2 @@ 3 :> 4)", "<<", ">>", "{", "}", "SUBSET", "a long string to push it over the line"}`, width: 80, want: `{ "a, b",
  "c]d",
  "x |-> y",
  "(1 :> 2 @@ 3 :> 4)",
  "<<",
  ">>",
  "{",
  "}",
  "SUBSET",
  "a long string to push it over the line" }`},
	{name: "escaped quote cannot be parsed", in: `<<"x,y]", <<"a\"b", "c", {1, 2, 3}>>, "|->", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">>`, width: 80, unchanged: true},
	{name: "escaped backslash", in: `<<"a\\", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb">>`, width: 80, want: `<< "a\\",
   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" >>`},
	{name: "width 80 exactly", in: "<<" + strings.Repeat("1, ", 25) + "1>>", width: 80, unchanged: true},
	{name: "width 81", in: "<<" + strings.Repeat("1, ", 25) + "12>>", width: 80, want: `<< 1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   12 >>`},
	{name: "width 79", in: "<<" + strings.Repeat("1, ", 24) + "123>>", width: 80, unchanged: true},
	{name: "elements exactly fit", in: "<<" + prettyPadded(67) + ", " + prettyPadded(65) + ">>", width: 80, want: `<< <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>>,
   <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> >>`},
	{name: "elements one too long", in: "<<" + prettyPadded(68) + ", " + prettyPadded(66) + ">>", width: 80, want: `<< << "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      1 >>,
   << "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      1 >> >>`},
	{name: "pairs exactly fit", in: "[a |-> " + prettyPadded(62) + ", b |-> " + prettyPadded(61) + "]", width: 80, want: `[ a |-> <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>>,
  b |-> <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> ]`},
	{name: "pairs one too long", in: "[a |-> " + prettyPadded(63) + ", b |-> " + prettyPadded(62) + "]", width: 80, want: `[ a |->
      <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>>,
  b |->
      <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> ]`},
	{name: "function pairs exactly fit", in: "(1 :> " + prettyPadded(61) + " @@ 2 :> " + prettyPadded(62) + ")", width: 80, want: `( 1 :> <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> @@
  2 :> <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> )`},
	{name: "function pairs one too long", in: "(1 :> " + prettyPadded(62) + " @@ 2 :> " + prettyPadded(63) + ")", width: 80, want: `( 1 :>
      <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> @@
  2 :>
      <<"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1>> )`},
	{name: "constant longer than the line", in: `"` + strings.Repeat("z", 100) + `"`, width: 80, unchanged: true},
	{name: "deep nesting", in: prettyNest(12), width: 80, want: `<< 12,
   [ k |->
         << 11,
            [ k |->
                  << 10,
                     [ k |->
                           << 9,
                              [ k |->
                                    << 8,
                                       [ k |->
                                             << 7,
                                                [ k |->
                                                      << 6,
                                                         [ k |->
                                                               << 5,
                                                                  [ k |->
                                                                        << 4,
                                                                           [ k |->
                                                                                 << 3,
                                                                                    [ k |->
                                                                                          << 2,
                                                                                             [ k |->
                                                                                                   << 1,
                                                                                                      [ k |->
                                                                                                            "leaf",
                                                                                                        z |->
                                                                                                            "zz" ] >>,
                                                                                               z |->
                                                                                                   "zz" ] >>,
                                                                                      z |->
                                                                                          "zz" ] >>,
                                                                             z |->
                                                                                 "zz" ] >>,
                                                                    z |->
                                                                        "zz" ] >>,
                                                           z |-> "zz" ] >>,
                                                  z |-> "zz" ] >>,
                                         z |-> "zz" ] >>,
                                z |-> "zz" ] >>,
                       z |-> "zz" ] >>,
              z |-> "zz" ] >>,
     z |-> "zz" ] >>`},
	// Not TLC's output (see above): Pretty's depth cap.
	{name: "nesting beyond the cap is unchanged", in: strings.Repeat("{1, ", 10001) + "2" + strings.Repeat("}", 10001), width: 80, unchanged: true},
	{name: "subset", in: "SUBSET {" + prettySeq(20, 1000) + "}", width: 80, want: `SUBSET { 1000,
   2000,
   3000,
   4000,
   5000,
   6000,
   7000,
   8000,
   9000,
   10000,
   11000,
   12000,
   13000,
   14000,
   15000,
   16000,
   17000,
   18000,
   19000,
   20000 } `},
	{name: "interval", in: "{1..10, 20..300, " + prettySeq(15, 1000) + "}", width: 80, want: `{ 1..10,
  20..300,
  1000,
  2000,
  3000,
  4000,
  5000,
  6000,
  7000,
  8000,
  9000,
  10000,
  11000,
  12000,
  13000,
  14000,
  15000 }`},
	{name: "negative integers", in: "<<" + prettySeq(20, -1000) + ">>", width: 80, want: `<< -1000,
   -2000,
   -3000,
   -4000,
   -5000,
   -6000,
   -7000,
   -8000,
   -9000,
   -10000,
   -11000,
   -12000,
   -13000,
   -14000,
   -15000,
   -16000,
   -17000,
   -18000,
   -19000,
   -20000 >>`},
	{name: "narrow width", in: `[a |-> <<1, 2, 3>>, b |-> {"x", "y"}, c |-> (1 :> 2 @@ 3 :> 4)]`, width: 10, want: `[ a |->
      << 1,
         2,
         3 >>,
  b |->
      { "x",
        "y" },
  c |->
      ( 1 :>
            2 @@
        3 :>
            4 ) ]`},
	{name: "zero width", in: `{<<1, 2>>, [a |-> 1]}`, width: 0, want: `{ << 1,
     2 >>,
  [ a |->
        1 ] }`},
	{name: "negative width", in: `{<<1, 2>>, [a |-> 1]}`, width: -5, want: `{ << 1,
     2 >>,
  [ a |->
        1 ] }`},
	{name: "UTF-16 length fits", in: "<<\"" + strings.Repeat("\U0001F600", 35) + "\", 1>>", width: 80, unchanged: true},
	{name: "UTF-16 length over", in: "<<\"" + strings.Repeat("\U0001F600", 36) + "\", 1>>", width: 80, want: `<< "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
   1 >>`},
	{name: "UTF-16 in strings", in: "<<\"" + strings.Repeat("\U0001F600", 20) + "\", \"" + strings.Repeat("é", 40) + "\">>", width: 80, want: `<< "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
   "éééééééééééééééééééééééééééééééééééééééé" >>`},
	{name: "leading whitespace is dropped", in: "  {1, 2}", width: 80, want: "{1, 2}"},
	{name: "trailing text is unchanged", in: "{" + prettySeq(30, 1000) + "} x", width: 80, unchanged: true},
	{name: "trailing whitespace is unchanged", in: "{" + prettySeq(30, 1000) + "} ", width: 80, unchanged: true},
	{name: "missing separators are written", in: "{" + strings.Repeat("1000 ", 20) + "}", width: 80, want: `{ 1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000,
  1000 }`},
	{name: "missing @@ is written", in: "(" + strings.Repeat("1000 :> 2000 ", 10) + ")", width: 80, want: `( 1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 @@
  1000 :> 2000 )`},
	{name: "whitespace inside is kept when it fits", in: "{1 ,\n 2}", width: 80, unchanged: true},
	{name: "spaces-only set", in: "{" + strings.Repeat(" ", 100) + "}", width: 80, want: "{  }"},
	{name: "unterminated string", in: `{"abc, ` + strings.Repeat("1, ", 40) + "}", width: 80, unchanged: true},
	{name: "unclosed sequence at the end", in: "<<" + prettySeq(30, 1000) + ">", width: 80, want: prettyLongSeq},
	{name: "unclosed sequence short", in: "<<1, 2>", width: 80, unchanged: true},
	{name: "unclosed sequence of width-1", in: "<<" + strings.Repeat("1, ", 25) + "1>", width: 80, unchanged: true},
	{name: "unclosed sequence of width", in: "<<" + strings.Repeat("1, ", 25) + "12>", width: 80, want: `<< 1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   1,
   12 >>`},
	{name: "model values", in: "{" + strings.Repeat("m1, ", 20) + "m2}", width: 80, want: `{ m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m1,
  m2 }`},
	{name: "illegal character", in: "{" + prettySeq(30, 1000) + ", 1.5}", width: 80, unchanged: true},
	{name: "non-breaking space is not whitespace", in: "{1,\u00a0" + prettySeq(30, 1000) + "}", width: 80, unchanged: true},
	{name: "unicode whitespace", in: "{1,\u2003" + prettySeq(30, 1000) + "}", width: 80, want: `{ 1,
  1000,
  2000,
  3000,
  4000,
  5000,
  6000,
  7000,
  8000,
  9000,
  10000,
  11000,
  12000,
  13000,
  14000,
  15000,
  16000,
  17000,
  18000,
  19000,
  20000,
  21000,
  22000,
  23000,
  24000,
  25000,
  26000,
  27000,
  28000,
  29000,
  30000 }`},
}

func TestPrettyTable(t *testing.T) {
	for _, c := range prettyTable {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if c.unchanged {
				want = c.in
			}
			if got := Pretty(c.in, c.width); got != want {
				t.Errorf("Pretty(%.200q, %d):\n got:\n%.4000s\nwant:\n%.4000s", c.in, c.width, got, want)
			}
		})
	}
}

// TestPrettyDeepBelowTheCap: 2,000 levels, below Pretty's cap, are
// formatted, one element per line (TLC formats them too when its stack is
// large enough; with Java's default stack it overflows from 1,500 or so).
func TestPrettyDeepBelowTheCap(t *testing.T) {
	const d = 2000
	in := strings.Repeat("{1, ", d) + "2" + strings.Repeat("}", d)
	out := Pretty(in, PrettyWidth)
	if out == in || stripOutsideStrings(out) != stripOutsideStrings(in) {
		t.Fatalf("deep value not formatted as expected (%d bytes)", len(out))
	}
	if n := strings.Count(out, "\n"); n != d {
		t.Fatalf("%d lines, want %d", n+1, d+1)
	}
}

// stripOutsideStrings removes Java whitespace outside string literals (a
// literal runs from a '"' to the next '"', as TLC's parser reads it).
func stripOutsideStrings(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		if r == '"' {
			in = !in
		}
		if in || r == '"' || !javaSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// utf16Len is the length of s for Java.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// checkPrettyLayout checks what holds for every value text: Pretty changes
// only whitespace outside strings, keeps text shorter than the width as it
// is, and indents every line after the first.
func checkPrettyLayout(t interface{ Fatalf(string, ...any) }, s string, width int) {
	out := Pretty(s, width)
	if stripOutsideStrings(out) != stripOutsideStrings(s) {
		t.Fatalf("Pretty(%q, %d) = %q: not only whitespace changed", s, width, out)
	}
	if utf16Len(s) < width && out != s {
		t.Fatalf("Pretty(%q, %d) = %q: short text changed", s, width, out)
	}
	for i, line := range strings.Split(out, "\n") {
		if i > 0 && !strings.HasPrefix(line, " ") {
			t.Fatalf("Pretty(%q, %d): line %d %q not indented", s, width, i+1, line)
		}
	}
}

// prettyStrings are string values with TLC's delimiters in them.
var prettyStrings = []string{
	"", "a", "x, y", "c]d", "a |-> b", "<<", ">>", "(1 :> 2 @@ 3 :> 4)", "{}",
	"SUBSET", `back\slash`, `quote"inside`, "a fairly long name here",
	"another string that is long enough to need a line of its own",
}

// genPrettyValue draws values of every printable kind, nested up to three
// levels, made with this package's constructors.
func genPrettyValue(tab *Interner, depth int) *rapid.Generator[Value] {
	return rapid.Custom(func(t *rapid.T) Value {
		k := rapid.IntRange(0, 8).Draw(t, "kind")
		if depth >= 3 {
			k %= 4
		}
		switch k {
		case 0:
			return Int(rapid.Int32Range(-100000, 100000).Draw(t, "i"))
		case 1:
			return Bool(rapid.Bool().Draw(t, "b"))
		case 2:
			return tab.String(rapid.SampledFrom(prettyStrings).Draw(t, "s"))
		case 3:
			return tab.Model(rapid.SampledFrom([]string{"ma", "mb", "mc"}).Draw(t, "m"))
		}
		elems := rapid.SliceOfN(genPrettyValue(tab, depth+1), 0, 12).Draw(t, "elems")
		switch k {
		case 4, 5:
			if s, err := NewSet(elems...); err == nil {
				return s
			}
			return Tuple(elems...)
		case 6:
			return Tuple(elems...)
		case 7:
			names := []string{"fa", "fb", "fc", "fd", "fe", "ff"}
			n := min(len(elems), len(names))
			r, err := Record(tab, names[:n], elems[:n])
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		dom := make([]Value, len(elems))
		for i := range dom {
			dom[i] = Int(int32(10*i + 5))
		}
		f, err := NewFunc(dom, elems)
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
}

func TestPrettyPropertyValues(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tab := NewInterner()
		v := genPrettyValue(tab, 0).Draw(t, "v")
		width := rapid.IntRange(-2, 120).Draw(t, "width")
		checkPrettyLayout(t, v.String(), width)
	})
}

// TestPrettyPropertyAnyText: on any text Pretty does not panic, keeps
// valid UTF-8 valid, and returns text shorter than the width (that does not
// start with whitespace) as it is, whether TLC can parse it or not.
func TestPrettyPropertyAnyText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(),
			rapid.StringOfN(rapid.SampledFrom([]rune(`{}<>[]()",@:|-> .1aS`)), 0, 120, -1),
		).Draw(t, "s")
		width := rapid.IntRange(-2, 120).Draw(t, "width")
		out := Pretty(s, width)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Pretty(%q, %d) = %q: invalid UTF-8", s, width, out)
		}
		r, _ := utf8.DecodeRuneInString(s)
		if s != "" && !javaSpace(r) && utf16Len(s) < width && out != s {
			t.Fatalf("Pretty(%q, %d) = %q: short text changed", s, width, out)
		}
	})
}

// prettyTextFromBytes builds the TLC text of a value from arbitrary bytes
// (a small stack machine: open a set, sequence, record or function, close
// one, or add a scalar), so that the fuzzer explores well-formed values.
func prettyTextFromBytes(data []byte) string {
	type frame struct {
		close, sep string
		kind, n    int
	}
	var b strings.Builder
	var stack []frame
	startElem := func() {
		if len(stack) == 0 {
			return
		}
		f := &stack[len(stack)-1]
		if f.n > 0 {
			b.WriteString(f.sep)
		}
		switch f.kind {
		case 2:
			fmt.Fprintf(&b, "f%d |-> ", f.n)
		case 3:
			fmt.Fprintf(&b, "%d :> ", 10*f.n+5)
		}
		f.n++
	}
	opens := []frame{{"}", ", ", 0, 0}, {">>", ", ", 1, 0}, {"]", ", ", 2, 0}, {")", " @@ ", 3, 0}}
	openText := []string{"{", "<<", "[", "("}
	for i, c := range data {
		if len(stack) == 0 && i > 0 {
			break
		}
		switch op := int(c % 8); {
		case op < 4 && len(stack) < 50:
			startElem()
			b.WriteString(openText[op])
			stack = append(stack, opens[op])
		case op == 4 && len(stack) > 0:
			b.WriteString(stack[len(stack)-1].close)
			stack = stack[:len(stack)-1]
		case op == 5:
			startElem()
			fmt.Fprint(&b, int(c)*37-4000)
		case op == 6:
			startElem()
			b.WriteString(quote(prettyStrings[int(c/8)%len(prettyStrings)]))
		default:
			startElem()
			b.WriteString([]string{"TRUE", "FALSE", "ma", "1..3"}[int(c/8)%4])
		}
	}
	for len(stack) > 0 {
		b.WriteString(stack[len(stack)-1].close)
		stack = stack[:len(stack)-1]
	}
	return b.String()
}

func FuzzPretty(f *testing.F) {
	for _, c := range prettyTable {
		// Not the 10,001 levels: mutated to 10,000 they make 100 MB of
		// output (formatted size grows as length times depth, as in TLC).
		if len(c.in) < 1000 {
			f.Add(c.in, c.width)
		}
	}
	f.Add("\x00\x01\x05\x05\x02\x06\x16\x03\x07\x04\x05", 20)
	f.Add("<<1, 2>", 7)
	f.Fuzz(func(t *testing.T, s string, width int) {
		out := Pretty(s, width)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Pretty(%q, %d) = %q: invalid UTF-8", s, width, out)
		}
		r, _ := utf8.DecodeRuneInString(s)
		if s != "" && !javaSpace(r) && utf16Len(s) < width && out != s {
			t.Fatalf("Pretty(%q, %d) = %q: short text changed", s, width, out)
		}
		checkPrettyLayout(t, prettyTextFromBytes([]byte(s)), width)
	})
}

// TestRecordNames: a function on strings prints as a record only when
// every string is a name, as TLC's FcnRcdValue.isName decides (TLC prints
// [n \in {"a b"} |-> 1] as ("a b" :> 1), [n \in {"WF_x"} |-> 1] as
// ("WF_x" :> 1)).
func TestRecordNames(t *testing.T) {
	in := NewInterner()
	cases := []struct {
		names []string
		want  string
	}{
		{[]string{"a", "b_1"}, "[a |-> 1, b_1 |-> 1]"},
		{[]string{"a b"}, `("a b" :> 1)`},
		{[]string{"_1"}, `("_1" :> 1)`},
		{[]string{"WF_x"}, `("WF_x" :> 1)`},
		{[]string{"WF_"}, "[WF_ |-> 1]"},
		{[]string{"x", "1"}, `("x" :> 1 @@ "1" :> 1)`},
	}
	for _, c := range cases {
		vals := make([]Value, len(c.names))
		for i := range vals {
			vals[i] = Int(1)
		}
		f, err := Record(in, c.names, vals)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.String(); got != c.want {
			t.Errorf("%q: %s, want %s", c.names, got, c.want)
		}
	}
}

// TestReserve: a name reserved takes its place in the order when a string
// or a model value of that name is made later, as TLC's table of names
// takes identifiers while parsing; reserving twice, or a name made
// already, changes nothing.
func TestReserve(t *testing.T) {
	in := NewInterner()
	first := in.String("first")
	in.Reserve("clock")
	in.Reserve("first")
	typ := in.String("type")
	in.Reserve("clock")
	clock := in.String("clock")
	m := in.Model("clock")
	for _, c := range []struct {
		a, b Value
		want int
	}{{first, clock, -1}, {clock, typ, -1}, {first, typ, -1}} {
		if got, err := Compare(c.a, c.b); err != nil || got != c.want {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	f, err := Record(in, []string{"type", "clock"}, []Value{Int(1), Int(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "[clock |-> 2, type |-> 1]" {
		t.Errorf("record: %s, want its fields in the reserved order", got)
	}
	if m.a.id != clock.a.id {
		t.Errorf("model value clock: place %d, string clock: %d; want the one reserved", m.a.id, clock.a.id)
	}
}
