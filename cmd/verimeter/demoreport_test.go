//go:build !device

package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/wan"
)

// demoSizes are the small deployments the property test runs: every
// gateway count 1..4, one meter per gateway, the last meter on gateway 0
// (the meters the operator change moves include the one the disconnect
// goes to), fewer than three meters (no meter of "supplier Lapsed"), fewer
// than ten (one switching meter), and a few seeds.
var demoSizes = []struct {
	meters, gateways int
	seed             uint64
}{
	{1, 1, 1}, {2, 1, 2}, {2, 2, 3}, {3, 2, 1}, {4, 3, 2}, {4, 4, 3},
	{5, 4, 1}, {7, 1, 3}, {7, 2, 2}, {9, 4, 3}, {10, 3, 1}, {11, 2, 2},
	{12, 1, 1}, {12, 4, 3},
}

// TestDemoEverySizeIsGreen: every valid meters x gateways combination runs
// green, with the same rows in the same order (no row disappears for a
// small deployment), and the figures agree with the sizes.
func TestDemoEverySizeIsGreen(t *testing.T) {
	var mu chanMutex = make(chan struct{}, 1)
	var reference []string
	for _, sz := range demoSizes {
		t.Run(fmt.Sprintf("m%d_g%d_s%d", sz.meters, sz.gateways, sz.seed), func(t *testing.T) {
			t.Parallel() // mostly waiting for fsync: runs overlap well on two cores
			rep, err := runScenario(sim.Config{Meters: sz.meters, Gateways: sz.gateways, Days: 1, Seed: sz.seed, ReportDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteDetails(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rep.Write(&out)
			if err := rep.Check(); err != nil {
				t.Fatalf("not green: %v\n%s\n%s", err, out.String(), details(rep))
			}
			f := rep.Fig
			want := sz.meters * 96
			if f.ReadingsTaken != want || f.IntervalsStored != want || f.IntervalsLost != 0 || f.DuplicateIntervals != 0 {
				t.Errorf("taken %d, stored %d, lost %d, twice %d; want %d, %d, 0, 0", f.ReadingsTaken, f.IntervalsStored, f.IntervalsLost, f.DuplicateIntervals, want, want)
			}
			if f.Commissioned != sz.meters || f.IntervalsVerified != f.IntervalsEntitled || f.IntervalsEntitled < 2*want-96 {
				t.Errorf("commissioned %d, participants verified %d of %d", f.Commissioned, f.IntervalsVerified, f.IntervalsEntitled)
			}
			onGW0 := (sz.meters + sz.gateways - 1) / sz.gateways
			if f.Moved != onGW0 || f.OldGatewayRefused != onGW0 {
				t.Errorf("operator change moved %d, old gateway refused %d; gateway 0 had %d meters", f.Moved, f.OldGatewayRefused, onGW0)
			}
			if len(f.Airtime) != sz.gateways {
				t.Errorf("%d airtime figures for %d segments", len(f.Airtime), sz.gateways)
			}
			var checks []string
			for _, r := range rep.Rows {
				checks = append(checks, r.Check)
			}
			mu.lock()
			defer mu.unlock()
			if reference == nil {
				reference = checks
			} else if !slices.Equal(checks, reference) {
				t.Errorf("rows differ from another size's:\n%q\n%q", checks, reference)
			}
		})
	}
}

// chanMutex guards the reference rows across parallel subtests.
type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

// details returns the failing rows' detail files, for a test's message.
func details(rep *sim.Report) string {
	var b strings.Builder
	for _, r := range rep.Rows {
		if r.Detail != "" {
			src, _ := os.ReadFile(r.Detail)
			b.Write(src)
		}
	}
	return b.String()
}

// dbFigures counts in the head-end's SQLite file, with SQL of its own, what
// the report claims: items, intervals, quarter hours stored twice (intervals
// of a block whose span another, earlier block of the meter already
// covers), and refusals in the audit log by action.
type dbFigures struct {
	items, intervals, twice int
	refused                 map[string]int
}

func readDB(t *testing.T, path string) dbFigures {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var f dbFigures
	q := func(dst *int, query string, args ...any) {
		if err := db.QueryRow(query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&f.items, `SELECT count(*) FROM data`)
	q(&f.intervals, `SELECT coalesce(sum(intervals), 0) FROM data`)
	q(&f.twice, `SELECT coalesce(sum(d.intervals), 0) FROM data d WHERE d.kind = ? AND EXISTS (
		SELECT 1 FROM data e WHERE e.meter = d.meter AND e.kind = d.kind AND e.counter < d.counter
		AND e.signed_at < d.span_end AND d.signed_at < e.span_end)`, int(wan.KindBlock))
	f.refused = map[string]int{}
	rows, err := db.Query(`SELECT action, count(*) FROM audit WHERE action LIKE '%-refused' OR action LIKE '%-rejected' GROUP BY action`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			t.Fatal(err)
		}
		f.refused[a] = n
	}
	return f
}

// crossCheck compares the report's figures with the database's.
func crossCheck(t *testing.T, f sim.Figures, db dbFigures) {
	t.Helper()
	if db.items != f.ItemsStored+f.MovedStored {
		t.Errorf("database holds %d items, report says %d (+%d after the operator change)", db.items, f.ItemsStored, f.MovedStored)
	}
	if db.intervals != f.IntervalsStored {
		t.Errorf("database holds %d intervals, report says %d", db.intervals, f.IntervalsStored)
	}
	if db.twice != f.DuplicateIntervals {
		t.Errorf("database stores %d intervals twice, report says %d", db.twice, f.DuplicateIntervals)
	}
	if db.refused["fetch-refused"] != sim.Sum(f.FetchRefused) {
		t.Errorf("audit log: %d fetches refused, report: %d (%s)", db.refused["fetch-refused"], sim.Sum(f.FetchRefused), sim.Classes(f.FetchRefused))
	}
	// Commands are refused by the head-end's rules (command-refused), at
	// approval by the requester (command-approval-refused), or before,
	// to a certificate that is not an operator's (operator-refused).
	if n := db.refused["command-refused"] + db.refused["command-approval-refused"] + db.refused["operator-refused"]; n != sim.Sum(f.CommandRefused) {
		t.Errorf("audit log: %d commands refused, report: %d (%s)", n, sim.Sum(f.CommandRefused), sim.Classes(f.CommandRefused))
	}
	if db.refused["campaign-refused"] != sim.Sum(f.CampaignsRefused) {
		t.Errorf("audit log: %d campaigns refused, report: %d", db.refused["campaign-refused"], sim.Sum(f.CampaignsRefused))
	}
	if (db.refused["ingest-rejected"] > 0) != (sim.Sum(f.IngestRejected) > 0) {
		t.Errorf("audit log: %d ingest rejections, report: %d", db.refused["ingest-rejected"], sim.Sum(f.IngestRejected))
	}
}

// TestDemoFiguresMatchTheDatabase: the report's figures are what the
// head-end's database holds, for a green run and for the broken variant
// where a block is stored twice behind the head-end's back (the
// duplicates row must then count it and fail).
func TestDemoFiguresMatchTheDatabase(t *testing.T) {
	for _, dup := range []bool{false, true} {
		t.Run(fmt.Sprintf("duplicate=%t", dup), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "headend.db")
			rep, err := runScenario(sim.Config{Meters: 6, Gateways: 2, Days: 1, Seed: 7, DB: db, DuplicateBlock: dup, ReportDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			got := readDB(t, db)
			crossCheck(t, rep.Fig, got)
			row, ok := rep.Row("intervals stored twice")
			if !ok {
				t.Fatal("no row for intervals stored twice")
			}
			if want := fmt.Sprintf("%d interval", got.twice); !strings.HasPrefix(row.Figure, want) {
				t.Errorf("row says %q, the database %d", row.Figure, got.twice)
			}
			if row.OK == dup || rep.OK() == dup {
				t.Errorf("duplicate=%t: row ok %t, report ok %t", dup, row.OK, rep.OK())
			}
			if dup && got.twice != 96 {
				t.Errorf("the broken variant stored %d intervals twice, want one day's 96", got.twice)
			}
		})
	}
}

// TestDemoFailingRowNamesItsDetailFile: a failing row keeps the table one
// line per check and names the file with its detail, in -report-dir.
func TestDemoFailingRowNamesItsDetailFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	var out bytes.Buffer
	rep, err := runScenario(sim.Config{Meters: 3, Gateways: 1, Days: 1, Seed: 2, BreakSignature: true, ReportDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteDetails(); err != nil {
		t.Fatal(err)
	}
	rep.Write(&out)
	row, _ := rep.Row("signatures verified by an outsider (roots and meter certificates only)")
	if row.OK || !strings.HasPrefix(row.Detail, dir) {
		t.Fatalf("row %+v, want a failure with its detail in %s", row, dir)
	}
	detail, err := os.ReadFile(row.Detail)
	if err != nil || !strings.Contains(string(detail), "signature") {
		t.Fatalf("detail file: %v\n%s", err, detail)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	table := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			table++
			if strings.Count(l, "|") != 6 {
				t.Errorf("row breaks the table: %s", l)
			}
		}
	}
	if table != len(rep.Rows)+2 {
		t.Errorf("%d table lines for %d rows", table, len(rep.Rows))
	}
	if !strings.Contains(out.String(), "FAIL, see "+row.Detail) {
		t.Errorf("the row does not name its detail file:\n%s", out.String())
	}
}

// TestDemoNoCarriageReturnsOffTerminal: stderr that is a file or a buffer
// (CI logs, pipes) gets no progress bar.
func TestDemoNoCarriageReturnsOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if code := run([]string{"demo", "-meters", "3", "-gateways", "2", "-seed", "4"}, &out, f); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	errText, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(errText, []byte("\r")); n > 0 || bytes.Contains(out.Bytes(), []byte("\r")) {
		t.Fatalf("%d carriage returns on a non-terminal stderr (%d bytes)", n, len(errText))
	}
}

// TestDemoSizeErrorsNameTheFlag: invalid sizes are usage errors (exit 2)
// naming the flag.
func TestDemoSizeErrorsNameTheFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"-meters", "0"}, "-meters 0"},
		{[]string{"-meters", "-3"}, "-meters -3"},
		{[]string{"-gateways", "0", "-meters", "2"}, "-gateways 0"},
		{[]string{"-meters", "1", "-gateways", "2"}, "-gateways 2 exceeds -meters 1"},
		{[]string{"-days", "0"}, "-days 0"},
		{[]string{"-meters", "x"}, "-meters"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"demo"}, c.args...), &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(errb.String(), c.flag) || out.Len() != 0 {
			t.Errorf("%q: stderr %q lacks %q", c.args, errb.String(), c.flag)
		}
	}
}

// BenchmarkDemo runs the whole demo for the default deployment (200 meters,
// 4 gateways, one day); most of its wall time is the roles' durable writes.
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		rep, err := runScenario(sim.Config{Meters: 200, Gateways: 4, Days: 1, Seed: 1, ReportDir: b.TempDir()})
		if err != nil || !rep.OK() {
			b.Fatalf("demo: %v", err)
		}
		b.ReportMetric(float64(rep.Fig.ReadingsTaken), "intervals/op")
	}
}
