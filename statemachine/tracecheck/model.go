package tracecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/value"
)

// Model is a spec bound to its configuration with what the annotations say
// about roles: what Check searches. Load it once and check several traces.
type Model struct {
	// Module is the spec's module name, e.g. "Commands".
	Module  string
	specDir string
	mach    *eval.Machine
	roles   *gen.Roles
	idx     map[string]int
	consts  map[string]int64
	// machines are the logging roles' machines as gen analyses them
	// (variables with types, actions with typed parameters), loaded on
	// first use.
	machines map[string]*gen.Machine
}

// Load reads the spec at specPath and its configuration (cfgPath, or the
// .cfg beside the spec with the same base name).
func Load(specPath, cfgPath string) (*Model, error) {
	if cfgPath == "" {
		cfgPath = strings.TrimSuffix(specPath, filepath.Ext(specPath)) + ".cfg"
	}
	mach, err := eval.LoadModel(specPath, cfgPath)
	if err != nil {
		return nil, err
	}
	specDir, module := filepath.Dir(specPath), strings.TrimSuffix(filepath.Base(specPath), filepath.Ext(specPath))
	roles, _, err := gen.LoadRoles(specDir, module)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	c, err := cfg.Parse(cfgPath, src)
	if err != nil {
		return nil, err
	}
	m := &Model{Module: module, specDir: specDir, mach: mach, roles: roles,
		idx: map[string]int{}, consts: map[string]int64{}, machines: map[string]*gen.Machine{}}
	for i, v := range mach.Variables() {
		m.idx[v] = i
	}
	for _, k := range c.Constants {
		if k.Value != nil && k.Value.Kind == cfg.Int {
			m.consts[k.Name] = k.Value.Int
		}
	}
	return m, nil
}

// machine returns gen's analysis of role's actions in the module.
func (m *Model) machine(role string) (*gen.Machine, error) {
	if g, ok := m.machines[role]; ok {
		return g, nil
	}
	g, _, err := gen.LoadMachine(m.specDir, m.Module, role)
	if err != nil {
		return nil, fmt.Errorf("%w: %s in %s (statemachine/gen: %w)", ErrRoleNotAnalysable, role, m.Module, err)
	}
	m.machines[role] = g
	return g, nil
}

// ErrRoleNotAnalysable: a logging role's variables and actions are outside
// what statemachine/gen analyses in the module (its machine is pending),
// so its lines cannot be read in the spec's terms.
var ErrRoleNotAnalysable = errors.New("tracecheck: role cannot be analysed")

// decodeJSON decodes one JSON value keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// canonJSON prints a logged JSON value of type t as value.Canonical prints the
// spec's value: the generated machines write sets and sequences as arrays,
// records as objects keyed by field, tuples as objects keyed "1", "2", ...
func canonJSON(v any, t *gen.Type) (string, error) {
	switch t.Kind {
	case gen.TInt:
		n, ok := v.(json.Number)
		if !ok {
			return "", fmt.Errorf("want an integer, got %s", short(v))
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return "", fmt.Errorf("want an integer, got %s", n)
		}
		return strconv.FormatInt(i, 10), nil
	case gen.TBool:
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want a Boolean, got %s", short(v))
		}
		if b {
			return "TRUE", nil
		}
		return "FALSE", nil
	case gen.TStr:
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a string, got %s", short(v))
		}
		return strconv.Quote(s), nil
	case gen.TSet, gen.TSeq:
		a, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("want an array for %s, got %s", t, short(v))
		}
		var out []string
		for _, e := range a {
			s, err := canonJSON(e, t.Elem)
			if err != nil {
				return "", err
			}
			out = append(out, s)
		}
		if t.Kind == gen.TSet {
			return value.CanonicalSet(out), nil
		}
		return "<<" + strings.Join(out, ", ") + ">>", nil
	case gen.TRecord:
		o, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("want an object for %s, got %s", t, short(v))
		}
		if len(o) != len(t.Fields) {
			return "", fmt.Errorf("want the %d fields of %s, got %s", len(t.Fields), t, short(v))
		}
		var parts []string
		for _, f := range t.Fields {
			fv, ok := o[f.Name]
			if !ok {
				return "", fmt.Errorf("field %s of %s missing in %s", f.Name, t, short(v))
			}
			s, err := canonJSON(fv, f.Type)
			if err != nil {
				return "", err
			}
			parts = append(parts, f.Name+" |-> "+s)
		}
		sort.Strings(parts)
		return "[" + strings.Join(parts, ", ") + "]", nil
	case gen.TTuple:
		var elems []any
		switch x := v.(type) {
		case []any:
			elems = x
		case map[string]any:
			for i := 1; i <= len(x); i++ {
				e, ok := x[strconv.Itoa(i)]
				if !ok {
					return "", fmt.Errorf("component %d of %s missing in %s", i, t, short(v))
				}
				elems = append(elems, e)
			}
		default:
			return "", fmt.Errorf("want a tuple %s, got %s", t, short(v))
		}
		if len(elems) != len(t.Elems) {
			return "", fmt.Errorf("want %d components for %s, got %s", len(t.Elems), t, short(v))
		}
		var out []string
		for i, e := range elems {
			s, err := canonJSON(e, t.Elems[i])
			if err != nil {
				return "", err
			}
			out = append(out, s)
		}
		return "<<" + strings.Join(out, ", ") + ">>", nil
	}
	return "", fmt.Errorf("type %s is not supported in traces", t)
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
