package tracecheck_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
	"github.com/verimeter/verimeter/statemachine/tracecheck/internal/commands/gateway"
	"github.com/verimeter/verimeter/statemachine/tracecheck/internal/commands/headend"
	"github.com/verimeter/verimeter/statemachine/tracecheck/internal/commands/meter"
)

const commandsSpec = "../../spec/Commands.tla"

// stamped is a message on the wire with the Lamport time of the step that sent it.
type stamped[T any] struct {
	clock uint64
	msg   T
}

// runCommands runs a UC4 scenario on the generated machines of
// spec/Commands, each role instance recording its own trace in dir: the
// head-end issues two commands and hands each to the gateway; the gateway
// relays the first, restarts, relays the first again (the meter refuses
// the repeat) and the second; an attacker injects a command signed by the
// gateway (refused). It returns the three logs' paths.
func runCommands(t *testing.T, dir string) []string {
	t.Helper()
	create := func(node string) (*statemachine.Recorder, string) {
		p := filepath.Join(dir, node+".ndjson")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return statemachine.NewRecorder(f), p
	}
	hrec, hpath := create("h1")
	grec, gpath := create("g1")
	mrec, mpath := create("m1")

	hp := &headend.CommandsParams{}
	he := &statemachine.Instance[headend.CommandsState, headend.CommandsEvent, headend.CommandsOutput]{
		Role: "headend", Name: "h1", Step: hp.Step, State: hp.Init(), Rec: hrec,
		Action: func(o *headend.CommandsOutput) string { return o.Action },
	}
	gp := &gateway.CommandsParams{}
	gw := &statemachine.Instance[gateway.CommandsState, gateway.CommandsEvent, gateway.CommandsOutput]{
		Role: "gateway", Name: "g1", Step: gp.Step, State: gp.Init(), Rec: grec,
		Action: func(o *gateway.CommandsOutput) string { return o.Action },
	}
	mp := &meter.CommandsParams{Crypto: symbolicCommands{}}
	mt := &statemachine.Instance[meter.CommandsState, meter.CommandsEvent, meter.CommandsOutput]{
		Role: "meter", Name: "m1", Step: mp.Step, State: mp.Init(), Rec: mrec,
		Action: func(o *meter.CommandsOutput) string { return o.Action },
	}

	var hout headend.CommandsOutput
	var gout gateway.CommandsOutput
	var mout meter.CommandsOutput
	var toGateway []stamped[int64]           // signed commands from the head-end
	var toMeter []stamped[meter.CommandsNet] // APDUs on the medium
	must := func(now uint64, err error) uint64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return now
	}
	issue := func(a, b int64, k string) {
		now := must(he.Apply(0, headend.CommandsEvent{Kind: headend.CommandsIssue, A: a, B: b, K: k}, &hout))
		toGateway = append(toGateway, stamped[int64]{now, he.State.Issued})
	}
	relay := func(c stamped[int64]) {
		now := must(gw.Apply(c.clock, gateway.CommandsEvent{Kind: gateway.CommandsRelay, C: c.msg}, &gout))
		for _, m := range gout.Net {
			toMeter = append(toMeter, stamped[meter.CommandsNet]{now, meter.CommandsNet{Id: m.Id, By: m.By}})
		}
	}
	deliver := func() error {
		m := toMeter[0]
		toMeter = toMeter[1:]
		_, err := mt.Apply(m.clock, meter.CommandsEvent{Kind: meter.CommandsCommand, M: m.msg}, &mout)
		return err
	}

	issue(1, 2, "disconnect")
	if _, err := he.Apply(0, headend.CommandsEvent{Kind: headend.CommandsIssue, A: 1, B: 1, K: "disconnect"}, &hout); !errors.Is(err, statemachine.ErrNotEnabled) {
		t.Fatalf("the head-end signed a disconnect on one approval: %v", err)
	}
	issue(2, 2, "other")
	relay(toGateway[0])
	must(0, deliver())
	must(gw.Apply(0, gateway.CommandsEvent{Kind: gateway.CommandsRestart}, &gout))
	relay(toGateway[0]) // a restarted gateway resends what it relayed
	if err := deliver(); !errors.Is(err, statemachine.ErrNotEnabled) {
		t.Fatalf("the meter ran a repeated command: %v", err)
	}
	relay(toGateway[1])
	must(0, deliver())
	toMeter = append(toMeter, stamped[meter.CommandsNet]{1, meter.CommandsNet{Id: 3, By: "gateway"}})
	if err := deliver(); !errors.Is(err, statemachine.ErrNotEnabled) {
		t.Fatalf("the meter ran a command the gateway signed: %v", err)
	}
	if mt.State.Last != 2 {
		t.Fatalf("the meter's last command is %d, want 2", mt.State.Last)
	}
	return []string{hpath, gpath, mpath}
}

// check reads, merges and validates logs against spec/Commands.
func check(t *testing.T, paths ...string) (*tracecheck.Result, error) {
	t.Helper()
	m, err := tracecheck.Load(commandsSpec, "")
	if err != nil {
		t.Fatal(err)
	}
	var logs [][]tracecheck.Step
	for _, p := range paths {
		steps, err := tracecheck.ReadFile(p)
		if err != nil {
			return nil, err
		}
		logs = append(logs, steps)
	}
	steps, err := tracecheck.Merge(logs...)
	if err != nil {
		return nil, err
	}
	return m.Check(steps, tracecheck.Options{MaxHidden: 2})
}

// edit rewrites line n (1-based) of the log at path with f, into a copy.
func edit(t *testing.T, path string, n int, f func(string) string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if n > len(lines) {
		t.Fatalf("%s has %d lines, no line %d", path, len(lines), n)
	}
	if lines[n-1] = f(lines[n-1]); lines[n-1] == "" {
		t.Fatalf("edit of %s:%d changed nothing", path, n)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func replace(old, new string) func(string) string {
	return func(l string) string {
		if !strings.Contains(l, old) {
			return ""
		}
		return strings.Replace(l, old, new, 1)
	}
}

// TestTraceOfCommandsIsExplained: the traces the meter, gateway and
// head-end write while running spec/Commands are a behaviour of the spec.
func TestTraceOfCommandsIsExplained(t *testing.T) {
	paths := runCommands(t, t.TempDir())
	res, err := check(t, paths...)
	if err != nil {
		t.Fatal(err)
	}
	// 2 issues, 4 gateway steps (relay, restart, relay, relay), 2 commands run.
	if res.Steps != 8 || res.Nodes != 3 {
		t.Fatalf("%v, %d nodes; want 8 steps of 3 nodes", res, res.Nodes)
	}
}

// TestTamperedTraceIsRejected: the meter's state after its second command
// edited (last = 1 instead of 2) is the step reported.
func TestTamperedTraceIsRejected(t *testing.T) {
	paths := runCommands(t, t.TempDir())
	paths[2] = edit(t, paths[2], 2, replace(`"last":2`, `"last":1`))
	_, err := check(t, paths...)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want *tracecheck.Unexplained", err)
	}
	if u.Step.File != paths[2] || u.Step.Line != 2 || u.Step.Action != "Execute" || u.Index != 8 {
		t.Fatalf("reported step %d at %s (%s), want step 8 at %s:2", u.Index, u.Step.Where(), u.Step.Action, paths[2])
	}
	if len(u.Reached) != 1 || u.Reached[0] != "[last |-> 2, tlVer |-> 1]" {
		t.Fatalf("the spec's Execute leads to %v", u.Reached)
	}
	t.Logf("%v", err)
}

// TestReceiveBeforeSendIsRejected: the meter's first command restamped
// before the head-end issued anything (so before the gateway relayed it)
// is causally impossible, and no attacker step makes it possible.
func TestReceiveBeforeSendIsRejected(t *testing.T) {
	paths := runCommands(t, t.TempDir())
	paths[2] = edit(t, paths[2], 1, replace(`"clock":3`, `"clock":1`))
	_, err := check(t, paths...)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.Node != "m1" || u.Step.Line != 1 {
		t.Fatalf("err = %v, want the meter's first step unexplained", err)
	}
}

// TestMalformedTraceIsAParseError: two lines of the gateway swapped (its
// clock goes back) and a truncated line are typed errors with file:line.
func TestMalformedTraceIsAParseError(t *testing.T) {
	paths := runCommands(t, t.TempDir())
	src, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	lines[0], lines[1] = lines[1], lines[0]
	swapped := filepath.Join(t.TempDir(), "g1.ndjson")
	if err := os.WriteFile(swapped, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = check(t, paths[0], swapped, paths[2])
	var pe *tracecheck.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, tracecheck.ErrClockOrder) || pe.File != swapped || pe.Line != 2 {
		t.Fatalf("swapped lines: err = %v, want ErrClockOrder at %s:2", err, swapped)
	}
	truncated := edit(t, paths[0], 2, func(l string) string { return l[:len(l)/2] })
	_, err = check(t, truncated, paths[1], paths[2])
	if !errors.As(err, &pe) || !errors.Is(err, tracecheck.ErrBadJSON) || pe.File != truncated || pe.Line != 2 {
		t.Fatalf("truncated line: err = %v, want ErrBadJSON at %s:2", err, truncated)
	}
}

// symbolicCommands is the meter's CommandsCrypto as spec/Commands.tla
// defines SignedBy (m.by = r), ListSignedBy (l.by = r) and Approves (s.id = m.id and s.kind = k), for driving the machines without keys (the
// generated meter.CommandsSymbolicCrypto is in the meter's tests only).
type symbolicCommands struct{}

func (symbolicCommands) SignedBy(m meter.CommandsNet, r string) bool { return m.By == r }

func (symbolicCommands) ListSignedBy(l meter.CommandsList, r string) bool { return l.By == r }

func (symbolicCommands) Approves(s meter.CommandsSig, m meter.CommandsNet, k string) bool {
	return s.Id == m.Id && s.Kind == k
}
