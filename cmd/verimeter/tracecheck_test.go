//go:build !device

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commandsLogs writes the logs of a run of spec/Commands (a head-end, a
// gateway and a meter, clocks as statemachine.Instance stamps them) into
// dir; edit, when set, changes one node's lines first.
func commandsLogs(t *testing.T, edit func(node string, lines []string)) []string {
	t.Helper()
	line := func(role, node string, clock int, action, event, state string) string {
		return fmt.Sprintf(`{"role":%q,"node":%q,"clock":%d,"action":%q,"event":%s,"state":%s}`, role, node, clock, action, event, state)
	}
	logs := []struct {
		node  string
		lines []string
	}{
		{"h1", []string{
			line("headend", "h1", 1, "Issue", `{"kind":"issue","a":1,"b":2,"k":"disconnect"}`, `{"issued":1}`),
			line("headend", "h1", 2, "Issue", `{"kind":"issue","a":2,"b":1,"k":"other"}`, `{"issued":2}`),
		}},
		{"g1", []string{
			line("gateway", "g1", 2, "Relay", `{"kind":"relay","c":1}`, `{"relayed":[1]}`),
			line("gateway", "g1", 3, "Relay", `{"kind":"relay","c":2}`, `{"relayed":[1,2]}`),
		}},
		{"m1", []string{
			line("meter", "m1", 3, "Execute", `{"kind":"command","m":{"id":1,"by":"headend"}}`, `{"last":1,"tlVer":1}`),
			line("meter", "m1", 4, "Execute", `{"kind":"command","m":{"id":2,"by":"headend"}}`, `{"last":2,"tlVer":1}`),
		}},
	}
	dir := t.TempDir()
	var paths []string
	for _, l := range logs {
		if edit != nil {
			edit(l.node, l.lines)
		}
		p := filepath.Join(dir, l.node+".ndjson")
		if err := os.WriteFile(p, []byte(strings.Join(l.lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

const commandsTLA = "../../spec/Commands.tla"

func TestTraceCheckExplains(t *testing.T) {
	args := append([]string{"trace-check", "-spec", commandsTLA}, commandsLogs(t, nil)...)
	code, out, errb := runCLI(t, args...)
	if code != exitOK || !strings.Contains(out, "6 steps explained by a behaviour of Commands") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
}

func TestTraceCheckRejectsATamperedStep(t *testing.T) {
	paths := commandsLogs(t, func(node string, lines []string) {
		if node == "g1" {
			lines[1] = strings.Replace(lines[1], `"relayed":[1,2]`, `"relayed":[1,3]`, 1)
		}
	})
	args := append([]string{"trace-check", "-spec", commandsTLA, "-config", "../../spec/Commands.cfg", "-max-hidden", "1"}, paths...)
	code, out, errb := runCLI(t, args...)
	if code != exitUnexplained {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUnexplained, out, errb)
	}
	for _, want := range []string{"step 4 (" + paths[1] + ":2)", "no step of Relay", "[relayed |-> {1, 2}]", "/\\ issued = 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceCheckExitCodes(t *testing.T) {
	good := commandsLogs(t, nil)
	bad := commandsLogs(t, func(node string, lines []string) {
		if node == "m1" {
			lines[1] = lines[1][:20]
		}
	})
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no spec", good, exitBadInput, "usage: verimeter trace-check"},
		{"no logs", []string{"-spec", commandsTLA}, exitBadInput, "usage:"},
		{"negative hidden", append([]string{"-spec", commandsTLA, "-max-hidden", "-1"}, good...), exitBadInput, "usage:"},
		{"bad flag", []string{"-nope"}, exitBadInput, "-nope"},
		{"missing log", []string{"-spec", commandsTLA, filepath.Join(t.TempDir(), "none.ndjson")}, exitInternal, "none.ndjson"},
		{"malformed log", append([]string{"-spec", commandsTLA}, bad...), exitInternal, bad[2] + ":2: trace line is not a TraceLine"},
		{"missing spec", append([]string{"-spec", "nowhere/X.tla"}, good...), exitInternal, "X.tla"},
		{"missing config", append([]string{"-spec", commandsTLA, "-config", "nowhere/M.cfg"}, good...), exitInternal, "config file nowhere/M.cfg: no such file"},
		{"node in two logs", []string{"-spec", commandsTLA, good[0], good[0]}, exitInternal, "node logged in two files"},
		{"state cap", append([]string{"-spec", commandsTLA, "-max-states", "1"}, good...), exitInternal, "exceed the cap"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errb := runCLI(t, append([]string{"trace-check"}, c.args...)...)
			if code != c.code || !strings.Contains(out+errb, c.want) {
				t.Fatalf("exit %d (want %d), output lacks %q?\nstdout:\n%s\nstderr:\n%s", code, c.code, c.want, out, errb)
			}
		})
	}
	_, _, errb := runCLI(t)
	if !strings.Contains(errb, "trace-check") {
		t.Fatalf("usage does not list trace-check:\n%s", errb)
	}
}
