package tracecheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const commandsSpec = "../../spec/Commands.tla"

func line(role, node string, clock uint64, action, event, state string) string {
	return fmt.Sprintf(`{"role":%q,"node":%q,"clock":%d,"action":%q,"event":%s,"state":%s}`, role, node, clock, action, event, state)
}

// commandsRun is a run of spec/Commands by hand: the head-end issues two
// commands, the gateway relays each after receiving it, the meter runs each
// after receiving it from the gateway (clocks as statemachine.Instance
// stamps them).
func commandsRun() map[string][]string {
	return map[string][]string{
		"h1": {
			line("headend", "h1", 1, "Issue", `{"kind":"issue","a":1,"b":2,"k":"disconnect"}`, `{"issued":1}`),
			line("headend", "h1", 2, "Issue", `{"kind":"issue","a":2,"b":1,"k":"other"}`, `{"issued":2}`),
		},
		"g1": {
			line("gateway", "g1", 2, "Relay", `{"kind":"relay","c":1}`, `{"relayed":[1]}`),
			line("gateway", "g1", 4, "Relay", `{"kind":"relay","c":2}`, `{"relayed":[1,2]}`),
		},
		"m1": {
			line("meter", "m1", 3, "Execute", `{"kind":"command","m":{"id":1,"by":"headend"}}`, `{"last":1,"tlVer":1}`),
			line("meter", "m1", 5, "Execute", `{"kind":"command","m":{"id":2,"by":"headend"}}`, `{"last":2,"tlVer":1}`),
		},
	}
}

func load(t *testing.T) *Model {
	t.Helper()
	m, err := Load(commandsSpec, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// merge reads each node's lines as its own log and merges them.
func merge(t *testing.T, logs map[string][]string) []Step {
	t.Helper()
	var all [][]Step
	for node, lines := range logs {
		steps, err := ReadLog(node+".ndjson", strings.NewReader(strings.Join(lines, "\n")+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, steps)
	}
	steps, err := Merge(all...)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

func mustUnexplained(t *testing.T, err error) *Unexplained {
	t.Helper()
	var u *Unexplained
	if !errors.As(err, &u) || !errors.Is(err, ErrUnexplained) {
		t.Fatalf("err = %v, want an *Unexplained", err)
	}
	return u
}

func TestAcceptsARunOfCommands(t *testing.T) {
	res, err := load(t).Check(merge(t, commandsRun()), Options{MaxHidden: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 6 || res.Nodes != 3 || res.States < 1 {
		t.Fatalf("result %+v", res)
	}
	if got := res.String(); got != "6 steps explained by a behaviour of Commands" {
		t.Fatalf("result says %q", got)
	}
}

func TestRejectsATamperedStateNamingTheStep(t *testing.T) {
	logs := commandsRun()
	logs["m1"][1] = strings.Replace(logs["m1"][1], `"last":2`, `"last":3`, 1)
	_, err := load(t).Check(merge(t, logs), Options{MaxHidden: 2})
	u := mustUnexplained(t, err)
	if u.Index != 6 || u.Step.File != "m1.ndjson" || u.Step.Line != 2 || u.Step.Action != "Execute" {
		t.Fatalf("reported step %d at %s (%s), want step 6 at m1.ndjson:2", u.Index, u.Step.Where(), u.Step.Action)
	}
	if u.Logged != "[last |-> 3, tlVer |-> 1]" || len(u.Reached) != 1 || u.Reached[0] != "[last |-> 2, tlVer |-> 1]" {
		t.Fatalf("logged %s, reached %v", u.Logged, u.Reached)
	}
	msg := u.Error()
	for _, want := range []string{"step 6 (m1.ndjson:2)", "no step of Execute", "/\\ ran = <<1>>", `"last":3`} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
}

// TestRejectsAReceiveBeforeItsSend: the meter's first command stamped
// before the gateway relayed it cannot have happened, whatever the
// attacker injects meanwhile.
func TestRejectsAReceiveBeforeItsSend(t *testing.T) {
	logs := commandsRun()
	logs["m1"][0] = strings.Replace(logs["m1"][0], `"clock":3`, `"clock":1`, 1)
	_, err := load(t).Check(merge(t, logs), Options{MaxHidden: 3})
	u := mustUnexplained(t, err)
	if u.Step.Node != "m1" || u.Step.Line != 1 || u.Index != 2 {
		t.Fatalf("reported step %d at %s, want step 2 at m1.ndjson:1", u.Index, u.Step.Where())
	}
	if !strings.Contains(u.Reason, "Execute is enabled in none") {
		t.Fatalf("reason %q", u.Reason)
	}
}

// TestTriesEveryOrderOfATie: steps with one Lamport time are concurrent;
// the gateway's relay (node g1, first by name) is explained only if the
// head-end's issue (h1) goes first. With the relay stamped strictly before
// the issue, it is not.
func TestTriesEveryOrderOfATie(t *testing.T) {
	m := load(t)
	logs := map[string][]string{
		"h1": {line("headend", "h1", 1, "Issue", `{"kind":"issue","a":1,"b":2,"k":"disconnect"}`, `{"issued":1}`)},
		"g1": {line("gateway", "g1", 1, "Relay", `{"kind":"relay","c":1}`, `{"relayed":[1]}`)},
	}
	if _, err := m.Check(merge(t, logs), Options{}); err != nil {
		t.Fatalf("a tie in the wrong order by name: %v", err)
	}
	logs["h1"][0] = strings.Replace(logs["h1"][0], `"clock":1`, `"clock":2`, 1)
	u := mustUnexplained(t, func() error { _, err := m.Check(merge(t, logs), Options{}); return err }())
	if u.Step.Node != "g1" || u.Index != 1 {
		t.Fatalf("reported %s as step %d", u.Step.Where(), u.Index)
	}
}

// TestFillsInRolesWithoutLogs: without the head-end's log its Issue steps
// are hidden; one hidden step before each relay explains the run, none
// does not.
func TestFillsInRolesWithoutLogs(t *testing.T) {
	m := load(t)
	logs := commandsRun()
	delete(logs, "h1")
	steps := merge(t, logs)
	if _, err := m.Check(steps, Options{MaxHidden: 1}); err != nil {
		t.Fatalf("one hidden issue before each relay: %v", err)
	}
	u := mustUnexplained(t, func() error { _, err := m.Check(steps, Options{MaxHidden: 0}); return err }())
	if u.Index != 1 || u.Step.Action != "Relay" || u.NCandidates != 1 || !strings.Contains(u.Reason, "enabled in none") {
		t.Fatalf("without hidden steps: %v", u)
	}
}

func TestRejectsLinesOutsideTheSpecsVocabulary(t *testing.T) {
	m := load(t)
	cases := []struct{ name, line, reason string }{
		{"foreign action", line("meter", "m1", 1, "Relay", `null`, `{"last":0}`), "action of role gateway"},
		{"unknown action", line("meter", "m1", 1, "Explode", `null`, `{"last":0}`), "not an annotated action"},
		{"missing variable", line("headend", "h1", 1, "Issue", `null`, `{}`), "lacks variable issued"},
		{"extra variable", line("headend", "h1", 1, "Issue", `null`, `{"issued":1,"x":1}`), "has x"},
		{"ill-typed", line("headend", "h1", 1, "Issue", `null`, `{"issued":"one"}`), "want an integer"},
		{"wrong event", line("headend", "h1", 1, "Issue", `{"kind":"relay"}`, `{"issued":1}`), "not Issue's event issue"},
		{"parameter outside its domain", line("headend", "h1", 1, "Issue", `{"kind":"issue","a":1,"b":5,"k":"other"}`, `{"issued":1}`), "parameters are not among"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps, err := ReadLog("x.ndjson", strings.NewReader(c.line))
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Check(steps, Options{})
			u := mustUnexplained(t, err)
			if u.Index != 1 || !strings.Contains(u.Reason, c.reason) {
				t.Fatalf("reason %q, want %q", u.Reason, c.reason)
			}
		})
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	ok := line("meter", "m1", 1, "Execute", `null`, `{"last":1}`)
	cases := []struct {
		name  string
		lines []string
		line  int
		class error
	}{
		{"not JSON", []string{ok, `{"role":`}, 2, ErrBadJSON},
		{"unknown field", []string{strings.Replace(ok, `"node"`, `"extra":1,"node"`, 1)}, 1, ErrBadJSON},
		{"two objects", []string{ok + ok}, 1, ErrBadJSON},
		{"no clock", []string{strings.Replace(ok, `"clock":1,`, ``, 1)}, 1, ErrMissingField},
		{"no state", []string{strings.Replace(ok, `"state":{"last":1}`, `"state":null`, 1)}, 1, ErrMissingField},
		{"no role", []string{strings.Replace(ok, `"role":"meter"`, `"role":""`, 1)}, 1, ErrMissingField},
		{"clock repeats", []string{ok, ok}, 2, ErrClockOrder},
		{"two nodes", []string{ok, strings.Replace(strings.Replace(ok, `"m1"`, `"m2"`, 1), `"clock":1`, `"clock":2`, 1)}, 2, ErrMixedNodes},
		{"blank line", []string{ok, ""}, 2, ErrBadJSON},
		{"too long", []string{ok, strings.Repeat(" ", MaxLineBytes+1)}, 2, ErrLineTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadLog("m1.ndjson", strings.NewReader(strings.Join(c.lines, "\n")+"\n"))
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, c.class) {
				t.Fatalf("err = %v, want a *ParseError of %v", err, c.class)
			}
			if pe.File != "m1.ndjson" || pe.Line != c.line || !strings.HasPrefix(err.Error(), fmt.Sprintf("m1.ndjson:%d: ", c.line)) {
				t.Fatalf("err = %v, want m1.ndjson:%d", err, c.line)
			}
		})
	}
}

func TestMergeRefusesANodeInTwoLogs(t *testing.T) {
	a, _ := ReadLog("a.ndjson", strings.NewReader(line("meter", "m1", 1, "Execute", `null`, `{}`)))
	b, _ := ReadLog("b.ndjson", strings.NewReader(line("meter", "m1", 2, "Execute", `null`, `{}`)))
	if _, err := Merge(a, b); !errors.Is(err, ErrNodeInTwoLogs) || !strings.Contains(err.Error(), "b.ndjson:1") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFileAndStateLimit(t *testing.T) {
	dir := t.TempDir()
	var all [][]Step
	for node, lines := range commandsRun() {
		p := filepath.Join(dir, node+".ndjson")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		steps, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, steps)
	}
	steps, err := Merge(all...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := load(t).Check(steps, Options{MaxHidden: 3, MaxStates: 2}); !errors.Is(err, ErrStateLimit) {
		t.Fatalf("err = %v, want ErrStateLimit", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none.ndjson")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestRoleGenCannotAnalyse: the composed model spec/System is marked
// @compose and has no generated machines (its state is indexed by meter
// and gateway), so a gateway's lines cannot be read against it; that is a
// typed error, not a verdict.
func TestRoleGenCannotAnalyse(t *testing.T) {
	m, err := Load("../../spec/System.tla", "")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := ReadLog("g.ndjson", strings.NewReader(line("gateway", "g1", 1, "Collect", `null`, `{}`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(steps, Options{}); !errors.Is(err, ErrRoleNotAnalysable) {
		t.Fatalf("err = %v, want ErrRoleNotAnalysable", err)
	}
}
