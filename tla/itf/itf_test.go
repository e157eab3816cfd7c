package itf

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

func TestValuesAsITF(t *testing.T) {
	in := value.NewInterner()
	a, b := in.String("a"), in.String("b")
	rec, err := value.Record(in, []string{"a", "b"}, []value.Value{value.Int(1), value.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	set, err := value.NewSet(value.Int(2), value.Int(1))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := value.NewFunc([]value.Value{value.Int(5), value.Int(7)}, []value.Value{a, b})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    value.Value
		want string
	}{
		{value.Int(-3), `{"#bigint":"-3"}`},
		{value.Bool(false), `false`},
		{a, `"a"`},
		{in.Model("m1"), `{"#unserializable":"m1"}`},
		{value.Tuple(value.Int(1), a), `[{"#bigint":"1"},"a"]`},
		{rec, `{"a":{"#bigint":"1"},"b":true}`},
		{set, `{"#set":[{"#bigint":"1"},{"#bigint":"2"}]}`},
		{fn, `{"#map":[[{"#bigint":"5"},"a"],[{"#bigint":"7"},"b"]]}`},
		{value.NewInterval(1, 2), `{"#set":[{"#bigint":"1"},{"#bigint":"2"}]}`},
	} {
		v, err := Value(c.v)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(v)
		if string(got) != c.want {
			t.Errorf("%s: %s, want %s", c.v, got, c.want)
		}
	}
}

func TestWriteTrace(t *testing.T) {
	res := check.Result{Verdict: check.InvariantViolated, Invariant: "Inv", Variables: []string{"x"}, Trace: []check.TraceStep{
		{Action: check.InitialAction, State: check.State{value.Int(0)}},
		{Action: "Inc", State: check.State{value.Int(1)}},
	}}
	var b bytes.Buffer
	if err := Write(&b, res, "Spec.tla"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Meta   map[string]any   `json:"#meta"`
		Vars   []string         `json:"vars"`
		States []map[string]any `json:"states"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Meta["format"] != "ITF" || len(doc.Vars) != 1 || len(doc.States) != 2 {
		t.Fatalf("%s", b.String())
	}
	x := doc.States[1]["x"].(map[string]any)
	if x["#bigint"] != "1" || doc.States[1]["#meta"].(map[string]any)["action"] != "Inc" {
		t.Fatalf("%s", b.String())
	}
	if err := Write(&b, check.Result{}, "Spec.tla"); err == nil {
		t.Fatal("an empty trace was written")
	}
}
