package cfg

import (
	"fmt"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tEq       // =
	tArrow    // <-
	tLBracket // [
	tRBracket // ]
	tLBrace   // {
	tRBrace   // }
	tLTuple   // <<
	tRTuple   // >>
	tComma
	tMinus
	tDefEq // == (a module's definition, not configuration syntax)
)

type token struct {
	kind tokKind
	text string
	pos  Pos
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end of the file"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// maxCommentDepth caps nested (* *) comments.
const maxCommentDepth = 64

// lex splits src into tokens. Comments are \* to the end of the line and
// (* ... *), which nest as in TLA+.
func lex(file string, src []byte) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else if src[i] < 0x80 || src[i] >= 0xC0 {
				col++ // one column per character, not per UTF-8 byte
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		pos := Pos{file, line, col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			adv(1)
		case c == '\\' && i+1 < len(src) && src[i+1] == '*':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case c == '(' && i+1 < len(src) && src[i+1] == '*':
			depth := 0
			for {
				if i >= len(src) {
					return nil, &Error{pos, "comment (* not closed"}
				}
				if src[i] == '(' && i+1 < len(src) && src[i+1] == '*' {
					if depth++; depth > maxCommentDepth {
						return nil, &Error{Pos{file, line, col}, fmt.Sprintf("comments nested deeper than %d", maxCommentDepth)}
					}
					adv(2)
					continue
				}
				if src[i] == '*' && i+1 < len(src) && src[i+1] == ')' {
					adv(2)
					if depth--; depth == 0 {
						break
					}
					continue
				}
				adv(1)
			}
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			toks = append(toks, token{tIdent, string(src[i:j]), pos})
			adv(j - i)
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j < len(src) && isIdentStart(src[j]) {
				// TLA+ names may start with digits (e.g. 1a); TLC's
				// configuration does not use them: refuse clearly.
				return nil, &Error{pos, fmt.Sprintf("a name may not start with a digit: %q", string(src[i:j+1]))}
			}
			toks = append(toks, token{tNumber, string(src[i:j]), pos})
			adv(j - i)
		case c == '"':
			s, j, err := scanString(src, i, pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, s, pos})
			adv(j + 1 - i)
		case c == '=' && i+1 < len(src) && src[i+1] == '=':
			toks = append(toks, token{tDefEq, "==", pos})
			adv(2)
		case c == '<' && i+1 < len(src) && src[i+1] == '-':
			toks = append(toks, token{tArrow, "<-", pos})
			adv(2)
		case c == '<' && i+1 < len(src) && src[i+1] == '<':
			toks = append(toks, token{tLTuple, "<<", pos})
			adv(2)
		case c == '>' && i+1 < len(src) && src[i+1] == '>':
			toks = append(toks, token{tRTuple, ">>", pos})
			adv(2)
		default:
			k, ok := map[byte]tokKind{'=': tEq, '[': tLBracket, ']': tRBracket, '{': tLBrace, '}': tRBrace, ',': tComma, '-': tMinus}[c]
			if !ok {
				r, _ := utf8.DecodeRune(src[i:])
				return nil, &Error{pos, fmt.Sprintf("unexpected character %q", r)}
			}
			toks = append(toks, token{k, string(c), pos})
			adv(1)
		}
	}
	return append(toks, token{tEOF, "", Pos{file, line, col}}), nil
}

// scanString reads the string literal that starts at src[i] (a double
// quote), on one line, with the escapes \" \\ \n \t. It returns the
// string and the index of its closing quote.
func scanString(src []byte, i int, pos Pos) (string, int, error) {
	j := i + 1
	var s []byte
	for {
		if j >= len(src) || src[j] == '\n' {
			return "", 0, &Error{pos, "string not closed on its line"}
		}
		if src[j] == '"' {
			break
		}
		if src[j] == '\\' && j+1 < len(src) {
			switch src[j+1] {
			case '"', '\\':
				s = append(s, src[j+1])
			case 'n':
				s = append(s, '\n')
			case 't':
				s = append(s, '\t')
			default:
				return "", 0, &Error{pos, fmt.Sprintf("unknown escape \\%c in a string", src[j+1])}
			}
			j += 2
			continue
		}
		s = append(s, src[j])
		j++
	}
	if !utf8.Valid(s) {
		return "", 0, &Error{pos, "string is not valid UTF-8"}
	}
	return string(s), j, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
