package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/protocol"
)

// The demo's steps, in the order of the README's walkthrough; every row of
// the report belongs to one.
const (
	StepPKI        = "1 PKI"
	StepCommission = "2 commissioning"
	StepReadings   = "3 readings"
	StepCollection = "4 collection"
	StepFirmware   = "5 firmware"
	StepAttacker   = "6 attacker"
	StepOperator   = "7 operator change"
	StepMarket     = "8 market"
	StepTrace      = "9 trace validation"
)

// Row is one check of the report: a figure with its unit, the
// expectation it was judged against and the verdict. A failing row keeps
// what explains it in detail, which the report writes to a file the row
// names, so that the table stays one line per check.
type Row struct {
	Step, Check string
	Figure      string // the measured figure, with its unit
	Expect      string // what the figure was judged against
	OK          bool
	Detail      string // file holding the failing detail, once written
	detail      string
}

// Figures are the numbers the report's checks judge, kept apart from
// their wording so that a test compares them with the head-end's database.
type Figures struct {
	Meters, Gateways, Days int

	// 1 PKI: certificates the world holds, checked with crypto/x509 against
	// the root alone (sub-CAs as intermediates).
	CertsChecked, CertsChained int
	// 2 commissioning: signed key agreements that succeeded.
	Commissioned int
	// 3 readings.
	ReadingsTaken, OnDemandReads, SwitchedMeters, TariffMeters, TariffTargets int
	// 4 collection, from the head-end's store after the last flush.
	ItemsStored, IntervalsStored, IntervalsLost, DuplicateIntervals, ResentRecognised int
	IngestRejected                                                                    map[string]int
	QueuedDuringOutage, DeliveredAfterWakeUp                                          int
	WakeUpRefused                                                                     map[string]int
	QueueBeforeRestart, QueueAfterRestart                                             int
	AcksRelayed, ItemsKeptAfterAcks, ItemsKeptBeforeAcks                              int
	SignaturesVerified, SignaturesBad                                                 int
	Airtime                                                                           []SegmentAirtime
	// 5 firmware.
	Stage1Reached, Stage1Refused, Installed, SelfTestFailed, RolledBack int
	LogbookEntries, FirmwareAttempts                                    int
	CampaignsRefused                                                    map[string]int
	// 6 attacker.
	Attacks []AttackTally
	// 7 operator change.
	Moved, OldGatewayRefused, MovedStored int
	// 8 market.
	IntervalsEntitled, IntervalsVerified, IntervalsBad int
	PartitionViolations                                int
	FetchRefused, CommandRefused                       map[string]int
	DisconnectRuns                                     int
	RepeatRefused                                      map[string]int
	AuditEntries                                       int
	// 9 trace validation.
	TraceSteps, TraceLogs, TraceGroups int
}

// SegmentAirtime is one PLC segment's use of the medium during the day of
// readings and their collection.
type SegmentAirtime struct {
	Segment     string
	Meters      int
	Airtime     float64 // seconds on the medium
	Utilisation float64 // share of the simulated time, 0..1
}

// AttackTally counts one attack class and the reasons it was refused.
type AttackTally struct {
	Class           string
	Tried, Rejected int
	Reasons         map[string]int // refusals per reason class
}

// maxSegmentUtilisation is the airtime budget of one S-FSK segment
// (plc/README.md): above it, repeaters and retries saturate the medium.
const maxSegmentUtilisation = 0.25

// Report is what a run of the scenario found: one row per check, the
// figures they judge, and informational lines. The demo prints it; a test
// calls Check or CheckStep.
type Report struct {
	Rows []Row    // the checks, in the order the steps ran
	Info []string // lines below the table: timings, where logs are kept
	Fig  Figures  // the numbers the rows judge
	Dir  string   // where failing rows' details go; created on first use
}

// add appends a row; detail explains a failure and goes to a file.
func (r *Report) add(step, check string, ok bool, figure, expect, detail string) {
	r.Rows = append(r.Rows, Row{Step: step, Check: check, Figure: figure, Expect: expect, OK: ok, detail: detail})
}

// OK reports whether the report has rows and every one is green.
func (r *Report) OK() bool { return r.Check() == nil }

// ErrCheckFailed is what every failing report's error wraps: a check of
// the scenario did not hold.
var ErrCheckFailed = errors.New("sim: check failed")

// ErrNoChecks is a report (or a step) without rows: nothing was judged,
// which is never green.
var ErrNoChecks = errors.New("sim: no checks ran")

// CheckError names the checks that failed, with their figures and
// expectations, so that a test can tell which guarantee broke.
type CheckError struct {
	Failed []Row
}

// Error lists the failed checks, one per line.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", plural(len(e.Failed), "check"))
	b.WriteString(" failed")
	for _, c := range e.Failed {
		fmt.Fprintf(&b, "\n%s: %s: %s (expected %s)", c.Step, c.Check, c.Figure, c.Expect)
	}
	return b.String()
}

// Unwrap makes every CheckError an ErrCheckFailed.
func (e *CheckError) Unwrap() error { return ErrCheckFailed }

// Check judges the whole report: nil when it has rows and all are green,
// a *CheckError naming the failing rows, or ErrNoChecks.
func (r *Report) Check() error { return check(r.Rows) }

// CheckStep judges the rows of one step (StepPKI, ..., StepTrace) the
// same way.
func (r *Report) CheckStep(step string) error {
	var rows []Row
	for _, c := range r.Rows {
		if c.Step == step {
			rows = append(rows, c)
		}
	}
	if err := check(rows); err != nil {
		return fmt.Errorf("step %s: %w", step, err)
	}
	return nil
}

func check(rows []Row) error {
	if len(rows) == 0 {
		return ErrNoChecks
	}
	var failed []Row
	for _, c := range rows {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		return &CheckError{Failed: failed}
	}
	return nil
}

// Row returns the first row named check, for tests.
func (r *Report) Row(check string) (Row, bool) {
	for _, c := range r.Rows {
		if c.Check == check {
			return c, true
		}
	}
	return Row{}, false
}

// WriteDetails writes the detail of every failing row to its own file in
// the report directory (created on first use: -report-dir, or a new
// temporary directory) and names the file in the row.
func (r *Report) WriteDetails() error {
	for i := range r.Rows {
		c := &r.Rows[i]
		if c.OK || c.Detail != "" {
			continue
		}
		if r.Dir == "" {
			d, err := os.MkdirTemp("", "verimeter-report-")
			if err != nil {
				return fmt.Errorf("report directory: %w", err)
			}
			r.Dir = d
		} else if err := os.MkdirAll(r.Dir, 0o755); err != nil {
			return fmt.Errorf("report directory: %w", err)
		}
		text := c.detail
		if text == "" {
			text = "figure: " + c.Figure + "\nexpected: " + c.Expect
		}
		path := filepath.Join(r.Dir, fmt.Sprintf("%02d-%s.txt", i+1, slug(c.Check)))
		if err := os.WriteFile(path, []byte(c.Step+": "+c.Check+"\n\n"+strings.TrimRight(text, "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("report detail: %w", err)
		}
		c.Detail = path
	}
	return nil
}

// slug makes a file name of a check's name.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// cell keeps a table cell on one line: a figure or an expectation never
// breaks the table, whatever text it holds.
func cell(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", "/").Replace(s)
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// Write prints the report as the demo shows it: a Markdown table of the
// checks, then the informational lines.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintln(w, "verimeter demo report")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| step | check | figure | expected | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, c := range r.Rows {
		mark := "ok"
		if !c.OK {
			mark = "FAIL"
			if c.Detail != "" {
				mark = "FAIL, see " + c.Detail
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", cell(c.Step), cell(c.Check), cell(c.Figure), cell(c.Expect), mark)
	}
	if len(r.Info) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.Info {
			fmt.Fprintln(w, l)
		}
	}
}

// reasonClasses name why something was refused, by the sentinel error of
// the package that refused it: the report counts refusals per class, an
// operator's word, never the error string.
var reasonClasses = []struct {
	err  error
	name string
}{
	{errSameOperator, "approved by its requester"},
	{errForbidden, "not an operator"},
	{headend.ErrRateLimit, "above the hourly limit"},
	{errRuleRefused, "refused by the head-end's rules"},
	{protocol.ErrReplay, "replayed"},
	{protocol.ErrOutOfOrder, "counter out of order"},
	{protocol.ErrAuthentication, "authentication tag invalid"},
	{meter.ErrUntrusted, "signer not on the meter's trust list"},
	{headend.ErrLoggedAfterInvalidity, "not logged before the key's invalidity date"},
	{protocol.ErrRevoked, "certificate revoked"},
	{headend.ErrNotEntitled, "no contract for meter and period"},
	{headend.ErrParticipant, "participant certificate not valid"},
	{headend.ErrApproval, "second approver missing"},
	{headend.ErrRole, "role not permitted"},
	{gateway.ErrRelayed, "already relayed by the gateway"},
	{gateway.ErrWakeUp, "wake-up not authentic or replayed"},
	{gateway.ErrMeterRefus, "refused by the meter"},
}

// reasonClass is the class of a refusal; "" for nil (not refused).
func reasonClass(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range reasonClasses {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "other error"
}

// tally adds a refusal to counts and reports whether it was of class want.
func tally(counts map[string]int, err error, want error) bool {
	c := reasonClass(err)
	if c == "" {
		c = "not refused"
	}
	counts[c]++
	return err != nil && errors.Is(err, want)
}

// Classes renders counts per reason class, largest first: "2 replayed, 1
// no contract for meter and period".
func Classes(counts map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range counts {
		if v > 0 {
			all = append(all, kv{k, v})
		}
	}
	if len(all) == 0 {
		return "none"
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	parts := make([]string, len(all))
	for i, e := range all {
		parts[i] = fmt.Sprintf("%d %s", e.v, e.k)
	}
	return strings.Join(parts, ", ")
}

// Sum is the number of refusals over all reason classes.
func Sum(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

// plural is "1 meter", "2 meters".
func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
