package itf

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// Trace is an ITF document: metadata, the variable names and the states.
type Trace struct {
	Meta   map[string]any   `json:"#meta"`
	Vars   []string         `json:"vars"`
	States []map[string]any `json:"states"`
	// Loop is the index of the state a lasso trace returns to (liveness).
	Loop *int `json:"loop,omitempty"`
}

// Value converts one TLA+ value to its ITF form.
func Value(v value.Value) (any, error) {
	switch x := v.(type) {
	case value.Bool:
		return bool(x), nil
	case value.Int:
		return map[string]string{"#bigint": strconv.FormatInt(int64(x), 10)}, nil
	case value.Str:
		return x.Go(), nil
	case value.Model:
		return map[string]string{"#unserializable": x.Name()}, nil
	case *value.Func:
		n := x.Len()
		if x.IsSeq() {
			out := make([]any, n)
			for i := range n {
				e, err := Value(x.RangeAt(i))
				if err != nil {
					return nil, err
				}
				out[i] = e
			}
			return out, nil
		}
		if allStrings(x) {
			out := make(map[string]any, n)
			for i := range n {
				k, ok := x.DomainAt(i).(value.Str)
				if !ok {
					return nil, fmt.Errorf("itf: record field %s is not a string", x.DomainAt(i))
				}
				e, err := Value(x.RangeAt(i))
				if err != nil {
					return nil, err
				}
				out[k.Go()] = e
			}
			return out, nil
		}
		pairs := make([][2]any, n)
		for i := range n {
			k, err := Value(x.DomainAt(i))
			if err != nil {
				return nil, err
			}
			e, err := Value(x.RangeAt(i))
			if err != nil {
				return nil, err
			}
			pairs[i] = [2]any{k, e}
		}
		return map[string]any{"#map": pairs}, nil
	case value.SetValue:
		s, err := x.Enumerate()
		if err != nil {
			// Nat, Seq(S): ITF has no form for an infinite set.
			return map[string]string{"#unserializable": v.String()}, nil
		}
		out := make([]any, s.Len())
		for i := range s.Len() {
			e, err := Value(s.At(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return map[string]any{"#set": out}, nil
	}
	return map[string]string{"#unserializable": v.String()}, nil
}

// FromResult builds the ITF trace of a run's counterexample; source names
// the specification in the metadata.
func FromResult(res check.Result, source string) (*Trace, error) {
	if len(res.Trace) == 0 {
		return nil, fmt.Errorf("itf: the result has no trace")
	}
	t := &Trace{
		Meta: map[string]any{"format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
			"source": source, "description": "counterexample of verimeter check: " + string(res.Verdict) + " " + res.Invariant},
		Vars: res.Variables,
	}
	for i, st := range res.Trace {
		m := map[string]any{"#meta": map[string]any{"index": i, "action": st.Action}}
		for j, v := range st.State {
			if j >= len(res.Variables) {
				break
			}
			e, err := Value(v)
			if err != nil {
				return nil, err
			}
			m[res.Variables[j]] = e
		}
		t.States = append(t.States, m)
	}
	return t, nil
}

// Write encodes the trace of res as ITF JSON on w.
func Write(w io.Writer, res check.Result, source string) error {
	t, err := FromResult(res, source)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// allStrings reports whether f's domain is a non-empty set of strings:
// ITF writes such a function (a record, as TLC prints it) as an object.
func allStrings(f *value.Func) bool {
	if f.Len() == 0 {
		return false
	}
	for i := range f.Len() {
		if _, ok := f.DomainAt(i).(value.Str); !ok {
			return false
		}
	}
	return true
}
