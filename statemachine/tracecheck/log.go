package tracecheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/verimeter/verimeter/statemachine"
)

// MaxLineBytes caps a trace line, so that a corrupt or hostile log cannot
// make the reader hold an unbounded line in memory.
const MaxLineBytes = 1 << 20

// Step is one logged step with where it was read, so that every report can
// name the file and line an operator opens.
type Step struct {
	statemachine.TraceLine
	File string
	Line int    // 1-based line number in File
	Raw  string // the line as read, for reports
}

// Where is the step's file:line.
func (s *Step) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// The classes of malformed logs, for errors.Is on a *ParseError.
var (
	// ErrLineTooLong: a line exceeds MaxLineBytes.
	ErrLineTooLong = errors.New("trace line too long")
	// ErrBadJSON: a line is not one JSON object of TraceLine's fields.
	ErrBadJSON = errors.New("trace line is not a TraceLine JSON object")
	// ErrMissingField: a line lacks role, node, action, clock or state.
	ErrMissingField = errors.New("trace line lacks a required field")
	// ErrClockOrder: a node's clock does not strictly increase from one
	// line to the next (a Lamport clock ticks at every step).
	ErrClockOrder = errors.New("the Lamport clock does not increase")
	// ErrMixedNodes: a log holds the steps of more than one node, or a
	// node changes role.
	ErrMixedNodes = errors.New("one log per node")
	// ErrNodeInTwoLogs: two logs hold steps of the same node.
	ErrNodeInTwoLogs = errors.New("node logged in two files")
)

// ParseError is a malformed log line, with its file:line.
type ParseError struct {
	File string
	Line int
	Err  error // one of the Err… classes above, possibly wrapping detail
}

// Error starts with file:line, as compilers print positions, so editors
// and terminals jump to the line.
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap gives the class of the error.
func (e *ParseError) Unwrap() error { return e.Err }

// detail wraps a class with a detail message.
type detail struct {
	class error
	msg   string
}

func (d *detail) Error() string { return d.class.Error() + ": " + d.msg }
func (d *detail) Unwrap() error { return d.class }

func bad(file string, line int, class error, f string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Err: &detail{class, fmt.Sprintf(f, args...)}}
}

// ReadLog parses one node's NDJSON log strictly; file names it in errors.
// An empty log is valid (a node that took no step).
func ReadLog(file string, r io.Reader) ([]Step, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), MaxLineBytes)
	var out []Step
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Bytes()
		var l statemachine.TraceLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, bad(file, n, ErrBadJSON, "%v", err)
		}
		if dec.More() {
			return nil, bad(file, n, ErrBadJSON, "data after the object")
		}
		switch {
		case l.Role == "":
			return nil, bad(file, n, ErrMissingField, "role")
		case l.Node == "":
			return nil, bad(file, n, ErrMissingField, "node")
		case l.Action == "":
			return nil, bad(file, n, ErrMissingField, "action")
		case l.Clock == 0:
			return nil, bad(file, n, ErrMissingField, "clock (a Lamport time is at least 1)")
		case len(l.State) == 0 || bytes.Equal(l.State, []byte("null")):
			return nil, bad(file, n, ErrMissingField, "state")
		}
		if len(out) > 0 {
			prev := out[len(out)-1]
			if l.Node != prev.Node || l.Role != prev.Role {
				return nil, bad(file, n, ErrMixedNodes, "%s %s after %s %s at line %d", l.Role, l.Node, prev.Role, prev.Node, prev.Line)
			}
			if l.Clock <= prev.Clock {
				return nil, bad(file, n, ErrClockOrder, "clock %d after %d at line %d", l.Clock, prev.Clock, prev.Line)
			}
		}
		out = append(out, Step{TraceLine: l, File: file, Line: n, Raw: string(raw)})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, bad(file, n+1, ErrLineTooLong, "more than %d bytes", MaxLineBytes)
		}
		return nil, fmt.Errorf("tracecheck: reading %s: %w", file, err)
	}
	return out, nil
}

// ReadFile reads one log with ReadLog.
func ReadFile(path string) ([]Step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tracecheck: %w", err)
	}
	defer f.Close()
	return ReadLog(path, f)
}

// Merge orders the steps of several logs by Lamport clock, ties broken by
// node name (Check tries every order of a tie). Each log must be one node's
// as ReadLog returns it; a node in two logs is a *ParseError.
func Merge(logs ...[]Step) ([]Step, error) {
	first := map[string]*Step{}
	var all []Step
	for _, l := range logs {
		if len(l) == 0 {
			continue
		}
		s := &l[0]
		if f, dup := first[s.Node]; dup {
			return nil, bad(s.File, s.Line, ErrNodeInTwoLogs, "node %s also in %s", s.Node, f.Where())
		}
		first[s.Node] = s
		all = append(all, l...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Clock != b.Clock {
			return a.Clock < b.Clock
		}
		return a.Node < b.Node
	})
	return all, nil
}
