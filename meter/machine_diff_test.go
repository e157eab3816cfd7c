package meter

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
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/value"
)

// This file drives the generated meter machines and the TLA+ evaluator
// side by side (spec/README.md, DESIGN.md "Generated Go never drifts").

const specDir = "../spec"

// adapter runs one generated machine through reflection-free closures.
type adapter struct {
	module string
	wide   map[string]int64                                                              // larger bounds for the random walks
	params any                                                                           // *XParams, filled from the .cfg
	init   func() reflect.Value                                                          // *XState
	step   func(s reflect.Value, kind uint8) (map[string][]reflect.Value, string, error) // sends by variable, action
}

func adapters() []*adapter {
	ch := &ChannelParams{}
	co := &CollectionParams{}
	return []*adapter{
		{
			module: "Channel", params: ch,
			wide: map[string]int64{"MaxSeals": 30, "Block": 4, "MaxCtr": 40, "MaxKeys": 4, "MaxForged": 3},
			init: func() reflect.Value { s := ch.Init(); return reflect.ValueOf(&s) },
			step: func(s reflect.Value, k uint8) (map[string][]reflect.Value, string, error) {
				var out ChannelOutput
				err := ch.Step(s.Interface().(*ChannelState), ChannelEvent{Kind: ChannelEventKind(k)}, &out)
				var net []reflect.Value
				for _, m := range out.Net {
					net = append(net, reflect.ValueOf(m))
				}
				return map[string][]reflect.Value{"net": net}, out.Action, err
			},
		},
		{
			module: "Collection", params: co,
			wide: map[string]int64{"MaxReadings": 30, "MaxRestarts": 3, "MaxOutages": 3},
			init: func() reflect.Value { s := co.Init(); return reflect.ValueOf(&s) },
			step: func(s reflect.Value, k uint8) (map[string][]reflect.Value, string, error) {
				var out CollectionOutput
				err := co.Step(s.Interface().(*CollectionState), CollectionEvent{Kind: CollectionEventKind(k)}, &out)
				return nil, out.Action, err
			},
		},
	}
}

// harness pairs a generated machine with the evaluator on the module's model.
type harness struct {
	ad     *adapter
	mod    *gen.Machine
	ev     *eval.Machine
	idx    map[string]int
	consts map[string]int64
	// counters for the report
	steps, stepCalls, refused, boundOnly int
	foreign                              map[string]int
}

// newHarness loads the module's model; wide, when not nil, overrides
// constants of its .cfg (larger bounds for random walks, so they are not
// spent on states where every bound is reached).
func newHarness(t testing.TB, ad *adapter, wide map[string]int64) *harness {
	t.Helper()
	cpath := specDir + "/" + ad.module + ".cfg"
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
		cpath = filepath.Join(t.TempDir(), ad.module+".cfg")
		if err := os.WriteFile(cpath, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mod, _, err := gen.LoadMachine(specDir, ad.module, "meter")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.LoadModel(specDir+"/"+ad.module+".tla", cpath)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{ad: ad, mod: mod, ev: ev, idx: map[string]int{}, consts: map[string]int64{}, foreign: map[string]int{}}
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
	pv := reflect.ValueOf(ad.params).Elem()
	for i := 0; i < pv.NumField(); i++ {
		name := pv.Type().Field(i).Tag.Get("tla")
		n, ok := h.consts[name]
		if !ok {
			t.Fatalf("%s: constant %s not in the .cfg", ad.module, name)
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
		t.Fatalf("%s: %d initial states, want 1", h.ad.module, len(inits))
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

// compare reports where the generated state differs from the evaluator's
// state projected onto the role's variables.
func (h *harness) compare(gs reflect.Value, es check.State) error {
	st := gs.Elem()
	for i := 0; i < st.NumField(); i++ {
		name := st.Type().Field(i).Tag.Get("tla")
		got, want := canonGo(st.Field(i)), canonVal(es[h.idx[name]])
		if got != want {
			return fmt.Errorf("%s: generated %s, spec %s", name, got, want)
		}
	}
	return nil
}

// project sets the generated state to the evaluator's state.
func (h *harness) project(es check.State) reflect.Value {
	gs := h.ad.init()
	st := gs.Elem()
	for i := 0; i < st.NumField(); i++ {
		name := st.Type().Field(i).Tag.Get("tla")
		fromVal(st.Field(i), es[h.idx[name]])
	}
	return gs
}

func clone(gs reflect.Value) reflect.Value {
	c := reflect.New(gs.Elem().Type())
	c.Elem().Set(gs.Elem())
	return c
}

// event checks one event of the role in state (es, gs): Step succeeds
// exactly when the spec's action is enabled (up to dropped model bounds),
// and then gives the spec's successor and messages. It returns the
// successor pair when enabled.
func (h *harness) event(es check.State, gs reflect.Value, succs []succ, k int) (check.State, reflect.Value, bool, error) {
	act := h.mod.Actions[k-1]
	var want []check.State
	for _, s := range succs {
		if s.action == act.Name {
			want = append(want, s.state)
		}
	}
	cp := clone(gs)
	h.stepCalls++
	sends, took, err := h.ad.step(cp, uint8(k))
	if len(want) > 1 {
		return nil, reflect.Value{}, false, fmt.Errorf("action %s has %d successors: not deterministic", act.Name, len(want))
	}
	if len(want) == 0 {
		if err == nil {
			lookup := func(n string) (int64, bool) {
				if i, ok := h.idx[n]; ok {
					if v, ok := es[i].(value.Int); ok {
						return int64(v), true
					}
				}
				c, ok := h.consts[n]
				return c, ok
			}
			for _, b := range act.Bounds {
				ok, berr := gen.BoundHolds(b, lookup)
				if berr != nil {
					return nil, reflect.Value{}, false, berr
				}
				if !ok {
					h.boundOnly++
					return nil, reflect.Value{}, false, nil // refused by a model bound only
				}
			}
			return nil, reflect.Value{}, false, fmt.Errorf("event of %s: Step took it, the spec's action is not enabled", act.Name)
		}
		var ge *statemachine.GuardError
		if !errors.Is(err, statemachine.ErrNotEnabled) || !errors.As(err, &ge) || ge.Action != act.Name {
			return nil, reflect.Value{}, false, fmt.Errorf("event of %s: want a GuardError of that action, got %v", act.Name, err)
		}
		if canonGo(cp.Elem()) != canonGo(gs.Elem()) {
			return nil, reflect.Value{}, false, fmt.Errorf("event of %s: refused step changed the state", act.Name)
		}
		h.refused++
		return nil, reflect.Value{}, false, nil
	}
	if err != nil {
		return nil, reflect.Value{}, false, fmt.Errorf("event of %s: the spec's action is enabled, Step refused: %v", act.Name, err)
	}
	if took != act.Name {
		return nil, reflect.Value{}, false, fmt.Errorf("event of %s: Step reports action %q", act.Name, took)
	}
	next := want[0]
	if err := h.compare(cp, next); err != nil {
		return nil, reflect.Value{}, false, fmt.Errorf("after %s: %v", act.Name, err)
	}
	for _, sv := range h.mod.Sends {
		i := h.idx[sv.Name]
		got := elems(es[i])
		for _, m := range sends[sv.Name] {
			got = append(got, canonGo(m))
		}
		if g, w := setString(got), canonVal(next[i]); g != w {
			return nil, reflect.Value{}, false, fmt.Errorf("after %s: %s with the step's messages is %s, spec %s", act.Name, sv.Name, g, w)
		}
	}
	return next, cp, true, nil
}

// checkState checks every event of the role in es (and gs) and returns the
// generated successors of the enabled ones by action name.
func (h *harness) checkState(es check.State, gs reflect.Value, succs []succ) (map[string]reflect.Value, error) {
	if err := h.compare(gs, es); err != nil {
		return nil, err
	}
	out := map[string]reflect.Value{}
	for k := 1; k <= len(h.mod.Actions); k++ {
		_, ngs, ok, err := h.event(es, gs, succs, k)
		if err != nil {
			return nil, err
		}
		if ok {
			out[h.mod.Actions[k-1].Name] = ngs
		}
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
	if ngs, ok := next[s.action]; ok {
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

// canonVal prints a TLA+ value canonically: sets sorted by their printed
// elements, records by field name.
func canonVal(v value.Value) string {
	switch x := v.(type) {
	case value.Int:
		return strconv.FormatInt(int64(x), 10)
	case value.Bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case value.Str:
		return strconv.Quote(x.Go())
	case value.SetValue:
		return setString(elems(x))
	case *value.Func:
		var parts []string
		for i := 0; i < x.Len(); i++ {
			k := x.DomainAt(i)
			if s, ok := k.(value.Str); ok {
				parts = append(parts, s.Go()+" |-> "+canonVal(x.RangeAt(i)))
			} else {
				parts = append(parts, canonVal(k)+" :> "+canonVal(x.RangeAt(i)))
			}
		}
		sort.Strings(parts)
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?" + v.String()
}

func elems(v value.Value) []string {
	s, err := v.(value.SetValue).Enumerate()
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range s.Elems() {
		out = append(out, canonVal(e))
	}
	return out
}

func setString(es []string) string {
	sort.Strings(es)
	out := es[:0:0]
	for i, e := range es {
		if i == 0 || e != es[i-1] {
			out = append(out, e)
		}
	}
	return "{" + strings.Join(out, ", ") + "}"
}

func isSet(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Set[")
}

// canonGo prints a generated value as canonVal prints the spec's.
func canonGo(v reflect.Value) string {
	switch v.Kind() {
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
		if isSet(v.Type()) {
			n, e := int(v.FieldByName("n").Int()), v.FieldByName("e")
			var out []string
			for i := 0; i < n; i++ {
				out = append(out, canonGo(e.Index(i)))
			}
			return setString(out)
		}
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			parts = append(parts, v.Type().Field(i).Tag.Get("tla")+" |-> "+canonGo(v.Field(i)))
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
		for i := 0; i < a.NumField(); i++ {
			if c := cmpGo(a.Field(i), b.Field(i)); c != 0 {
				return c
			}
		}
		return 0
	}
	panic("cmpGo: " + a.Kind().String())
}
