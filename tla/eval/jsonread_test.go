package eval

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// TestReadJSON: JSON as TLC's Json module reads it (objects records, the
// last of a repeated name counting; arrays tuples; integers, also written
// 1e3 or 2.0; strings; Booleans), and a clear error, naming the file and
// the line, for what TLC would truncate or refuse.
func TestReadJSON(t *testing.T) {
	strs := value.NewInterner()
	rec := func(kv ...any) value.Value {
		var names []string
		var vals []value.Value
		for i := 0; i < len(kv); i += 2 {
			names = append(names, kv[i].(string))
			vals = append(vals, kv[i+1].(value.Value))
		}
		r, err := value.Record(strs, names, vals)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ok := []struct {
		json string
		want value.Value
	}{
		{`{"a": 1, "b": "x"}`, rec("a", value.Int(1), "b", strs.String("x"))},
		{`{"a": 1, "a": 2}`, rec("a", value.Int(2))},
		{`[1, [true, false], {"0": 7}]`, value.Tuple(value.Int(1), value.Tuple(value.True, value.False), rec("0", value.Int(7)))},
		{`[]`, value.Tuple()},
		{`1e3`, value.Int(1000)},
		{`2.0`, value.Int(2)},
		{`-2147483648`, value.Int(-2147483648)},
	}
	for _, c := range ok {
		got, err := parseJSONValue([]byte(c.json), strs)
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		if eq, err := value.Equal(got, c.want); err != nil || !eq {
			t.Errorf("%s = %s, want %s", c.json, got, c.want)
		}
	}
	for _, bad := range []string{`1.5`, `2147483648`, `null`, `{"a": null}`, `[1, 2`, `{"a" 1}`, `1 2`, `{} x`, ``, strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2)} {
		if v, err := parseJSONValue([]byte(bad), strs); err == nil {
			t.Errorf("%q read as %s, want an error", bad, v)
		}
	}

	dir := t.TempDir()
	nd := filepath.Join(dir, "log.ndjson")
	if err := os.WriteFile(nd, []byte("{\"N\": 2}\n\n  \t\n[1, 2]\r\n\"s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readJSONFile(nd, true, strs)
	if err != nil {
		t.Fatal(err)
	}
	want := value.Tuple(rec("N", value.Int(2)), value.Tuple(value.Int(1), value.Int(2)), strs.String("s"))
	if eq, _ := value.Equal(got, want); !eq {
		t.Errorf("ndjson = %s, want %s (blank lines skipped)", got, want)
	}
	if err := os.WriteFile(nd, []byte("{\"N\": 2}\n{\"x\": 1.5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = readJSONFile(nd, true, strs)
	if !errors.Is(err, errJSON) || !strings.Contains(err.Error(), "log.ndjson:2:") || !strings.Contains(err.Error(), "1.5") {
		t.Errorf("ndjson with 1.5 on line 2: %v, want an error naming the file, line 2 and the number", err)
	}
	if _, err := readJSONFile(filepath.Join(dir, "missing.json"), false, strs); !errors.Is(err, errJSON) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestJSONDeserializeInModel: ndJsonDeserialize and JsonDeserialize in a
// model, the file named relative to the working directory as TLC takes it.
// TLC (run here in the same directory): no error, 2 distinct states.
func TestJSONDeserializeInModel(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals, Sequences, Json
Log == ndJsonDeserialize("log.ndjson")
Doc == JsonDeserialize("doc.json")
ASSUME Len(Log) = 2 /\ Log[1].N = 2 /\ Log[2].pkt.vc["1"] = 7 /\ Log[2].ok = TRUE
ASSUME Doc = <<"a", [b |-> <<>>]>>
VARIABLE x
Init == x = Log[1].N
Next == x' = Log[2].pkt.vc["1"]
Inv == x \in {2, 7}
====
`
	dir := writeSpec(t, map[string]string{
		"Spec.tla":   spec,
		"Spec.cfg":   "INIT Init\nNEXT Next\nINVARIANT Inv\n",
		"log.ndjson": "{\"N\": 2}\n{\"pkt\": {\"vc\": {\"0\": 3, \"1\": 7}}, \"ok\": true}\n",
		"doc.json":   "[\"a\", {\"b\": []}]",
	})
	t.Chdir(dir)
	res, err := CheckModel(context.Background(), "Spec.tla", "Spec.cfg", check.Options{Workers: 1})
	if err != nil || res.Verdict != check.Success || res.Distinct != 2 {
		t.Fatalf("%s, %d distinct, %v; TLC: success, 2", res.Verdict, res.Distinct, err)
	}
}

// FuzzParseJSON: any bytes are read without a panic, and what is accepted
// is one valid JSON text (encoding/json's own check) and nothing more.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a": [1, true, "x"]}`, `[]`, `1e3`, `{"a":1,"a":2}`, `null`, `[1 2]`, `{"vc": {"0": 1}}`} {
		f.Add([]byte(s))
	}
	strs := value.NewInterner()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSONValue(data, strs)
		if err != nil {
			return
		}
		if v == nil || !json.Valid(data) {
			t.Fatalf("%q accepted as %v", data, v)
		}
	})
}

// TestJSONDeserializeNotAName: a file name that is no string is an error
// naming the operator, not a read of some file.
func TestJSONDeserializeNotAName(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"Spec.tla": "---- MODULE Spec ----\nEXTENDS Json\nASSUME ndJsonDeserialize(3) = <<>>\nVARIABLE x\nInit == x = 0\nNext == UNCHANGED x\n====\n",
		"Spec.cfg": "INIT Init\nNEXT Next\n",
	})
	_, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "ndJsonDeserialize of 3, which is not a string") {
		t.Errorf("ndJsonDeserialize(3): %v", err)
	}
}
