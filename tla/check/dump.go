package check

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrDumpTooLarge is returned by Dump when the state graph has more states
// than its limit: a DOT file of a larger graph is of no use to a reader and
// would cost its whole memory.
var ErrDumpTooLarge = errors.New("check: state graph too large to dump")

// DumpOptions tune Dump.
type DumpOptions struct {
	// MaxStates caps the states written (0: 10,000).
	MaxStates int
}

// Dump writes the reachable state graph of sys within its constraints to w
// in Graphviz DOT, as TLC's -dump dot does: a node per distinct state
// (identified by its fingerprint, through the System's VIEW or SYMMETRY
// when it has one) labelled with its variables' values as a conjunction,
// initial states filled, and an edge per step labelled with its action.
// It is for small models an engineer wants to look at; invariants are not
// checked (Run checks them). States outside the constraints are left out,
// as the checker counts but never stores them.
func Dump(ctx context.Context, sys System, w io.Writer, opts DumpOptions) error {
	if opts.MaxStates <= 0 {
		opts.MaxStates = 10000
	}
	c := &checker{sys: sys, vars: sys.Variables(), cons: sys.Constraints(), acons: sys.ActionConstraints()}
	c.setupProps()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "strict digraph DiskGraph {\nnodesep=0.35\nsubgraph cluster_graph {\ncolor=\"white\"\n")
	seen := map[uint64]bool{}
	var queue []State
	node := func(s State, fp uint64, initial bool) error {
		if seen[fp] {
			return nil
		}
		if len(seen) >= opts.MaxStates {
			return fmt.Errorf("%w: more than %d states", ErrDumpTooLarge, opts.MaxStates)
		}
		seen[fp] = true
		style := ""
		if initial {
			style = ",style = filled"
		}
		fmt.Fprintf(bw, "%d [label=%s%s]\n", int64(fp), dotString(c.label(s)), style)
		queue = append(queue, s)
		return nil
	}
	if err := sys.Init(func(s State) error {
		ok, err := c.within(nil, s)
		if err != nil || !ok {
			return err
		}
		fp, err := c.fingerprintOf(s)
		if err != nil {
			return err
		}
		return node(s, fp, true)
	}); err != nil {
		return fmt.Errorf("check: dump: %w", err)
	}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := queue[0]
		queue = queue[1:]
		from, err := c.fingerprintOf(s)
		if err != nil {
			return fmt.Errorf("check: dump: %w", err)
		}
		err = sys.Next(s, func(t State, action string) error {
			ok, err := c.within(s, t)
			if err != nil || !ok {
				return err
			}
			to, err := c.fingerprintOf(t)
			if err != nil {
				return err
			}
			if err := node(t, to, false); err != nil {
				return err
			}
			fmt.Fprintf(bw, "%d -> %d [label=%s,color=\"black\",fontcolor=\"black\"];\n", int64(from), int64(to), dotString(action))
			return nil
		})
		if err != nil {
			return fmt.Errorf("check: dump: %w", err)
		}
	}
	fmt.Fprintf(bw, "}\n}\n")
	return bw.Flush()
}

// within reports whether t satisfies the state constraints and, after s,
// the action constraints.
func (c *checker) within(s, t State) (bool, error) {
	var cand candidate
	c.judge(s, t, &cand, nil)
	return !cand.out, cand.err
}

// label is a state as TLC's dump prints it: one "/\ v = value" line per
// variable, or "v = value" for a single variable.
func (c *checker) label(s State) string {
	if len(s) == 1 {
		return c.vars[0] + " = " + s[0].String()
	}
	var b strings.Builder
	for i, v := range s {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "/\\ %s = %s", c.vars[i], v.String())
	}
	return b.String()
}

// dotString quotes s as a DOT string: backslashes, quotes and newlines
// escaped, so that a value's text cannot end the label.
func dotString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
