package difftest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Adapter runs one generated machine for the harness; states and events go
// through reflection so that one harness serves every module and role.
type Adapter struct {
	Module string           // spec module, e.g. "Channel"
	Role   string           // e.g. "meter"
	Wide   map[string]int64 // constants overridden for random walks (larger bounds)
	// Small, when not nil, overrides constants of the .cfg for Exhaustive:
	// a model whose every state the check visits in reasonable time, for a
	// module whose .cfg model is too large for it (say so where it is set).
	Small map[string]int64
	// MinSteps is the number of random-walk steps the role's test
	// requires when the model's walks end early (0: the test's default).
	MinSteps int
	Params   any // *XParams; its fields are filled from the .cfg
	Init     func() reflect.Value
	// Event returns a new *XEvent.
	Event func() reflect.Value
	// Step runs Step on *XState s with *XEvent ev.
	Step func(s, ev reflect.Value) (Out, error)
}

// Out is what a generated Step wrote into its Output.
type Out struct {
	Sends   map[string][]reflect.Value // messages by channel variable
	Action  string
	Persist bool
}

// harness pairs a generated machine with the evaluator on the module's model.
type harness struct {
	ad     *Adapter
	mod    *gen.Machine
	ev     *eval.Machine
	idx    map[string]int
	consts map[string]int64
	// counters for the report
	steps, stepCalls, refused, boundOnly int
	foreign                              map[string]int
	// domains names, per parameter drawn from a definition (Presentable),
	// the action withDomains added to enumerate it.
	domains map[*gen.Param]string
}

// withDomains returns the module to evaluate: the spec's own, or, when a
// parameter of the role's actions is drawn from a definition (a set of
// records, say), a copy in a temporary directory with one action per such
// parameter, DiffTestDomainN == \E x \in D : v' = x, whose successors
// (eval.ActionSuccessors) list D's elements in the first variable's slot:
// the evaluator is untyped, and the copy's other definitions and
// positions are the spec's.
func withDomains(t testing.TB, specDir string, mod *gen.Machine) (string, map[*gen.Param]string) {
	path := specDir + "/" + mod.Module + ".tla"
	domains := map[*gen.Param]string{}
	var defs []string
	for _, a := range mod.Actions {
		for _, p := range a.Params {
			if p.From != "" || p.Lo != nil || len(p.Enum) > 0 {
				continue
			}
			name := "DiffTestDomain" + strconv.Itoa(len(defs)+1)
			domains[p] = name
			defs = append(defs, name+" == \\E x \\in "+p.Domain+" : "+mod.Vars[0].Name+"' = x")
		}
	}
	if len(defs) == 0 {
		return path, domains
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := regexp.MustCompile(`(?m)^====+\s*$`).FindIndex(src)
	if end == nil {
		t.Fatalf("%s: no closing ==== line", path)
	}
	out := append(append([]byte(nil), src[:end[0]]...), []byte(strings.Join(defs, "\n")+"\n")...)
	out = append(out, src[end[0]:]...)
	tpath := filepath.Join(t.TempDir(), mod.Module+".tla")
	if err := os.WriteFile(tpath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return tpath, domains
}

// newHarness loads the module's model; wide, when not nil, overrides
// constants of its .cfg (larger bounds for random walks, so they are not
// spent on states where every bound is reached).
func newHarness(t testing.TB, specDir string, ad *Adapter, wide map[string]int64) *harness {
	t.Helper()
	cpath := specDir + "/" + ad.Module + ".cfg"
	src, err := os.ReadFile(cpath)
	if err != nil {
		t.Fatal(err)
	}
	if wide != nil {
		for name, v := range wide {
			re := regexp.MustCompile(`(?m)^(\s*` + name + `\s*=\s*)\d+`)
			if !re.Match(src) {
				t.Fatalf("%s: no constant %s to override", cpath, name)
			}
			src = re.ReplaceAll(src, []byte("${1}"+strconv.FormatInt(v, 10)))
		}
		cpath = filepath.Join(t.TempDir(), ad.Module+".cfg")
		if err := os.WriteFile(cpath, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mod, _, err := gen.LoadMachine(specDir, ad.Module, ad.Role)
	if err != nil {
		t.Fatal(err)
	}
	tpath, domains := withDomains(t, specDir, mod)
	ev, err := eval.LoadModel(tpath, cpath)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{ad: ad, mod: mod, ev: ev, idx: map[string]int{}, consts: map[string]int64{}, foreign: map[string]int{}, domains: domains}
	for i, v := range ev.Variables() {
		h.idx[v] = i
	}
	c, err := cfg.Parse(cpath, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.Constants {
		if k.Value != nil && k.Value.Kind == cfg.Int {
			h.consts[k.Name] = k.Value.Int
		}
	}
	pv := reflect.ValueOf(ad.Params).Elem()
	for i := 0; i < pv.NumField(); i++ {
		name := pv.Type().Field(i).Tag.Get("tla")
		if name == "" {
			continue // not a constant: the Crypto hook, set by the adapter
		}
		n, ok := h.consts[name]
		if !ok {
			t.Fatalf("%s: constant %s not in the .cfg", ad.Module, name)
		}
		pv.Field(i).SetInt(n)
	}
	return h
}

func (h *harness) initState(t testing.TB) check.State {
	var inits []check.State
	if err := h.ev.Init(func(s check.State) error { inits = append(inits, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(inits) != 1 {
		t.Fatalf("%s: %d initial states, want 1", h.ad.Module, len(inits))
	}
	return inits[0]
}

// fataler is what both *testing.T and *rapid.T offer.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

type succ struct {
	action string
	state  check.State
}

func (h *harness) successors(t fataler, s check.State) []succ {
	var out []succ
	if err := h.ev.Next(s, func(n check.State, a string) error { out = append(out, succ{a, n}); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// stateField is a variable of the role in a generated state: a field
// tagged with its name, also inside a field tagged `tla:",inline"` (a
// machine's state beside its @store, in <M>Full of store_gen_test.go).
type stateField struct {
	name string
	v    reflect.Value
}

func fieldsOf(st reflect.Value) []stateField {
	paths := statePaths(st.Type())
	out := make([]stateField, len(paths))
	for i, p := range paths {
		out[i] = stateField{p.name, st.FieldByIndex(p.index)}
	}
	return out
}

// statePath is where a tagged field of a state type is (fieldsOf).
type statePath struct {
	name  string
	index []int
}

// statePathCache holds statePaths by type: the harness looks at the
// fields of every state it checks, millions of times a run, and
// reflect's tag lookups were most of that.
var statePathCache sync.Map // reflect.Type -> []statePath

func statePaths(t reflect.Type) []statePath {
	if p, ok := statePathCache.Load(t); ok {
		return p.([]statePath)
	}
	var out []statePath
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("tla")
		if tag == ",inline" {
			for _, in := range statePaths(t.Field(i).Type) {
				out = append(out, statePath{in.name, append([]int{i}, in.index...)})
			}
			continue
		}
		if tag == "" {
			continue
		}
		out = append(out, statePath{tag, []int{i}})
	}
	statePathCache.Store(t, out)
	return out
}

// stateKey prints a generated state as projKey prints the spec's.
func stateKey(gs reflect.Value) string {
	var parts []string
	for _, f := range fieldsOf(gs.Elem()) {
		parts = append(parts, f.name+" |-> "+canonGo(f.v))
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}

// compare reports where the generated state differs from the evaluator's
// state projected onto the role's variables.
func (h *harness) compare(gs reflect.Value, es check.State) error {
	for _, f := range fieldsOf(gs.Elem()) {
		got, want := canonGo(f.v), value.Canonical(es[h.idx[f.name]])
		if got != want {
			return fmt.Errorf("%s: generated %s, spec %s", f.name, got, want)
		}
	}
	return nil
}

// project sets the generated state to the evaluator's state.
func (h *harness) project(es check.State) reflect.Value {
	gs := h.ad.Init()
	for _, f := range fieldsOf(gs.Elem()) {
		fromVal(f.v, es[h.idx[f.name]])
	}
	return gs
}

// clone copies a generated state, the maps of a reference store included.
func clone(gs reflect.Value) reflect.Value {
	c := reflect.New(gs.Elem().Type())
	c.Elem().Set(gs.Elem())
	for _, f := range fieldsOf(c.Elem()) {
		if f.v.Kind() == reflect.Map && !f.v.IsNil() {
			m := reflect.MakeMapWithSize(f.v.Type(), f.v.Len())
			it := f.v.MapRange()
			for it.Next() {
				m.SetMapIndex(it.Key(), it.Value())
			}
			f.v.Set(m)
		}
	}
	return c
}

// projKey prints the spec's state projected onto the role's variables as
// stateKey prints the generated state.
func (h *harness) projKey(es check.State) string {
	var parts []string
	for _, f := range fieldsOf(h.ad.Init().Elem()) {
		parts = append(parts, f.name+" |-> "+value.Canonical(es[h.idx[f.name]]))
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}

// sendKey prints the send variables of a spec state, or of a state plus a
// step's messages.
func (h *harness) sendKey(es check.State, sends map[string][]reflect.Value) string {
	var b strings.Builder
	for _, sv := range h.mod.Sends {
		got := elems(es[h.idx[sv.Name]])
		for _, m := range sends[sv.Name] {
			got = append(got, canonGo(m))
		}
		b.WriteString(sv.Name + " = " + value.CanonicalSet(got) + "; ")
	}
	return b.String()
}

// args lists the parameter values to try for an action in es: every
// combination of the elements of the variables Next draws them from.
func (h *harness) args(es check.State, act *gen.Action) ([][]value.Value, error) {
	combos := [][]value.Value{nil}
	for _, p := range act.Params {
		var vals []value.Value
		switch {
		case p.From != "":
			s, err := es[h.idx[p.From]].(value.SetValue).Enumerate()
			if err != nil {
				return nil, err
			}
			vals = s.Elems()
		case p.Lo != nil:
			ints, err := gen.RangeValues(p, func(n string) (int64, bool) {
				if i, ok := h.idx[n]; ok {
					v, ok := es[i].(value.Int)
					return int64(v), ok
				}
				c, ok := h.consts[n]
				return c, ok
			})
			if err != nil {
				return nil, err
			}
			for _, v := range ints {
				vals = append(vals, value.Int(v))
			}
		case len(p.Enum) > 0:
			for _, el := range p.Enum {
				switch x := el.(type) {
				case *syntax.Str:
					vals = append(vals, h.ev.Str(x.Val))
				case *syntax.Num:
					n, err := strconv.ParseInt(x.Text, 10, 64)
					if err != nil {
						return nil, err
					}
					vals = append(vals, value.Int(n))
				default:
					return nil, fmt.Errorf("parameter %s of %s: element %v of %s is not a literal", p.Name, act.Name, el, p.Domain)
				}
			}
		case h.domains[p] != "":
			first := h.idx[h.mod.Vars[0].Name]
			seen := map[string]bool{}
			if err := h.ev.ActionSuccessors(h.domains[p], nil, es, func(t check.State) error {
				if k := value.Canonical(t[first]); !seen[k] {
					seen[k] = true
					vals = append(vals, t[first])
				}
				return nil
			}); err != nil {
				return nil, fmt.Errorf("enumerating %s: %w", p.Domain, err)
			}
		default:
			return nil, fmt.Errorf("parameter %s of %s is drawn from %s: no values to try", p.Name, act.Name, p.Domain)
		}
		var next [][]value.Value
		for _, c := range combos {
			for _, v := range vals {
				next = append(next, append(append([]value.Value(nil), c...), v))
			}
		}
		combos = next
	}
	return combos, nil
}

// event checks one event kind of the role in state (es, gs): Step succeeds
// exactly when the spec's action is enabled (up to dropped model bounds)
// and then gives the spec's successor and messages. An action with
// parameters is tried with every parameter value Next draws from: Step
// refuses it exactly when the spec's action with those very arguments is
// not enabled (eval.ActionSuccessors), a step it takes is one of that
// action's successors, and every successor of the action from Next is
// given by some event.
// It returns the generated successors by projection key.
func (h *harness) event(es check.State, gs reflect.Value, succs []succ, k int) (map[string]reflect.Value, error) {
	act := h.mod.Actions[k-1]
	want := map[string]check.State{}
	n := 0
	for _, s := range succs {
		if s.action == act.Name {
			want[h.projKey(s.state)+" / "+h.sendKey(s.state, nil)] = s.state
			n++
		}
	}
	if len(act.Params) == 0 && n > 1 {
		return nil, fmt.Errorf("action %s has %d successors: not deterministic", act.Name, n)
	}
	combos, err := h.args(es, act)
	if err != nil {
		return nil, err
	}
	got := map[string]reflect.Value{}
	for _, args := range combos {
		if err := h.eventArgs(es, gs, k, act, args, want, got); err != nil {
			return nil, err
		}
	}
	for w := range want {
		if _, ok := got[w]; !ok {
			return nil, fmt.Errorf("the spec's action %s is enabled, leading to\n  %s\nand no event of it gives that step (refused or different)", act.Name, w)
		}
	}
	return got, nil
}

// eventArgs tries the event of action act (the k-th) with arguments args
// from the spec's state es and the generated state gs: Step refuses it
// exactly when the spec's action is not enabled for these arguments, and a
// step it takes is one of the action's successors (want), which it adds
// to got.
func (h *harness) eventArgs(es check.State, gs reflect.Value, k int, act *gen.Action, args []value.Value, want map[string]check.State, got map[string]reflect.Value) error {
	ev := h.ad.Event()
	ev.Elem().FieldByName("Kind").SetUint(uint64(k))
	lookup := func(name string) (int64, bool) {
		for i, p := range act.Params {
			if p.Name == name {
				v, ok := args[i].(value.Int)
				return int64(v), ok
			}
		}
		if i, ok := h.idx[name]; ok {
			if v, ok := es[i].(value.Int); ok {
				return int64(v), true
			}
		}
		c, ok := h.consts[name]
		return c, ok
	}
	for i, p := range act.Params {
		for j := 0; j < ev.Elem().NumField(); j++ {
			if ev.Elem().Type().Field(j).Tag.Get("tla") == p.Name {
				fromVal(ev.Elem().Field(j), args[i])
			}
		}
	}
	cp := clone(gs)
	h.stepCalls++
	out, err := h.ad.Step(cp, ev)
	sends, took := out.Sends, out.Action
	what := act.Name + fmt.Sprint(args)
	// The spec's successors by the action with these very arguments:
	// Next's successors name the action, not its arguments, so a guard
	// on a parameter alone (a # b) is checked here.
	exact := map[string]bool{}
	if err := h.ev.ActionSuccessors(act.Name, args, es, func(t check.State) error {
		exact[h.projKey(t)+" / "+h.sendKey(t, nil)] = true
		return nil
	}); err != nil {
		return fmt.Errorf("evaluating %s: %w", what, err)
	}
	if err != nil && len(exact) > 0 {
		return fmt.Errorf("event of %s: Step refused it (%v), the spec's action is enabled for these arguments", what, err)
	}
	if err != nil {
		var ge *statemachine.GuardError
		if !errors.Is(err, statemachine.ErrNotEnabled) || !errors.As(err, &ge) || ge.Action != act.Name {
			return fmt.Errorf("event of %s: want a GuardError of that action, got %v", what, err)
		}
		// Equal values print equally: the printing (the states' stores
		// included) is only needed to tell when they are not.
		if !reflect.DeepEqual(cp.Interface(), gs.Interface()) && stateKey(cp) != stateKey(gs) {
			return fmt.Errorf("event of %s: refused step changed the state", what)
		}
		h.refused++
		return nil
	}
	if took != act.Name {
		return fmt.Errorf("event of %s: Step reports action %q", what, took)
	}
	if err := h.checkPersist(act, gs, cp, out.Persist); err != nil {
		return fmt.Errorf("event of %s: %w", what, err)
	}
	key := stateKey(cp) + " / " + h.sendKey(es, sends)
	if !exact[key] {
		boundOnly := false
		for _, b := range act.Bounds {
			ok, berr := gen.BoundHolds(b, lookup)
			if berr != nil {
				return berr
			}
			boundOnly = boundOnly || !ok
		}
		if boundOnly {
			h.boundOnly++
			return nil
		}
		if len(exact) == 0 {
			return fmt.Errorf("event of %s: Step took it, the spec's action is not enabled for these arguments", what)
		}
		var ws []string
		for w := range want {
			ws = append(ws, w)
		}
		sort.Strings(ws)
		return fmt.Errorf("event of %s: Step gives\n  %s\nthe spec's successors by %s are\n  %s", what, key, act.Name, strings.Join(ws, "\n  "))
	}
	got[key] = cp
	return nil
}

// checkPersist: Output.Persist is set exactly when the action assigns a
// @persist variable, and always when one changed (raft's Ready: the caller
// persists before it sends).
func (h *harness) checkPersist(act *gen.Action, before, after reflect.Value, persist bool) error {
	assigns := false
	for _, a := range act.AllAssigns() {
		assigns = assigns || a.Var.Persist
	}
	if persist != assigns {
		return fmt.Errorf("Output.Persist = %v, but the action assigns a @persist variable: %v", persist, assigns)
	}
	bf, af := fieldsOf(before.Elem()), fieldsOf(after.Elem())
	for i := range bf {
		name := bf[i].name
		for _, v := range h.mod.Vars {
			if v.Name == name && v.Persist && canonGo(bf[i].v) != canonGo(af[i].v) && !persist {
				return fmt.Errorf("@persist variable %s changed but Output.Persist is false", name)
			}
		}
	}
	return nil
}

// checkState checks every event of the role in es (and gs) and returns the
// generated successors by action and key.
func (h *harness) checkState(es check.State, gs reflect.Value, succs []succ) (map[string]map[string]reflect.Value, error) {
	if err := h.compare(gs, es); err != nil {
		return nil, err
	}
	out := map[string]map[string]reflect.Value{}
	for k := 1; k <= len(h.mod.Actions); k++ {
		got, err := h.event(es, gs, succs, k)
		if err != nil {
			return nil, err
		}
		out[h.mod.Actions[k-1].Name] = got
	}
	return out, nil
}

// walk takes one random step of the whole model (any role's action) chosen
// by pick, checking every event of the role before it.
func (h *harness) walk(t fataler, es check.State, gs reflect.Value, pick func(n int) int) (check.State, reflect.Value, bool, error) {
	succs := h.successors(t, es)
	next, err := h.checkState(es, gs, succs)
	if err != nil {
		return nil, reflect.Value{}, false, err
	}
	h.steps++
	if len(succs) == 0 {
		return nil, reflect.Value{}, false, nil
	}
	// Choose an action first, then one of its successors, so that an
	// action with many parameters (the attacker's) does not crowd out the rest.
	var actions []string
	by := map[string][]succ{}
	for _, s := range succs {
		if by[s.action] == nil {
			actions = append(actions, s.action)
		}
		by[s.action] = append(by[s.action], s)
	}
	sort.Strings(actions)
	of := by[actions[pick(len(actions))]]
	s := of[pick(len(of))]
	if byKey, ok := next[s.action]; ok {
		ngs, ok := byKey[h.projKey(s.state)+" / "+h.sendKey(s.state, nil)]
		if !ok {
			return nil, reflect.Value{}, false, fmt.Errorf("no generated step for the spec's %s", s.action)
		}
		return s.state, ngs, true, nil
	}
	// Another role's action: the role's state may only change if that
	// action breaks the ownership convention (gen reports it); then the
	// generated state is re-projected from the spec's.
	if h.compare(gs, s.state) != nil {
		h.foreign[s.action]++
		return s.state, h.project(s.state), true, nil
	}
	return s.state, gs, true, nil
}

func elems(v value.Value) []string {
	s, err := v.(value.SetValue).Enumerate()
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range s.Elems() {
		out = append(out, value.Canonical(e))
	}
	return out
}

func isSet(t reflect.Type) bool { return shapeOf(t).kind == shapeSet }

// isTuple: a generated tuple type has fields tagged "1", "2", ...
func isTuple(t reflect.Type) bool { return shapeOf(t).kind == shapeTuple }

func isSeq(t reflect.Type) bool { return shapeOf(t).kind == shapeSeq }

// Shapes of a generated struct type.
const (
	shapeRecord = iota
	shapeSet
	shapeSeq
	shapeTuple
)

// shape is what canonGo needs of a struct type, computed once per type
// (shapeOf): which TLA+ value it holds, and a record's field names.
type shape struct {
	kind int
	tags []string // a record's fields' tla tags
	n, e int      // a set's or sequence's length and elements fields
}

var shapeCache sync.Map // reflect.Type -> *shape

func fieldIndex(t reflect.Type, name string) int {
	f, ok := t.FieldByName(name)
	if !ok || len(f.Index) != 1 {
		panic(fmt.Sprintf("difftest: %s has no field %s", t, name))
	}
	return f.Index[0]
}

func shapeOf(t reflect.Type) *shape {
	if sh, ok := shapeCache.Load(t); ok {
		return sh.(*shape)
	}
	sh := &shape{}
	switch {
	case t.Kind() != reflect.Struct:
	case strings.HasPrefix(t.Name(), "Set["):
		sh.kind = shapeSet
		sh.n, sh.e = fieldIndex(t, "n"), fieldIndex(t, "e")
	case strings.HasPrefix(t.Name(), "Seq["):
		sh.kind = shapeSeq
		sh.n, sh.e = fieldIndex(t, "n"), fieldIndex(t, "e")
	case t.NumField() > 0 && t.Field(0).Tag.Get("tla") == "1":
		sh.kind = shapeTuple
	default:
		for i := 0; i < t.NumField(); i++ {
			sh.tags = append(sh.tags, t.Field(i).Tag.Get("tla"))
		}
	}
	shapeCache.Store(t, sh)
	return sh
}

// canonGo prints a generated value as value.Canonical prints the spec's.
func canonGo(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Map:
		// A set kept in a reference store: its keys.
		var out []string
		it := v.MapRange()
		for it.Next() {
			out = append(out, canonGo(it.Key()))
		}
		return value.CanonicalSet(out)
	case reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Bool:
		if v.Bool() {
			return "TRUE"
		}
		return "FALSE"
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Struct:
		sh := shapeOf(v.Type())
		if sh.kind == shapeSet {
			n, e := int(v.Field(sh.n).Int()), v.Field(sh.e)
			var out []string
			for i := 0; i < n; i++ {
				out = append(out, canonGo(e.Index(i)))
			}
			return value.CanonicalSet(out)
		}
		if sh.kind == shapeSeq {
			n, e := int(v.Field(sh.n).Int()), v.Field(sh.e)
			var out []string
			for i := 0; i < n; i++ {
				out = append(out, canonGo(e.Index(i)))
			}
			return "<<" + strings.Join(out, ", ") + ">>"
		}
		if sh.kind == shapeTuple {
			var out []string
			for i := 0; i < v.NumField(); i++ {
				out = append(out, canonGo(v.Field(i)))
			}
			return "<<" + strings.Join(out, ", ") + ">>"
		}
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			parts = append(parts, sh.tags[i]+" |-> "+canonGo(v.Field(i)))
		}
		sort.Strings(parts)
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?" + v.Kind().String()
}

// fromVal sets dst (addressable) to the spec's value v.
func fromVal(dst reflect.Value, v value.Value) {
	if !dst.CanSet() {
		dst = reflect.NewAt(dst.Type(), unsafe.Pointer(dst.UnsafeAddr())).Elem()
	}
	switch dst.Kind() {
	case reflect.Map:
		s, err := v.(value.SetValue).Enumerate()
		if err != nil {
			panic(err)
		}
		m := reflect.MakeMapWithSize(dst.Type(), s.Len())
		for _, x := range s.Elems() {
			k := reflect.New(dst.Type().Key()).Elem()
			fromVal(k, x)
			m.SetMapIndex(k, reflect.ValueOf(true))
		}
		dst.Set(m)
	case reflect.Int64:
		dst.SetInt(int64(v.(value.Int)))
	case reflect.Bool:
		dst.SetBool(bool(v.(value.Bool)))
	case reflect.String:
		dst.SetString(v.(value.Str).Go())
	case reflect.Struct:
		if isSet(dst.Type()) {
			s, err := v.(value.SetValue).Enumerate()
			if err != nil {
				panic(err)
			}
			if s.Len() > statemachine.SetCap {
				panic("set larger than statemachine.SetCap")
			}
			dst.Set(reflect.Zero(dst.Type()))
			n := dst.FieldByName("n")
			n = reflect.NewAt(n.Type(), unsafe.Pointer(n.UnsafeAddr())).Elem()
			e := dst.FieldByName("e")
			e = reflect.NewAt(e.Type(), unsafe.Pointer(e.UnsafeAddr())).Elem()
			for i, x := range s.Elems() {
				fromVal(e.Index(i), x)
			}
			n.SetInt(int64(s.Len()))
			sort.Sort(byGo{e.Slice(0, s.Len())})
			return
		}
		f := v.(*value.Func)
		if isSeq(dst.Type()) {
			if f.Len() > statemachine.SetCap {
				panic("sequence longer than statemachine.SetCap")
			}
			dst.Set(reflect.Zero(dst.Type()))
			n := dst.FieldByName("n")
			n = reflect.NewAt(n.Type(), unsafe.Pointer(n.UnsafeAddr())).Elem()
			e := dst.FieldByName("e")
			e = reflect.NewAt(e.Type(), unsafe.Pointer(e.UnsafeAddr())).Elem()
			for i := 0; i < f.Len(); i++ {
				fromVal(e.Index(i), f.RangeAt(i))
			}
			n.SetInt(int64(f.Len()))
			return
		}
		if isTuple(dst.Type()) {
			for i := 0; i < f.Len() && i < dst.NumField(); i++ {
				fromVal(dst.Field(i), f.RangeAt(i))
			}
			return
		}
		for i := 0; i < f.Len(); i++ {
			name := f.DomainAt(i).(value.Str).Go()
			for j := 0; j < dst.NumField(); j++ {
				if dst.Type().Field(j).Tag.Get("tla") == name {
					fromVal(dst.Field(j), f.RangeAt(i))
				}
			}
		}
	default:
		panic("fromVal: " + dst.Kind().String())
	}
}

// byGo sorts set elements in the order of the generated compare functions:
// field by field in declaration order, integers numerically, FALSE first.
type byGo struct{ s reflect.Value }

func (b byGo) Len() int           { return b.s.Len() }
func (b byGo) Less(i, j int) bool { return cmpGo(b.s.Index(i), b.s.Index(j)) < 0 }
func (b byGo) Swap(i, j int) {
	a, c := b.s.Index(i), b.s.Index(j)
	t := reflect.New(a.Type()).Elem()
	t.Set(a)
	a.Set(c)
	c.Set(t)
}

func cmpGo(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.Int64:
		return statemachine.CompareInt(a.Int(), b.Int())
	case reflect.Bool:
		return statemachine.CompareBool(a.Bool(), b.Bool())
	case reflect.String:
		return statemachine.CompareString(a.String(), b.String())
	case reflect.Struct:
		if isSet(a.Type()) {
			// By size, then element by element, as the generated
			// compare functions of sets order them.
			n, m := int(a.FieldByName("n").Int()), int(b.FieldByName("n").Int())
			if n != m {
				return statemachine.CompareInt(int64(n), int64(m))
			}
			for i := 0; i < n; i++ {
				if c := cmpGo(a.FieldByName("e").Index(i), b.FieldByName("e").Index(i)); c != 0 {
					return c
				}
			}
			return 0
		}
		for i := 0; i < a.NumField(); i++ {
			if c := cmpGo(a.Field(i), b.Field(i)); c != 0 {
				return c
			}
		}
		return 0
	}
	panic("cmpGo: " + a.Kind().String())
}
