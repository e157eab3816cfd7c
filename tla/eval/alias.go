package eval

import (
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// aliasErrorField is the line TLC adds to a state whose ALIAS could not be
// evaluated, after the variables: the error's text.
const aliasErrorField = "_ALIASEvalError"

// aliasFormatField names the alias record's field that TLC reads as the
// pattern of each printed line instead of "/\ %s = %s\n".
const aliasFormatField = "_format"

// ApplyAlias fills res.Shown with the counterexample's states as the
// configuration's ALIAS shows them, as TLC prints a trace: the ALIAS, an
// expression of a step (it may read primed variables), is evaluated on each
// state of the trace and the state after it (the last state: the one its
// cycle returns to, else itself), with TLCGet("level") the states' places in
// the trace; a record (or a function of strings) is printed field by field
// in its own order, any other value leaves the state printed by its
// variables, and an evaluation error prints the variables and the error's
// text as the field _ALIASEvalError. Without an ALIAS or a trace it does
// nothing. The checker has ended: the levels it set are restored to
// unknown.
func (m *Machine) ApplyAlias(res *check.Result) {
	if m.alias == nil || len(res.Trace) == 0 {
		return
	}
	defer m.tlc.setLevels(-1, -1)
	last := len(res.Trace) - 1
	res.Shown = make([]check.ShownState, len(res.Trace))
	for i, st := range res.Trace {
		succ := i + 1
		switch {
		case i < last:
		case res.Verdict == check.LivenessViolated && st.Action != check.StutteringAction:
			succ = res.CycleStart
		default:
			succ = i
		}
		m.tlc.setLevels(i+1, succ+1)
		res.Shown[i] = m.shown(st.State, res.Trace[succ].State)
	}
}

// shown is the state cur, followed by next, as the ALIAS shows it.
func (m *Machine) shown(cur, next check.State) check.ShownState {
	v, err := m.eval(m.alias, nil, &frame{cur: cur, nxt: next})
	if err != nil {
		s := check.ShownState{Names: append([]string(nil), m.vars...), Values: append([]value.Value(nil), cur...)}
		s.Names = append(s.Names, aliasErrorField)
		s.Values = append(s.Values, m.strs.String(err.Error()))
		return s
	}
	f, ok := v.(*value.Func)
	if !ok || f.Len() == 0 {
		return check.ShownState{Names: m.vars, Values: cur}
	}
	var s check.ShownState
	for i := 0; i < f.Len(); i++ {
		name, ok := f.DomainAt(i).(value.Str)
		if !ok {
			return check.ShownState{Names: m.vars, Values: cur} // not a record
		}
		if name.Go() == aliasFormatField {
			if p, ok := f.RangeAt(i).(value.Str); ok {
				s.Format = p.Go()
				continue
			}
		}
		s.Names = append(s.Names, name.Go())
		s.Values = append(s.Values, f.RangeAt(i))
	}
	return s
}
