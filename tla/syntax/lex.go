package syntax

import (
	"fmt"
	"strings"
)

// Kind is the kind of a token.
type Kind uint8

// Token kinds.
const (
	EOF Kind = iota
	Ident
	Number
	String
	Op      // an operator or punctuation: the text says which
	Begin   // ---- MODULE
	End     // ====
	Sub     // the subscript mark _ of [A]_v, <<A>>_v, WF_v, SF_v
	Fair    // WF_ or SF_ (text without the underscore)
	Keyword // a reserved word
)

// Token is one lexeme with its position.
type Token struct {
	Kind Kind
	Text string
	Pos  Pos
	// NewLine is set on the first token of a line (junction lists use it
	// with the column).
	NewLine bool
	// End is the position of the token's last character (TLC names an
	// action by the span of its text, "line 5, col 9 to line 6, col 19").
	End Pos
}

func (t Token) String() string {
	switch t.Kind {
	case EOF:
		return "the end of the module"
	case String:
		return fmt.Sprintf("string %q", t.Text)
	}
	return fmt.Sprintf("%q", t.Text)
}

var reserved = map[string]bool{
	"ASSUME": true, "ASSUMPTION": true, "AXIOM": true, "CASE": true, "CHOOSE": true,
	"CONSTANT": true, "CONSTANTS": true, "DOMAIN": true, "ELSE": true, "ENABLED": true,
	"EXCEPT": true, "EXTENDS": true, "IF": true, "IN": true, "INSTANCE": true, "LET": true,
	"LOCAL": true, "MODULE": true, "OTHER": true, "SUBSET": true, "THEN": true,
	"THEOREM": true, "LEMMA": true, "PROPOSITION": true, "COROLLARY": true, "UNCHANGED": true, "UNION": true,
	"VARIABLE": true, "VARIABLES": true, "WITH": true, "LAMBDA": true, "RECURSIVE": true,
	"PROOF": true, "BY": true, "OBVIOUS": true, "OMITTED": true, "QED": true, "DEF": true,
	"DEFS": true, "PROVE": true, "SUFFICES": true, "HAVE": true, "TAKE": true, "WITNESS": true,
	"PICK": true, "USE": true, "HIDE": true, "DEFINE": true, "ACTION": true, "STATE": true,
	"TEMPORAL": true, "NEW": true, "ONLY": true,
}

// symbols are the operator and punctuation lexemes, longest first.
var symbols = []string{
	"-+->", "<=>", "|->", "...", "::=", "(+)", "(-)", "(.)", "(/)", "(\\X)",
	"=>", "==", "=<", "=|", "<=", ">=", "/=", "/\\", "\\/", "->", "<-", "..", ":=", "::", ":>",
	"@@", "<<", ">>", "[]", "<>", "~>", "|-", "-|", "|=", "++", "--", "**", "//", "^^", "%%",
	"&&", "$$", "##", "^+", "^*", "^#", "||", "??", "!!", "<:",
	"=", "#", "<", ">", "+", "-", "*", "/", "%", "^", "&", "|", "~", "'", "!", "@", "$",
	",", ":", "(", ")", "[", "]", "{", "}", ".", ";", "?",
}

// MaxCommentDepth caps nested (* *) comments.
const MaxCommentDepth = 64

// Lex splits a file into tokens. Text before the first module header,
// between two modules and after the last ==== line is not TLA+ and is
// skipped; comments are \* to
// the end of the line and (* *), nested.
func Lex(file string, src []byte) ([]Token, error) {
	l := &lexer{file: file, src: src, line: 1, col: 1, newLine: true}
	l.skipToModule()
	depth := 0 // module nesting: text after the outermost ==== is ignored
	for l.i < len(src) {
		c := src[l.i]
		pos := Pos{file, l.line, l.col}
		// The last token emitted ended right before here: tokens span no line.
		if n := len(l.toks); n > 0 && l.toks[n-1].End == (Pos{}) {
			l.toks[n-1].End = Pos{file, l.line, l.col - 1}
		}
		switch {
		case c == '\n':
			l.adv(1)
			l.newLine = true
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			l.adv(1)
		case c == '\\' && l.peek(1) == '*':
			for l.i < len(src) && src[l.i] != '\n' {
				l.adv(1)
			}
		case c == '(' && l.peek(1) == '*':
			if err := l.blockComment(); err != nil {
				return nil, err
			}
		case l.atDashes():
			n := l.run('-')
			if l.moduleFollows() {
				l.emit(Begin, "MODULE", pos)
				l.adv(n)
				depth++
				continue
			}
			l.adv(n)
			l.emit(Op, strings.Repeat("-", min(n, 4)), pos) // a separator line ----
		case c == '=' && l.peek(1) == '=' && l.peek(2) == '=' && l.peek(3) == '=':
			l.adv(l.run('='))
			l.emit(End, "====", pos)
			if depth--; depth <= 0 {
				// SANY reads a module that follows (one may EXTEND another).
				if l.skipToModule(); l.i == len(src) {
					l.toks = append(l.toks, Token{Kind: EOF, Pos: Pos{file, l.line, l.col}})
					return l.toks, nil
				}
			}
		case c == '_' && (l.lastIs("]") || l.lastIs(">>")):
			l.emit(Sub, "_", pos)
			l.adv(1)
		case isLetter(c) || isDigit(c) && l.identAhead():
			l.word(pos)
		case isDigit(c):
			j := l.i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			l.emit(Number, string(src[l.i:j]), pos)
			l.adv(j - l.i)
		case c == '\\' && (l.peek(1) == 'b' || l.peek(1) == 'o' || l.peek(1) == 'h') && isDigit(l.peek(2)):
			j := l.i + 2
			for j < len(src) && (isDigit(src[j]) || isLetter(src[j])) {
				j++
			}
			l.emit(Number, string(src[l.i:j]), pos)
			l.adv(j - l.i)
		case c == '"':
			s, n, err := l.str()
			if err != nil {
				return nil, err
			}
			l.emit(String, s, pos)
			l.adv(n)
		case c == '\\' && isLetter(l.peek(1)):
			j := l.i + 1
			for j < len(src) && isLetter(src[j]) && src[j] != '_' {
				j++
			}
			l.emit(Op, string(src[l.i:j]), pos)
			l.adv(j - l.i)
		case c == '\\':
			if l.peek(1) == '/' {
				l.emit(Op, "\\/", pos)
				l.adv(2)
			} else {
				l.emit(Op, "\\", pos)
				l.adv(1)
			}
		default:
			if err := l.symbol(c, pos); err != nil {
				return nil, err
			}
		}
	}
	if depth > 0 {
		return nil, &Error{Pos{file, l.line, l.col}, "module not closed with ===="}
	}
	if len(l.toks) == 0 {
		return nil, &Error{Pos{file, 1, 1}, "no ---- MODULE header"}
	}
	return append(l.toks, Token{Kind: EOF, Pos: Pos{file, l.line, l.col}}), nil
}

type lexer struct {
	file      string
	src       []byte
	i         int
	line, col int
	toks      []Token
	newLine   bool
}

func (l *lexer) peek(k int) byte {
	if l.i+k < len(l.src) {
		return l.src[l.i+k]
	}
	return 0
}

func (l *lexer) adv(n int) {
	for k := 0; k < n && l.i < len(l.src); k++ {
		if l.src[l.i] == '\n' {
			l.line, l.col = l.line+1, 1
		} else if l.src[l.i] < 0x80 || l.src[l.i] >= 0xC0 {
			l.col++
		}
		l.i++
	}
}

func (l *lexer) emit(k Kind, text string, pos Pos) {
	l.toks = append(l.toks, Token{Kind: k, Text: text, Pos: pos, NewLine: l.newLine})
	l.newLine = false
}

func (l *lexer) lastIs(s string) bool {
	if len(l.toks) == 0 {
		return false
	}
	t := l.toks[len(l.toks)-1]
	// Only directly adjacent: ]_v, not ] _v.
	return t.Kind == Op && t.Text == s && t.Pos.Line == l.line && t.Pos.Col+len(s) == l.col
}

func (l *lexer) run(c byte) int {
	n := 0
	for l.i+n < len(l.src) && l.src[l.i+n] == c {
		n++
	}
	return n
}

func (l *lexer) atDashes() bool {
	return l.peek(0) == '-' && l.peek(1) == '-' && l.peek(2) == '-' && l.peek(3) == '-'
}

// skipToModule skips the text before the next "----... MODULE" header,
// which is not TLA+ (before the first module, between two modules).
func (l *lexer) skipToModule() {
	for l.i < len(l.src) && !(l.atDashes() && l.moduleFollows()) {
		l.adv(1)
	}
}

// moduleFollows reports whether "MODULE" follows the dashes at l.i.
func (l *lexer) moduleFollows() bool {
	j := l.i
	for j < len(l.src) && l.src[j] == '-' {
		j++
	}
	for j < len(l.src) && (l.src[j] == ' ' || l.src[j] == '\t') {
		j++
	}
	return strings.HasPrefix(string(l.src[j:min(len(l.src), j+6)]), "MODULE")
}

// identAhead reports whether a run of digits at l.i continues as a name
// (TLA+ allows names like 1a).
func (l *lexer) identAhead() bool {
	j := l.i
	for j < len(l.src) && isDigit(l.src[j]) {
		j++
	}
	return j < len(l.src) && isLetter(l.src[j])
}

func (l *lexer) blockComment() error {
	start := Pos{l.file, l.line, l.col}
	depth := 0
	for {
		if l.i >= len(l.src) {
			return &Error{start, "comment (* not closed"}
		}
		if l.peek(0) == '(' && l.peek(1) == '*' {
			if depth++; depth > MaxCommentDepth {
				return &Error{start, fmt.Sprintf("comments nested deeper than %d", MaxCommentDepth)}
			}
			l.adv(2)
			continue
		}
		if l.peek(0) == '*' && l.peek(1) == ')' {
			l.adv(2)
			if depth--; depth == 0 {
				return nil
			}
			continue
		}
		l.adv(1)
	}
}

func (l *lexer) str() (string, int, error) {
	start := Pos{l.file, l.line, l.col}
	var b strings.Builder
	j := l.i + 1
	for {
		if j >= len(l.src) || l.src[j] == '\n' {
			return "", 0, &Error{start, "string not closed on its line"}
		}
		c := l.src[j]
		if c == '"' {
			return b.String(), j + 1 - l.i, nil
		}
		if c == '\\' && j+1 < len(l.src) {
			switch l.src[j+1] {
			case '"', '\\':
				b.WriteByte(l.src[j+1])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'f':
				b.WriteByte('\f')
			default:
				return "", 0, &Error{start, fmt.Sprintf("unknown escape \\%c in a string", l.src[j+1])}
			}
			j += 2
			continue
		}
		b.WriteByte(c)
		j++
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// word lexes an identifier or a keyword, and WF_/SF_ as a fairness token
// followed by the subscript's name.
func (l *lexer) word(pos Pos) {
	src := l.src
	j := l.i
	for j < len(src) && (isLetter(src[j]) || isDigit(src[j])) {
		j++
	}
	word := string(src[l.i:j])
	if (strings.HasPrefix(word, "WF_") || strings.HasPrefix(word, "SF_")) && len(word) >= 3 {
		l.emit(Fair, word[:2], pos)
		l.adv(3)
		if len(word) > 3 {
			rest := Pos{l.file, l.line, l.col}
			l.emit(Ident, word[3:], rest)
			l.adv(len(word) - 3)
		}
		return
	}
	kind := Ident
	if reserved[word] {
		kind = Keyword
	}
	l.emit(kind, word, pos)
	l.adv(j - l.i)
}

// symbol lexes an operator or a punctuation symbol: the first entry of
// symbols that matches.
func (l *lexer) symbol(c byte, pos Pos) error {
	src := l.src
	matched := ""
	for _, s := range symbols {
		if strings.HasPrefix(string(src[l.i:min(len(src), l.i+len(s))]), s) {
			matched = s
			break
		}
	}
	if matched == "" {
		return &Error{pos, fmt.Sprintf("unexpected character %q", rune(c))}
	}
	l.emit(Op, matched, pos)
	l.adv(len(matched))
	return nil
}
