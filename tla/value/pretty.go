package value

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file ports TLC's pretty printer, the classes tlc2.pprint.PrettyPrint
// (mypp), Parse and Format of tlaplus/tlaplus (commit cc6b616cf, the one
// shared/tools/tlc was built from). TLC prints every value of a trace with
// Values.ppr(v) = PrettyPrint.mypp(v.toString(), 80) and appends the result to
// "/\ name = " (or "name = " when the spec has one variable): continuation
// lines are indented relative to column 0, not to the start of the value.
//
// The port keeps TLC's quirks, because a trace must match TLC's byte for byte:
//
//   - the parser reads a string literal from '"' to the next '"', ignoring
//     escapes, so a value holding a string with \" usually fails to parse
//     and is printed unchanged;
//   - whitespace is Java's Character.isWhitespace, digits and letters are
//     Java's isDigit and isLetterOrDigit, applied to UTF-16 code units (Go's
//     unicode tables, which may be a Unicode version newer than the JVM's);
//   - separators are optional on input (a missing ',' or '@@' is accepted and
//     written on output), "<<" and ">>" are skipped as two characters whatever
//     the second one is, and leading whitespace is dropped;
//   - lengths are counted in UTF-16 code units and compared in 32-bit
//     arithmetic, as Java does (a byte that is not UTF-8, which a Java
//     string cannot hold, counts as one unit and is copied as it is).
//
// Where TLC throws (the text is not a value it can parse, or it parses only a
// prefix), mypp returns the text unchanged, and so does Pretty.

// PrettyWidth is the line width TLC formats values to in traces and error
// messages (tlc2.value.Values.WIDTH: 80 unless the JVM runs with
// -Dtlc2.value.Values.width=N). Callers printing a trace pass it to Pretty so
// that long values break where TLC breaks them.
const PrettyWidth = 80

// maxPrettyDepth caps the nesting of values Pretty parses, so that its
// recursion is bounded: text nested deeper than 10,000 levels is returned
// unchanged. TLC has no cap; with Java's default stack its mypp dies of a
// StackOverflowError from 1,500 levels or so (measured: 1,200 pass, 1,500
// overflow on a fresh JVM, 3,000 once its code is compiled), so no output
// of TLC is given up. Below the cap the output grows as length times depth,
// as TLC's does (10,000 nested sets make some 100 MB).
const maxPrettyDepth = 10000

// The kinds of parse-tree nodes (Node.CONSTANT ... Node.SUBSET in TLC).
const (
	ppConstant = iota + 1
	ppSet
	ppSequence
	ppRecord
	ppRecordPair
	ppFunction
	ppFunctionPair
	ppSubset
)

var (
	// errPrettyEnd is TLC's StringIndexOutOfBoundsException: the parser or
	// the formatter ran off the end of the text.
	errPrettyEnd = errors.New("pretty: ran off the end of the value")
	// errPrettySyntax is a ParseException on a character TLC cannot read.
	errPrettySyntax = errors.New("pretty: not a TLC value")
	// errPrettyDepth reports nesting beyond maxPrettyDepth.
	errPrettyDepth = errors.New("pretty: value nested too deeply")
)

// Pretty is TLC's PrettyPrint.mypp: it breaks s, the TLC text of a value (as
// value.Value.String() prints it), over lines of width columns the way TLC
// does in traces (a constant longer than a line stays whole), so that our
// counterexamples are TLC's byte for byte. Continuation lines are indented
// relative to the value's first column; the caller writes the result after
// "/\ name = " as TLC does. Text TLC cannot parse (or parses only a prefix
// of) comes back unchanged, as in TLC; so does text nested more than 10,000
// levels deep. Leading whitespace is dropped, as in TLC.
func Pretty(s string, width int) string {
	if s == "" || len(s) >= math.MaxInt32 {
		return s
	}
	if len(s) < width && !startsWithJavaSpace(s) {
		// Fast path, same result: the whole text fits on the line, so TLC
		// returns it (or, when it cannot parse it, returns it unchanged).
		return s
	}
	t := newPPText(s)
	root, err := t.parse(0, 0)
	if err != nil || root.last < len(t.units)-1 {
		return s
	}
	f := ppFormatter{t: t}
	f.format(root, clampInt32(width), 0, "")
	if f.err != nil {
		return s
	}
	return f.b.String()
}

// clampInt32 brings a width into Java's int range (TLC's width is an int).
func clampInt32(n int) int32 {
	return int32(max(math.MinInt32, min(n, math.MaxInt32)))
}

// startsWithJavaSpace reports whether s begins with Java whitespace (which
// TLC's parser skips, so that the result differs from s).
func startsWithJavaSpace(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && r != utf8.RuneError && javaSpace(r)
}

// javaSpace is Java's Character.isWhitespace on a char.
func javaSpace(c rune) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	case 0xa0, 0x2007, 0x202f: // non-breaking spaces are not whitespace in Java
		return false
	}
	return unicode.In(c, unicode.Zs, unicode.Zl, unicode.Zp)
}

// javaDigit is Java's Character.isDigit on a char (category Nd).
func javaDigit(c rune) bool { return unicode.IsDigit(c) }

// javaLetterOrDigit is Java's Character.isLetterOrDigit on a char.
func javaLetterOrDigit(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// ppText is the text being printed as Java sees it: a sequence of UTF-16
// code units (a byte that is not UTF-8 counts as one unit U+FFFD), with the
// byte offset in s of each unit so that substrings are cut from s itself.
type ppText struct {
	s     string
	units []rune // UTF-16 code units, as runes
	off   []int  // off[i]: byte offset of unit i; off[len(units)] = len(s)
}

func newPPText(s string) *ppText {
	t := &ppText{s: s, units: make([]rune, 0, len(s)), off: make([]int, 0, len(s)+1)}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			// A surrogate pair; both halves start at the rune (no node
			// of an output can end between them: see the parser).
			hi, lo := utf16.EncodeRune(r)
			t.units = append(t.units, hi, lo)
			t.off = append(t.off, i, i)
		} else {
			t.units = append(t.units, r)
			t.off = append(t.off, i)
		}
		i += size
	}
	t.off = append(t.off, len(s))
	return t
}

// at is Java's String.charAt: the unit at i, or errPrettyEnd.
func (t *ppText) at(i int) (rune, error) {
	if i < 0 || i >= len(t.units) {
		return 0, fmt.Errorf("%w: index %d of %d", errPrettyEnd, i, len(t.units))
	}
	return t.units[i], nil
}

// matches is Java's String.regionMatches(i, tok, 0, len(tok)) for an ASCII
// token: false (not an error) when the region runs off the text.
func (t *ppText) matches(i int, tok string) bool {
	if i < 0 || i+len(tok) > len(t.units) {
		return false
	}
	for k := 0; k < len(tok); k++ {
		if t.units[i+k] != rune(tok[k]) {
			return false
		}
	}
	return true
}

// skipSpace is Parse.skipWhitespace: the index of the first non-whitespace
// unit at or after i, or errPrettyEnd if the text ends first.
func (t *ppText) skipSpace(i int) (int, error) {
	for {
		c, err := t.at(i)
		if err != nil {
			return 0, err
		}
		if !javaSpace(c) {
			return i, nil
		}
		i++
	}
}

// ppNode is a node of the parse tree (TLC's Node): the value is the units
// first..last of the text; a pair node has two kids, argument and value.
type ppNode struct {
	kind        int
	first, last int
	kids        []*ppNode
}

// length is Node.length(), a Java int.
func (n *ppNode) length() int32 { return int32(n.last - n.first + 1) }

// ppList describes the syntax of a bracketed value for the parser: how many
// units open it, the unit that closes it and how many units the closing
// token has, the separator between elements, and (records and functions)
// the divider inside each element pair.
type ppList struct {
	kind     int
	open     int
	close    rune
	closeLen int
	sep      string
	pair     int    // node kind of the elements if they are pairs, else 0
	div      string // "|->" or ":>" for pairs
}

var (
	ppSetSyntax      = ppList{kind: ppSet, open: 1, close: '}', closeLen: 1, sep: ","}
	ppSequenceSyntax = ppList{kind: ppSequence, open: 2, close: '>', closeLen: 2, sep: ","}
	ppRecordSyntax   = ppList{kind: ppRecord, open: 1, close: ']', closeLen: 1, sep: ",",
		pair: ppRecordPair, div: "|->"}
	ppFunctionSyntax = ppList{kind: ppFunction, open: 1, close: ')', closeLen: 1, sep: "@@",
		pair: ppFunctionPair, div: ":>"}
)

// parse is Parse.parse: the tree of the value starting at unit i (after
// whitespace). depth counts the enclosing values, capped at maxPrettyDepth.
func (t *ppText) parse(i, depth int) (*ppNode, error) {
	if depth > maxPrettyDepth {
		return nil, errPrettyDepth
	}
	if i < 0 || i > len(t.units)-1 {
		return nil, fmt.Errorf("%w: value at index %d", errPrettyEnd, i)
	}
	i, err := t.skipSpace(i)
	if err != nil {
		return nil, err
	}
	switch t.units[i] {
	case '{':
		return t.parseList(i, depth, &ppSetSyntax)
	case '<':
		return t.parseList(i, depth, &ppSequenceSyntax)
	case '[':
		return t.parseList(i, depth, &ppRecordSyntax)
	case '(':
		return t.parseList(i, depth, &ppFunctionSyntax)
	}
	if t.matches(i, "SUBSET") {
		return t.parseSubset(i, depth)
	}
	return t.parseConstant(i)
}

// parseList is Parse.parseSet, parseSequence, parseRecord and
// parseFunction: elements (or pairs) up to the closing unit, each followed
// by an optional separator. A sequence skips its two opening units and
// ends one unit after the first '>', whatever the units are.
func (t *ppText) parseList(i, depth int, syn *ppList) (*ppNode, error) {
	n := &ppNode{kind: syn.kind, first: i}
	last, err := t.skipSpace(i + syn.open)
	for err == nil {
		var c rune
		if c, err = t.at(last); err != nil || c == syn.close {
			break
		}
		var elt *ppNode
		if syn.pair != 0 {
			elt, err = t.parsePair(last, depth+1, syn.pair, syn.div)
		} else {
			elt, err = t.parse(last, depth+1)
		}
		if err != nil {
			break
		}
		n.kids = append(n.kids, elt)
		last, err = t.skipSeparator(elt.last+1, syn.sep)
	}
	if err != nil {
		return nil, err
	}
	n.last = last + syn.closeLen - 1
	return n, nil
}

// skipSeparator skips whitespace, then sep if it is there, then whitespace.
func (t *ppText) skipSeparator(i int, sep string) (int, error) {
	i, err := t.skipSpace(i)
	if err != nil {
		return 0, err
	}
	if t.matches(i, sep) {
		i += len(sep)
	}
	return t.skipSpace(i)
}

// parsePair is Parse.parseRecordPair and parseFunctionPair: a value, the
// divider div, a value.
func (t *ppText) parsePair(i, depth, kind int, div string) (*ppNode, error) {
	arg, err := t.parse(i, depth)
	if err != nil {
		return nil, err
	}
	last, err := t.skipSpace(arg.last + 1)
	if err != nil {
		return nil, err
	}
	if !t.matches(last, div) {
		return nil, fmt.Errorf("%w: no %s at index %d", errPrettySyntax, div, last)
	}
	if last, err = t.skipSpace(last + len(div)); err != nil {
		return nil, err
	}
	val, err := t.parse(last, depth)
	if err != nil {
		return nil, err
	}
	return &ppNode{kind: kind, first: i, last: val.last, kids: []*ppNode{arg, val}}, nil
}

// parseSubset is Parse.parseSubset: "SUBSET" then a value.
func (t *ppText) parseSubset(i, depth int) (*ppNode, error) {
	last, err := t.skipSpace(i + len("SUBSET"))
	if err != nil {
		return nil, err
	}
	elt, err := t.parse(last, depth+1)
	if err != nil {
		return nil, err
	}
	return &ppNode{kind: ppSubset, first: i, last: elt.last, kids: []*ppNode{elt}}, nil
}

// parseConstant is Parse.parseConstant: a string literal (to the next '"',
// escapes ignored), an interval i..j, a negative integer, or a run of
// letters and digits (integer, boolean, model value).
func (t *ppText) parseConstant(index int) (*ppNode, error) {
	first, err := t.skipSpace(index)
	if err != nil {
		return nil, err
	}
	c := t.units[first]
	if c == '"' {
		for last := first + 1; ; last++ {
			c, err := t.at(last)
			if err != nil {
				return nil, err
			}
			if c == '"' {
				return &ppNode{kind: ppConstant, first: first, last: last}, nil
			}
		}
	}
	if javaDigit(c) {
		if n := t.parseInterval(index); n != nil {
			return n, nil
		}
	}
	if c == '-' {
		return t.parseRun(first, first+1, javaDigit)
	}
	if javaLetterOrDigit(c) {
		return t.parseRun(first, first, javaLetterOrDigit)
	}
	return nil, fmt.Errorf("%w: character %q at index %d", errPrettySyntax, c, first)
}

// parseRun is the loop of parseConstant: the constant from first through
// the units of class starting at last (at least the one at last must
// exist, else errPrettyEnd, as Java's charAt throws).
func (t *ppText) parseRun(first, last int, class func(rune) bool) (*ppNode, error) {
	for {
		c, err := t.at(last)
		if err != nil {
			return nil, err
		}
		if !class(c) {
			break
		}
		last++
		if last == len(t.units) {
			break
		}
	}
	return &ppNode{kind: ppConstant, first: first, last: last - 1}, nil
}

// parseInterval is Parse.parseInterval: digits, "..", digits, or nil.
func (t *ppText) parseInterval(first int) *ppNode {
	last := first
	if c, err := t.at(last); err != nil || !javaDigit(c) {
		return nil
	}
	for last < len(t.units) && javaDigit(t.units[last]) {
		last++
	}
	if !t.matches(last, "..") {
		return nil
	}
	last += 2
	if c, err := t.at(last); err != nil || !javaDigit(c) {
		return nil
	}
	n, err := t.parseRun(first, last, javaDigit)
	if err != nil {
		return nil
	}
	return n
}

// ppLayout holds Format's delimiters for one kind of value: open and close,
// pad (indents lines after the first), sep (after each element but the
// last), div and divPad (between argument and value of a pair, and the
// extra indent of a value printed below its argument).
type ppLayout struct {
	open, close, pad, sep, div, divPad string
}

var ppLayouts = map[int]*ppLayout{
	ppSet:      {open: "{ ", close: " }", pad: "  ", sep: ","},
	ppSequence: {open: "<< ", close: " >>", pad: "   ", sep: ","},
	ppFunction: {open: "( ", close: " )", pad: "  ", sep: " @@", div: " :>", divPad: "    "},
	ppRecord:   {open: "[ ", close: " ]", pad: "  ", sep: ",", div: " |->", divPad: "    "},
	ppSubset:   {open: "SUBSET ", close: " ", pad: " ", sep: ","},
}

// ppFormatter is Format: it writes the formatted value to b; err is set
// (and the output abandoned) when Java would have thrown.
type ppFormatter struct {
	t   *ppText
	b   strings.Builder
	err error
}

// value is Node.value(): the node's text, cut from the input.
func (f *ppFormatter) value(n *ppNode) string {
	if n.first < 0 || n.last+1 > len(f.t.units) || n.first > n.last+1 {
		f.err = fmt.Errorf("%w: node %d..%d", errPrettyEnd, n.first, n.last)
		return ""
	}
	return f.t.s[f.t.off[n.first]:f.t.off[n.last+1]]
}

// format is Format.format: the node as is if it fits in col columns less
// trail (room kept for what follows it on its last line), else broken over
// lines, each after the first starting with pad.
func (f *ppFormatter) format(n *ppNode, col, trail int32, pad string) {
	if f.err != nil {
		return
	}
	if n.length() <= col-trail || n.kind == ppConstant {
		f.b.WriteString(f.value(n))
		return
	}
	lay, ok := ppLayouts[n.kind]
	if !ok {
		f.err = fmt.Errorf("%w: node kind %d", errPrettySyntax, n.kind)
		return
	}
	f.b.WriteString(lay.open)
	col -= int32(max(len(lay.open), len(lay.pad)))
	trail += int32(len(lay.close))
	if lay.div != "" {
		f.pairs(n.kids, col, trail, pad+lay.pad, lay)
	} else {
		f.values(n.kids, col, trail, pad+lay.pad, lay.sep)
	}
	f.b.WriteString(lay.close)
}

// values is Format.formatValues: the elements one per line, each but the
// last followed by sep.
func (f *ppFormatter) values(kids []*ppNode, col, trail int32, pad, sep string) {
	for i, k := range kids {
		if i == len(kids)-1 {
			f.format(k, col, trail, pad)
			break
		}
		f.format(k, col, int32(len(sep)), pad)
		f.b.WriteString(sep + "\n" + pad)
	}
}

// pairs is Format.formatPairs: each pair on one line if it fits, else its
// argument then, on the next line indented by divPad, its value.
func (f *ppFormatter) pairs(kids []*ppNode, col, trail int32, pad string, lay *ppLayout) {
	div, sep := int32(len(lay.div)), int32(len(lay.sep))
	for i, p := range kids {
		if len(p.kids) != 2 {
			f.err = fmt.Errorf("%w: pair without two parts", errPrettySyntax)
			return
		}
		arg, val := p.kids[0], p.kids[1]
		last := i == len(kids)-1
		valTrail, room := sep, col
		if last {
			valTrail, room = trail, col-trail
		}
		switch {
		case !last && arg.length()+div+1+val.length()+sep <= room,
			last && arg.length()+div+1+val.length() <= room:
			f.b.WriteString(f.value(arg) + lay.div + " " + f.value(val))
		default:
			if arg.length()+div <= col {
				f.b.WriteString(f.value(arg))
			} else {
				f.format(arg, col, trail+div, pad)
			}
			f.b.WriteString(lay.div + "\n" + pad + lay.divPad)
			f.format(val, col-int32(len(lay.divPad)), valTrail, pad+lay.divPad)
		}
		if !last {
			f.b.WriteString(lay.sep + "\n" + pad)
		}
	}
}
