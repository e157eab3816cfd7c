//go:build !device

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// demoTraces runs a small demo with -spec-trace and returns the trace
// directory and the directory of the meter that got the approved
// disconnect (the last meter: its log holds Execute with last = 1).
func demoTraces(t *testing.T) (dir, disconnected string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "trace")
	rep, err := runScenario(sim.Config{Meters: 8, Gateways: 2, Days: 1, Seed: 3, SpecTrace: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	if !rep.OK() || !strings.Contains(out.String(), "roles' steps are a behaviour of spec/Commands.tla") ||
		!strings.Contains(out.String(), "roles' steps are a behaviour of spec/Channel.tla") ||
		!strings.Contains(out.String(), "roles' steps are a behaviour of spec/Collection.tla") ||
		!strings.Contains(out.String(), "meters' steps are a behaviour of spec/Firmware.tla") {
		t.Fatalf("demo with -spec-trace:\n%s", out.String())
	}
	// The last meter (index 7) has system title VMR\0 0 0 0 7.
	disconnected = filepath.Join(dir, "commands", "564d520000000007")
	for _, f := range []string{"headend.ndjson", "meter.ndjson"} {
		if _, err := os.Stat(filepath.Join(disconnected, f)); err != nil {
			t.Fatalf("no log of the disconnected meter's commands: %v", err)
		}
	}
	return dir, disconnected
}

// rewrite replaces old by new in line n (1-based) of a log, failing when
// the line lacks old (an edit that changes nothing proves nothing).
func rewrite(t *testing.T, path string, n int, old, new string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if n > len(lines) || !strings.Contains(lines[n-1], old) {
		t.Fatalf("%s:%d lacks %q:\n%s", path, n, old, src)
	}
	lines[n-1] = strings.Replace(lines[n-1], old, new, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDemoTracesAreExplained: the logs the running head-end, gateways and
// meters of the demo write from their generated machines are behaviours
// of spec/Commands.tla (the demo's own check, and again here).
func TestDemoTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	results, err := validateSpecTraces(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := results.module("Commands")
	// 8 meters on 2 gateways: tariffs to meters 0-4, trust lists to gateway
	// 0's meters (0, 2, 4, 6): issue, relay, execute each; the disconnect
	// to meter 7: issue, relay, execute, then after the repeat the gateway
	// refused, its restart and the relay the meter refuses (5 steps); and
	// the wake-up of gateway 0, which only the head-end logs; and gateway
	// 0's Restart (it restarts in the tamper step) in the logs of the
	// meters it relayed a tariff to before (0, 2, 4), at its next relay.
	if res.Groups != 8 || res.Steps != 3*(5+4)+5+1+3 {
		t.Fatalf("%+v: want 8 groups and 36 steps", res)
	}
	t.Logf("Commands: %d steps in %d logs of %d groups explained", res.Steps, res.Logs, res.Groups)
	// Every meter and its gateway log their channel: at least the
	// gateway's Rekey, the meter's Agree, a reservation, a sealed answer
	// and its Receive each.
	ch := results.module("Channel")
	if ch.Groups != 8 || ch.Logs != 16 || ch.Steps < 8*5 {
		t.Fatalf("Channel %+v: want 8 groups of two logs, >= 40 steps", ch)
	}
	t.Logf("Channel: %d steps in %d logs of %d groups explained", ch.Steps, ch.Logs, ch.Groups)
	co := results.module("Collection")
	if co.Groups != 8 || co.Logs < 8*3 || co.Steps < 8*5 {
		t.Fatalf("Collection %+v: want 8 groups of >= 3 logs (meter, gateway, head-end), >= 40 steps", co)
	}
	t.Logf("Collection: %d steps in %d logs of %d groups explained", co.Steps, co.Logs, co.Groups)
}

// channelLog is the Channel log of the disconnected meter of demoTraces.
func channelLog(t *testing.T, dir string) string {
	t.Helper()
	return channelLogOf(t, dir, "meter")
}

// channelLogOf is the Channel log of role (meter, gateway) for the
// disconnected meter of demoTraces.
func channelLogOf(t *testing.T, dir, role string) string {
	t.Helper()
	path := filepath.Join(dir, "channel", "564d520000000007", role+".ndjson")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Channel log of the meter: %v", err)
	}
	return path
}

// TestDemoTamperedChannelTraceIsRejected: a meter's Channel log edited so
// that a Seal leaves the next counter where it was (the following APDU
// would reuse the nonce, which S7 forbids) is reported at that line. The
// meter's second agreement (a re-commissioning in the demo) is followed by
// a Reserve and then Seals; its second Seal goes from next 1 to 2.
func TestDemoTamperedChannelTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := channelLog(t, dir)
	n := nthAction(t, path, "Agree", 2) + 3
	rewrite(t, path, n, `"next":2,`, `"next":1,`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != n || u.Step.Action != "Seal" {
		t.Fatalf("err = %v, want the meter's Seal at %s:%d unexplained", err, path, n)
	}
	t.Log(err)
}

// TestDemoReorderedChannelTraceIsRejected: a meter's Channel log with its
// first sealed APDU moved before the key agreement's reservation (a seal
// under counters not yet durable) is rejected.
func TestDemoReorderedChannelTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := channelLog(t, dir)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	n := seal(t, path, 1)
	if n < 2 || !strings.Contains(lines[n-2], `"action":"Reserve"`) {
		t.Fatalf("%s: the first Seal (line %d) does not follow a Reserve:\n%s", path, n, src)
	}
	// Swap the two lines, keeping each line's clock in its place so the
	// log stays well formed (clocks increasing): only the order changes.
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[n-2], lines[n-1]
	ca, cb := clock(a), clock(b)
	lines[n-2], lines[n-1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want a step of %s unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoTamperedGatewayChannelTraceIsRejected: the gateway's Channel
// log edited so that a Receive accepts the APDU of the Receive before it
// under the same key again (a replay accepted twice, which S2 forbids) is
// reported at that line: the spec's Receive is not enabled for a counter
// in seen.
func TestDemoTamperedGatewayChannelTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := channelLogOf(t, dir, "gateway")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	field := func(l, name string) string {
		i := strings.Index(l, `"`+name+`":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	var first, second int
	for k := 1; second == 0; k++ {
		a, b := action(t, path, "Receive", k), action(t, path, "Receive", k+1)
		if b == a+1 && field(lines[a-1], "k") == field(lines[b-1], "k") {
			first, second = a, b
		}
	}
	// The second Receive replaced by the first one again, at its own
	// clock: the log stays well formed, the gateway accepted c twice.
	lines[second-1] = strings.Replace(lines[first-1], field(lines[first-1], "clock"), field(lines[second-1], "clock"), 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != second || u.Step.Action != "Receive" {
		t.Fatalf("err = %v, want the gateway's Receive at %s:%d unexplained", err, path, second)
	}
	t.Log(err)
}

// TestDemoReorderedGatewayChannelTraceIsRejected: the gateway's Channel
// log with its first Receive moved before its Rekey (an APDU accepted
// under a key not yet agreed) is rejected; and a Receive restamped before
// the meter's Seal of that APDU (accepted before it was sealed) too.
func TestDemoReorderedGatewayChannelTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := channelLogOf(t, dir, "gateway")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	orig := append([]byte(nil), src...)
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	n := action(t, path, "Receive", 1)
	if n < 2 || !strings.Contains(lines[n-2], `"action":"Rekey"`) {
		t.Fatalf("%s: the first Receive (line %d) does not follow a Rekey:\n%s", path, n, src)
	}
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[n-2], lines[n-1]
	ca, cb := clock(a), clock(b)
	lines[n-2], lines[n-1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want a step of %s unexplained", err, path)
	}
	t.Log(err)

	// Restamped at the clock of the gateway's Rekey + 1 (still after the
	// Rekey in its own log, but before the meter's Agree and Seal).
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(orig), "\n"), "\n")
	var rekey uint64
	fmt.Sscanf(strings.TrimPrefix(clock(lines[n-2]), `"clock":`), "%d", &rekey)
	rewrite(t, path, n, clock(lines[n-1]), fmt.Sprintf(`"clock":%d`, rekey+1))
	_, err = validateSpecTraces(dir)
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != n {
		t.Fatalf("err = %v, want the gateway's Receive at %s:%d unexplained", err, path, n)
	}
	t.Log(err)
}

// seal returns the line (1-based) of the k-th Seal in a Channel log.
func seal(t *testing.T, path string, k int) int {
	t.Helper()
	return action(t, path, "Seal", k)
}

// action returns the line (1-based) of the k-th step of action in a log.
func action(t *testing.T, path, name string, k int) int {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, `"action":"`+name+`"`) {
			if k--; k == 0 {
				return i + 1
			}
		}
	}
	t.Fatalf("%s has fewer steps of %s:\n%s", path, name, src)
	return 0
}

// TestDemoTamperedTraceIsRejected: the disconnected meter's logged state
// edited (it claims to have run counter 2) is reported as that step, with
// its file:line.
func TestDemoTamperedTraceIsRejected(t *testing.T) {
	dir, m := demoTraces(t)
	path := filepath.Join(m, "meter.ndjson")
	rewrite(t, path, 1, `"state":{"last":1,`, `"state":{"last":2,`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 1 || u.Step.Action != "ExecuteDisconnect" {
		t.Fatalf("err = %v, want the meter's ExecuteDisconnect at %s:1 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoReorderedTraceIsRejected: the meter's step restamped before the
// head-end issued the command (a causally impossible order: it ran a
// command not yet signed) is rejected.
func TestDemoReorderedTraceIsRejected(t *testing.T) {
	dir, m := demoTraces(t)
	path := filepath.Join(m, "meter.ndjson")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var clock string
	if i := strings.Index(string(src), `"clock":`); i >= 0 {
		clock = string(src[i : i+strings.IndexByte(string(src[i:]), ',')])
	}
	if clock == "" || clock == `"clock":1` {
		t.Fatalf("the meter's step has clock %q, want one after the relay", clock)
	}
	rewrite(t, path, 1, clock, `"clock":1`)
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want the meter's step at %s unexplained", err, path)
	}
}

// TestPlaintextOfReceive: the gateway's Receive of an APDU gets the
// plaintext number of the meter's first Seal of its key and counter (also
// across the meter's restart, whose log continues the seal count).
func TestPlaintextOfReceive(t *testing.T) {
	line := func(role string, clock int, action, event, state string) tracecheck.Step {
		return tracecheck.Step{TraceLine: statemachine.TraceLine{Role: role, Node: role, Clock: uint64(clock), Action: action,
			Event: json.RawMessage(event), State: json.RawMessage(state)}}
	}
	meter := []tracecheck.Step{
		line("meter", 2, "Seal", `{"kind":"send"}`, `{"reserved":256,"next":1,"sent":1,"mkey":2}`),
		line("meter", 3, "Seal", `{"kind":"send"}`, `{"reserved":256,"next":2,"sent":2,"mkey":2}`),
		line("meter", 4, "Crash", `{"kind":"power_loss"}`, `{"reserved":256,"next":256,"sent":2,"mkey":2}`),
		line("meter", 5, "Seal", `{"kind":"send"}`, `{"reserved":256,"next":257,"sent":3,"mkey":2}`),
	}
	gw := []tracecheck.Step{
		line("gateway", 6, "Receive", `{"kind":"receive","m":{"k":2,"c":1,"r":0,"auth":true}}`, `{"gkey":2,"seen":[1]}`),
		line("gateway", 7, "Receive", `{"kind":"receive","m":{"k":2,"c":256,"r":0,"auth":true}}`, `{"gkey":2,"seen":[1,256]}`),
		line("gateway", 8, "Receive", `{"kind":"receive","m":{"k":2,"c":7,"r":0,"auth":true}}`, `{"gkey":2,"seen":[1,256,7]}`),
	}
	out, err := plaintextOfReceive([][]tracecheck.Step{meter, gw})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`"r":2`, `"r":3`, `"r":0`} {
		if !strings.Contains(string(out[1][i].Event), want) {
			t.Errorf("Receive %d mapped to %s, want %s", i+1, out[1][i].Event, want)
		}
	}
}

// collectionLog is a log of the disconnected meter's Collection group of
// demoTraces (who: "meter", "headend" or "gateway-*").
func collectionLog(t *testing.T, dir, who string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "collection", "564d520000000007", who+".ndjson"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Collection log %s of the meter: %v", who, err)
	}
	return paths[0]
}

// nthAction returns the line (1-based) of the k-th step of action in a log.
func nthAction(t *testing.T, path, action string, k int) int {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, `"action":"`+action+`"`) {
			if k--; k == 0 {
				return i + 1
			}
		}
	}
	t.Fatalf("%s has fewer than %d %s:\n%s", path, k, action, src)
	return 0
}

// TestDemoTamperedCollectionTraceIsRejected: a meter's Collection log
// edited so that its second Take claims a counter it skipped (taken 3
// where the machine took 2: a reading r = 2 the spec's meter never kept)
// is reported at that line.
func TestDemoTamperedCollectionTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := collectionLog(t, dir, "meter")
	n := nthAction(t, path, "Take", 2)
	rewrite(t, path, n, `"state":{"taken":2}`, `"state":{"taken":3}`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != n || u.Step.Action != "Take" {
		t.Fatalf("err = %v, want the meter's Take at %s:%d unexplained", err, path, n)
	}
	t.Log(err)
}

// TestDemoReorderedCollectionTraceIsRejected: the gateway's log with its
// first Upload moved before the Collect that queued the item (an upload of
// what the queue does not hold yet) is rejected.
func TestDemoReorderedCollectionTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := collectionLog(t, dir, "gateway-*")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	c, u := nthAction(t, path, "Collect", 1), nthAction(t, path, "Upload", 1)
	if c >= u {
		t.Fatalf("%s: the first Upload (line %d) does not follow the first Collect (line %d):\n%s", path, u, c, src)
	}
	// Swap the two lines, keeping each line's clock in its place so the
	// log stays well formed (clocks increasing): only the order changes.
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[c-1], lines[u-1]
	ca, cb := clock(a), clock(b)
	lines[c-1], lines[u-1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var ue *tracecheck.Unexplained
	if !errors.As(err, &ue) || ue.Step.File != path || ue.Step.Action != "Upload" {
		t.Fatalf("err = %v, want the gateway's Upload in %s unexplained", err, path)
	}
	t.Log(err)
}

func firmwareLog(t *testing.T, dir string, i int) (path string, lines []string) {
	t.Helper()
	path = filepath.Join(dir, "firmware", fmt.Sprintf("564d52000000000%d", i), "meter.ndjson")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no Firmware log of meter %d: %v", i, err)
	}
	return path, strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
}

func TestDemoFirmwareTraces(t *testing.T) {
	dir, _ := demoTraces(t)
	results, err := validateSpecTraces(dir)
	if err != nil {
		t.Fatal(err)
	}
	fw := results.module("Firmware")
	if fw.Groups != 8 || fw.Logs != 8 || fw.Steps < 7*6+5 {
		t.Fatalf("Firmware %+v: want 8 groups of one log, >= 47 steps", fw)
	}
	path, lines := firmwareLog(t, dir, 4)
	n := nthAction(t, path, "SelfTestFail", 1)
	if !strings.Contains(lines[n-1], `"outcome":"rolled back","cause":"self-test failed"`) || !strings.Contains(lines[n], `"action":"RollBack"`) {
		t.Fatalf("meter 4's rollback:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("Firmware: %d steps in %d logs of %d groups explained", fw.Steps, fw.Logs, fw.Groups)
}

func TestDemoTamperedFirmwareTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path, _ := firmwareLog(t, dir, 4)
	n := nthAction(t, path, "SelfTestFail", 1)
	rewrite(t, path, n, `"outcome":"rolled back","cause":"self-test failed"`, `"outcome":"installed","cause":""`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != n || u.Step.Action != "SelfTestFail" {
		t.Fatalf("err = %v, want the meter's SelfTestFail at %s:%d unexplained", err, path, n)
	}
	t.Log(err)
}

func TestDemoReorderedFirmwareTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path, lines := firmwareLog(t, dir, 1)
	n := nthAction(t, path, "Activate", 1)
	if n < 2 || !strings.Contains(lines[n-2], `"action":"WriteSlot"`) {
		t.Fatalf("%s: the activation (line %d) does not follow the slot write:\n%s", path, n, strings.Join(lines, "\n"))
	}
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[n-2], lines[n-1]
	ca, cb := clock(a), clock(b)
	lines[n-2], lines[n-1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != n-1 {
		t.Fatalf("err = %v, want the step at %s:%d unexplained", err, path, n-1)
	}
	t.Log(err)
}
