package msc

import (
	"os"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

func TestParseRolesOfOurSpec(t *testing.T) {
	src, err := os.ReadFile("../../spec/Collection.tla")
	if err != nil {
		t.Fatal(err)
	}
	r := ParseRoles(src)
	for v, want := range map[string]string{"taken": "meter", "queue": "gateway", "stored": "headend", "plc": "attacker", "delivered": "wan", "restarts": "history"} {
		if r.Var[v] != want {
			t.Errorf("variable %s: role %q, want %q", v, r.Var[v], want)
		}
	}
	for a, want := range map[string]string{"Take": "meter", "Collect": "gateway", "Upload": "gateway", "Ingest": "headend", "Inject": "attacker", "Restart": "gateway"} {
		if r.Action[a] != want {
			t.Errorf("action %s: role %q, want %q", a, r.Action[a], want)
		}
	}
	if len(r.Order) == 0 || r.Order[0] != "meter" {
		t.Errorf("lifelines %v", r.Order)
	}
}

func TestRenderArrowsToTheOwnerOfChangedState(t *testing.T) {
	r := ParseRoles([]byte(`
VARIABLES
    \* @type: Int; @role: meter
    buf,
    \* @type: Int; @role: gateway
    queue,
    \* @type: Int; @role: history
    collected
\* @role: gateway @event: collect
\* a comment between annotation and definition
Collect(r) == queue' = r /\ buf' = 0 /\ collected' = collected + 1
`))
	res := check.Result{Variables: []string{"buf", "queue", "collected"}, Invariant: "Inv", Trace: []check.TraceStep{
		{Action: check.InitialAction, State: check.State{value.Int(1), value.Int(0), value.Int(0)}},
		{Action: "Collect", State: check.State{value.Int(0), value.Int(1), value.Int(1)}},
	}}
	var b strings.Builder
	if err := Render(&b, r, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"participant meter\n    participant gateway", "Note over gateway: 2. Collect", "gateway->>meter: buf = 0", "Note right of gateway: queue = 1, collected = 1", "violates Inv"} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "participant history") {
		t.Errorf("history variables drawn as a lifeline:\n%s", out)
	}
	if err := Render(&b, r, check.Result{}); err == nil {
		t.Error("an empty trace was drawn")
	}
}
