//go:build !device

package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/internal/pgtest"
	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/wan"
)

// TestTwoHeadEndsOnPostgresOneKilled: a scaled-out head-end, two `headend
// serve` processes on one PostgreSQL database. A gateway run forwards its
// meters' day through the first; alice requests a tariff command on the
// first; the first is killed (SIGKILL); bob approves on the second, which
// signs with the meter's next counter from the database; the gateway's
// next run finds the first dead, takes the second, relays the command and
// forwards on-demand readings. The database holds every item once (the
// day sent again is all duplicates) and one command counter.
func TestTwoHeadEndsOnPostgresOneKilled(t *testing.T) {
	ps := procs.New(t, "vmpg", 2, 1)
	dsn := pgtest.Start(t)
	var he headendFile
	if err := readJSON(ps.Path("headend.json"), &he); err != nil {
		t.Fatal(err)
	}
	he.Postgres = dsn
	if err := writeJSON(ps.Path("headend.json"), he); err != nil {
		t.Fatal(err)
	}
	he.AddrFile = ps.Path("headend-b.addr")
	if err := writeJSON(ps.Path("headend-b.json"), he); err != nil {
		t.Fatal(err)
	}
	var gw gatewayFile
	if err := readJSON(ps.Path("gw-00.json"), &gw); err != nil {
		t.Fatal(err)
	}
	gw.OtherHeadEnds = []string{he.AddrFile}
	if err := writeJSON(ps.Path("gw-00.json"), gw); err != nil {
		t.Fatal(err)
	}
	a := ps.StartHeadend()
	ps.Start("headend", "serve", "-config", ps.Path("headend-b.json"))
	ps.WaitFile(he.AddrFile)
	for i := range 2 {
		ps.StartMeter(i)
	}
	forwarded := regexp.MustCompile(`(\d+) items forwarded: (\d+) stored, (\d+) duplicates`)
	gatewayRun := func(args ...string) (stored, dups int, out string) {
		t.Helper()
		b, err := ps.Command(append([]string{"gateway", "run", "-config", ps.Path("gw-00.json")}, args...)...).CombinedOutput()
		out = string(b)
		m := forwarded.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("gateway run: %v\n%s", err, out)
		}
		stored, _ = strconv.Atoi(m[2])
		dups, _ = strconv.Atoi(m[3])
		return stored, dups, out
	}
	stored1, _, out := gatewayRun()
	if stored1 == 0 || strings.Contains(out, "unreachable") {
		t.Fatalf("first run through the first head-end: %s", out)
	}
	op := func(as, addrFile string, args ...string) []byte {
		t.Helper()
		out, err := exec.Command(ps.Bin, append([]string{"operator", "-dir", ps.Work, "-as", as, "-addr-file", addrFile}, args...)...).Output()
		if err != nil {
			t.Fatalf("operator %s %v: %v", as, args, err)
		}
		return out
	}
	var m0 meterFile
	if err := readJSON(ps.Path("meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	var c wan.OperatorCommand
	if err := json.Unmarshal(op("alice", ps.Path("headend.addr"), "request", m0.Title, "tariff", "2"), &c); err != nil {
		t.Fatal(err)
	}
	ps.Stop(a)
	if err := json.Unmarshal(op("bob", he.AddrFile, "approve", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandReady || c.Counter != 1 {
		t.Fatalf("approval on the second head-end: %+v %v", c, err)
	}
	stored2, dups2, out := gatewayRun("-read")
	if !strings.Contains(out, "unreachable") || !strings.Contains(out, "1 commands relayed, 0 refused by meters, 0 not delivered") {
		t.Fatalf("second run after the first head-end was killed: %s", out)
	}
	if dups2 < stored1 || stored2 < 2 {
		t.Fatalf("second run: %d stored, %d duplicates; want the %d items of the first run as duplicates and the 2 on-demand readings stored\n%s", stored2, dups2, stored1, out)
	}
	st, err := headend.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, _, err := st.Counts()
	if err != nil || items != stored1+stored2 {
		t.Fatalf("the database holds %d items (%v), the runs stored %d and %d", items, err, stored1, stored2)
	}
	if err := json.Unmarshal(op("alice", he.AddrFile, "command", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandRelayed {
		t.Fatalf("the command after the relay: %+v %v", c, err)
	}
	t.Logf("first run %d items stored; second run (first head-end killed) %d stored, %d duplicates, 1 command relayed at counter %d; the database holds %d items", stored1, stored2, dups2, c.Counter, items)
}
