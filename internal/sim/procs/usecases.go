package procs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The process demo: the ten use cases played
// by real processes, `headend serve`, one `meter run` per meter and `gateway
// run` per gateway and round, PLC over Unix datagram sockets and the WAN
// over TLS 1.3 on loopback, every operator action through the operator API
// as operators alice and bob. Each outcome is checked where an auditor
// would look: in the head-end's database (SQL of the demo's own, not the
// API), on the meters (their display after a restart, their logbook) and in
// the processes' spec trace logs. With a PostgreSQL database two head-ends
// serve it, and the first is killed (SIGKILL) after the operators' approvals:
// the gateways fail over and the second relays what the first signed.
// `verimeter demo -processes` (cmd/verimeter/demoprocs.go) runs it, and
// cmd/verimeter/usecases_test.go in `make test`, on SQLite and on
// PostgreSQL; every row of its report must hold.

// UseCases is the process demo's configuration.
type UseCases struct {
	Bin              string    // the verimeter binary the processes run
	Dir              string    // the deployment's directory (provisioned here; short: Unix socket paths are limited to 108 bytes)
	Meters, Gateways int       // at least 2 meters
	Postgres         string    // a PostgreSQL DSN: two head-ends on it, the first killed midway; empty: one head-end on SQLite
	Log              io.Writer // a line per step as it starts
	// Traces judges the processes' spec trace logs in dir against the
	// spec, as `verimeter trace-check` does: the steps explained per
	// module, or the first log no behaviour explains.
	Traces func(dir string) (map[string]int, error)
}

// meterConf is what the demo reads of a meter's configuration, as
// `verimeter provision` writes it.
type meterConf struct {
	Title     string `json:"title"`
	TrustList string `json:"trust_list"`
	Socket    string `json:"socket"`
	Day       int64  `json:"day"`
}

// Row is one check of the process demo's report.
type Row struct {
	UC, Check, Figure string
	OK                bool
}

// Report is the process demo's outcome: a row per check.
type Report struct {
	Rows []Row
	Dir  string // the deployment, with each process's output under logs/
}

// OK says whether every check held.
func (r *Report) OK() bool {
	for _, row := range r.Rows {
		if !row.OK {
			return false
		}
	}
	return len(r.Rows) > 0
}

// held is the number of checks that held.
func (r *Report) held() int {
	n := 0
	for _, row := range r.Rows {
		if row.OK {
			n++
		}
	}
	return n
}

// Write prints the report as a table.
func (r *Report) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "use case\tcheck\tfigure\tverdict")
	for _, row := range r.Rows {
		v := "OK"
		if !row.OK {
			v = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.UC, row.Check, row.Figure, v)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d checks held\n", r.held(), len(r.Rows))
}

// ErrUseCases is a step of the process demo that could not run (a
// process that did not start, a gateway run that failed): the report
// stops there.
var ErrUseCases = errors.New("process demo")

// ucWorld is a running process demo.
type ucWorld struct {
	UseCases
	rep     *Report
	trace   string
	pool    *x509.CertPool
	clients map[string]*sim.APIClient
	addr    string // the head-end the operators and participants call
	procs   []*exec.Cmd
	meters  []*ucMeter
	mf      []meterConf
	stored  int // items the gateway runs report stored
}

// ucMeter is a meter process and its output.
type ucMeter struct {
	cmd *exec.Cmd
	out *Buffer
}

// check adds a row to the report.
func (w *ucWorld) check(uc, what string, ok bool, figure string, a ...any) {
	w.rep.Rows = append(w.rep.Rows, Row{UC: uc, Check: what, Figure: fmt.Sprintf(figure, a...), OK: ok})
}

// step logs the start of a step.
func (w *ucWorld) step(format string, a ...any) {
	if w.Log != nil {
		fmt.Fprintf(w.Log, "process demo: "+format+"\n", a...)
	}
}

// Run runs the process demo; the error is a step that could not run, the
// report holds the checks made before it.
func (d UseCases) Run() (*Report, error) {
	switch {
	case d.Meters < 2 || d.Gateways < 1 || d.Gateways > d.Meters:
		return &Report{Dir: d.Dir}, fmt.Errorf("%w: at least 2 meters and 1 to -meters gateways", ErrUseCases)
	case d.Traces == nil:
		return &Report{Dir: d.Dir}, fmt.Errorf("%w: no trace checker", ErrUseCases)
	}
	w := &ucWorld{UseCases: d, rep: &Report{Dir: d.Dir}, trace: filepath.Join(d.Dir, "trace"), pool: x509.NewCertPool(), clients: map[string]*sim.APIClient{}}
	defer w.stopAll()
	err := w.play()
	return w.rep, err
}

func (w *ucWorld) play() error {
	w.step("provisioning %d meters and %d gateways in %s", w.Meters, w.Gateways, w.Dir)
	if out, err := exec.Command(w.Bin, "provision", "-dir", w.Dir, "-meters", fmt.Sprint(w.Meters), "-gateways", fmt.Sprint(w.Gateways)).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: provision: %w\n%s", ErrUseCases, err, out)
	}
	if err := os.MkdirAll(w.path("logs"), 0o755); err != nil {
		return err
	}
	root, err := protocol.ReadCertificate(w.path("pki/root.crt"))
	if err != nil {
		return err
	}
	w.pool.AddCert(root)
	var he map[string]any
	if err := readJSON(w.path("headend.json"), &he); err != nil {
		return err
	}
	sqlitePath, _ := he["db"].(string)
	secondAddr := ""
	if w.Postgres != "" {
		// A second head-end on the same database, with its own address
		// file, which every gateway also knows.
		he["postgres"] = w.Postgres
		if err := writeJSON(w.path("headend.json"), he); err != nil {
			return err
		}
		secondAddr = w.path("headend-b.addr")
		he["addr_file"] = secondAddr
		if err := writeJSON(w.path("headend-b.json"), he); err != nil {
			return err
		}
		for g := range w.Gateways {
			p := w.path(fmt.Sprintf("gw-%02d.json", g))
			var gw map[string]any
			if err := readJSON(p, &gw); err != nil {
				return err
			}
			gw["other_headend_addr_files"] = []string{secondAddr}
			if err := writeJSON(p, gw); err != nil {
				return err
			}
		}
	}
	w.mf = make([]meterConf, w.Meters)
	for i := range w.mf {
		if err := readJSON(w.path(fmt.Sprintf("meter-%03d.json", i)), &w.mf[i]); err != nil {
			return err
		}
	}
	w.step("starting the head-end(s) and %d meters", w.Meters)
	first, err := w.start("headend-a", w.path("headend.addr"), "headend", "serve", "-config", w.path("headend.json"))
	if err != nil {
		return err
	}
	if secondAddr != "" {
		if _, err := w.start("headend-b", secondAddr, "headend", "serve", "-config", w.path("headend-b.json")); err != nil {
			return err
		}
	}
	if w.addr, err = firstAddr(w.path("headend.addr")); err != nil {
		return err
	}
	for i := range w.Meters {
		var extra []string
		if i == 1 {
			extra = []string{"-tamper", "cover"} // its cover is opened at start (UC9)
		}
		m, err := w.startMeter(i, extra...)
		if err != nil {
			return err
		}
		w.meters = append(w.meters, m)
	}

	// UC1, UC2, UC9: the gateways' first round.
	w.step("the gateways' first round: commissioning, the day's load profiles, the tamper event")
	round, err := w.gatewayRound()
	if err != nil {
		return err
	}
	w.check("UC1 commissioning", "meters commissioned by signed key agreement", round.commissioned == w.Meters, "%d of %d", round.commissioned, w.Meters)
	var inv []wan.OperatorMeter
	if err := w.must(http.StatusOK, "operator-alice", "GET", "/v1/operator/meters", nil, &inv); err != nil {
		return err
	}
	withItems := 0
	for _, m := range inv {
		if m.Items > 0 && len(m.Suppliers) == 1 {
			withItems++
		}
	}
	w.check("UC2 periodic metering", "meters in the inventory with stored items and one supplier", withItems == w.Meters, "%d of %d", withItems, w.Meters)
	day := time.Unix(w.mf[0].Day*86400, 0).UTC()
	var items []wan.OperatorItem
	if err := w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/meters/%s/readings?from=%s&to=%s", w.mf[0].Title, day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)), nil, &items); err != nil {
		return err
	}
	ivs := 0
	for _, it := range items {
		ivs += len(it.Intervals)
	}
	w.check("UC2 periodic metering", "meter 0's day of 15-minute values", ivs == 96, "%d intervals", ivs)
	w.check("UC9 tamper", "signed events acknowledged by the head-end and relayed to the meter", round.tamperAcked == 1, "%d", round.tamperAcked)
	var alarms []wan.OperatorAlarm
	if err := w.must(http.StatusOK, "operator-bob", "GET", "/v1/operator/alarms?open=true", nil, &alarms); err != nil {
		return err
	}
	w.check("UC9 tamper", "open alarms, for meter 1", len(alarms) == 1 && alarms[0].Meter == w.mf[1].Title, "%d", len(alarms))
	for _, a := range alarms {
		if err := w.must(http.StatusOK, "operator-bob", "POST", fmt.Sprintf("/v1/operator/alarms/%d/ack", a.ID), nil, nil); err != nil {
			return err
		}
	}
	if err := w.must(http.StatusOK, "operator-bob", "GET", "/v1/operator/alarms?open=true", nil, &alarms); err != nil {
		return err
	}
	w.check("UC9 tamper", "open alarms after bob's acknowledgement", len(alarms) == 0, "%d", len(alarms))

	// The operators' work: UC3, UC4, UC5, UC7, UC8.
	w.step("the operators: an on-demand read, four commands under the four-eyes rule, a firmware campaign")
	var read wan.OperatorRead
	if err := w.must(http.StatusAccepted, "operator-alice", "POST", "/v1/operator/meters/"+w.mf[0].Title+"/reads", nil, &read); err != nil {
		return err
	}
	var cmds []wan.OperatorCommand
	refusedOwn := 0
	for _, req := range []wan.CommandRequest{
		{Meter: w.mf[0].Title, Kind: "disconnect"},
		{Meter: w.mf[1].Title, Kind: "tariff", Tariff: 3},
		{Meter: w.mf[1].Title, Kind: "key-rotation"},
	} {
		c, own, err := w.fourEyes(req)
		if err != nil {
			return err
		}
		cmds, refusedOwn = append(cmds, c), refusedOwn+own
	}
	v2, err := w.nextTrustList(0)
	if err != nil {
		return err
	}
	change, own, err := w.fourEyes(wan.CommandRequest{Meter: w.mf[0].Title, Kind: "trust-list", TrustList: base64.StdEncoding.EncodeToString(v2)})
	if err != nil {
		return err
	}
	cmds, refusedOwn = append(cmds, change), refusedOwn+own
	w.check("UC4 administration", "commands signed after a second operator's approval", len(cmds) == 4, "%d", len(cmds))
	w.check("UC4 administration", "requesters' own approvals refused (four eyes)", refusedOwn == 4, "%d of 4", refusedOwn)
	manifest, image, err := Firmware(w.Dir, 5, "VM-E3")
	if err != nil {
		return err
	}
	titles := make([]string, w.Meters)
	for i, m := range w.mf {
		titles[i] = m.Title
	}
	if err := w.must(http.StatusAccepted, "operator-alice", "POST", "/v1/operator/campaigns", map[string]any{"id": 1, "manifest": manifest, "image": image, "meters": titles}, nil); err != nil {
		return err
	}
	code, _, err := w.call("operator-alice", "POST", "/v1/operator/campaigns/1/approve", nil, nil)
	if err != nil {
		return err
	}
	w.check("UC5 firmware", "campaign approved by its requester alone refused", code == http.StatusForbidden, "%d", code)
	if err := w.must(http.StatusOK, "operator-bob", "POST", "/v1/operator/campaigns/1/approve", nil, nil); err != nil {
		return err
	}

	if w.Postgres != "" {
		w.step("killing the first head-end (SIGKILL)")
		first.Process.Kill()
		first.Wait()
		if w.addr, err = firstAddr(secondAddr); err != nil {
			return err
		}
		w.clients = map[string]*sim.APIClient{} // the clients of the dead one
	}

	// The gateways' next rounds relay, read and install.
	w.step("the gateways' next rounds: the reading, the commands, the campaign")
	round, err = w.gatewayRound()
	if err != nil {
		return err
	}
	if w.Postgres != "" {
		w.check("scale-out", "gateways that found the first head-end dead and used the second", round.failedOver == w.Gateways, "%d of %d", round.failedOver, w.Gateways)
	}
	w.check("UC3 on-demand read", "requested reads taken and reported", round.readsDone == 1, "%d", round.readsDone)
	w.check("UC4 administration", "commands relayed to their meters, none refused", round.relayed == 4 && round.refusedByMeters == 0, "%d relayed, %d refused", round.relayed, round.refusedByMeters)
	var camp struct {
		State     string `json:"state"`
		Installed int    `json:"installed"`
	}
	rounds := 1
	for ; ; rounds++ {
		if err := w.must(http.StatusOK, "operator-alice", "GET", "/v1/operator/campaigns/1", nil, &camp); err != nil {
			return err
		}
		if camp.State == "done" || rounds == 6 {
			break
		}
		if _, err := w.gatewayRound(); err != nil {
			return err
		}
	}
	w.check("UC5 firmware", "campaign done, every meter installed", camp.State == "done" && camp.Installed == w.Meters, "%s, %d of %d installed in %d rounds", camp.State, camp.Installed, w.Meters, rounds)
	relayed, status := 0, map[string]string{} // by kind: one command each
	for _, c := range cmds {
		var got wan.OperatorCommand
		if err := w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/commands/%d", c.ID), nil, &got); err != nil {
			return err
		}
		status[got.Kind] = got.Status
		if got.Status == wan.CommandRelayed {
			relayed++
		}
	}
	w.check("UC4 administration", "commands the API shows relayed", relayed == 4, "%d of 4", relayed)
	w.check("UC7 operator change", "the next trust list, signed by the trust-list signer, installed on meter 0", change.TrustListVersion == 2 && status["trust-list"] == wan.CommandRelayed, "version %d, %s", change.TrustListVersion, status["trust-list"])
	w.check("UC8 keys", "key rotation relayed to meter 1", status["key-rotation"] == wan.CommandRelayed, "%s at command counter %d", status["key-rotation"], cmds[2].Counter)

	// UC3 and UC10: the reading, exported with its evidence through the
	// API, verifies offline with the PKI's public keys alone.
	if err := w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/reads/%d", read.ID), nil, &read); err != nil {
		return err
	}
	w.check("UC3 on-demand read", "read request done, the reading stored", read.Status == wan.ReadDone && read.Counter > 0, "%s, counter %d, %d Wh", read.Status, read.Counter, read.Wh)
	if err := w.verifyExport(read); err != nil {
		return err
	}

	// UC6: meter 0 moves to supplier-b at noon of its day.
	w.step("a supplier switch and the suppliers' fetches")
	if err := w.supplierSwitch(day); err != nil {
		return err
	}

	// The meters, restarted: their display and logbook.
	w.step("restarting the meters to read their displays and logbooks")
	if err := w.meterChecks(); err != nil {
		return err
	}

	// The database, after the head-ends stop, and the spec traces.
	w.stopAll()
	if err := w.databaseChecks(sqlitePath); err != nil {
		return err
	}
	steps, err := w.Traces(w.trace)
	w.check("spec", "every process's step logs are behaviours of the spec", err == nil, "%d modules", len(steps))
	for _, mod := range []string{"Channel", "Collection", "Commands", "Firmware", "Tamper"} {
		w.check("spec", mod+" steps logged and explained", steps[mod] > 0, "%d steps", steps[mod])
	}
	return nil
}

func (w *ucWorld) path(p string) string { return filepath.Join(w.Dir, p) }

// firstAddr is the address a head-end wrote to its address file.
func firstAddr(file string) (string, error) {
	b, err := os.ReadFile(file)
	if a := strings.TrimSpace(string(b)); err == nil && a != "" {
		return a, nil
	}
	return "", fmt.Errorf("%w: no head-end address in %s: %v", ErrUseCases, file, err)
}

// readJSON reads a JSON file into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeJSON writes v to a JSON file.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// start starts a long-running process whose output goes to logs/NAME and
// waits for the file it writes when it is up.
func (w *ucWorld) start(name, upFile string, args ...string) (*exec.Cmd, error) {
	os.Remove(upFile)
	c, err := w.proc(name, nil, args...)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUseCases, name, err)
	}
	w.procs = append(w.procs, c)
	return c, waitFile(upFile, c)
}

// proc is the binary with args, the spec trace directory after the
// subcommand's words, its output appended to logs/NAME (and to also, when
// set).
func (w *ucWorld) proc(name string, also io.Writer, args ...string) (*exec.Cmd, error) {
	f, err := os.OpenFile(w.path("logs/"+name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	n := min(2, len(args))
	c := exec.Command(w.Bin, append(append(append([]string(nil), args[:n]...), "-spec-trace", w.trace), args[n:]...)...)
	var out io.Writer = f
	if also != nil {
		out = io.MultiWriter(f, also)
	}
	c.Stdout, c.Stderr = out, out
	return c, nil
}

// waitFile waits up to 30 s for p, or for c to die.
func waitFile(p string, c *exec.Cmd) error {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if c.ProcessState != nil || time.Now().After(deadline) {
			return fmt.Errorf("%w: %s did not appear", ErrUseCases, p)
		}
	}
}

// startMeter starts meter i and waits for its PLC socket.
func (w *ucWorld) startMeter(i int, extra ...string) (*ucMeter, error) {
	m := &ucMeter{out: &Buffer{}}
	c, err := w.proc(fmt.Sprintf("meter-%03d", i), m.out, append([]string{"meter", "run", "-config", w.path(fmt.Sprintf("meter-%03d.json", i))}, extra...)...)
	if err != nil {
		return nil, err
	}
	m.cmd = c
	os.Remove(w.mf[i].Socket)
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("%w: meter %d: %w", ErrUseCases, i, err)
	}
	w.procs = append(w.procs, c)
	return m, waitFile(w.mf[i].Socket, c)
}

// stopProc interrupts c and waits for it (killed after 10 s).
func stopProc(c *exec.Cmd) {
	if c.Process == nil || c.ProcessState != nil {
		return
	}
	c.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		<-done
	}
}

// stopAll stops every process still running.
func (w *ucWorld) stopAll() {
	for _, c := range w.procs {
		stopProc(c)
	}
	w.procs = nil
}

// roundResult sums what one round of gateway runs printed.
type roundResult struct {
	commissioned, stored, tamperAcked, readsDone, relayed, refusedByMeters, failedOver int
}

var (
	runForwarded = regexp.MustCompile(`(\d+) meters commissioned, (\d+) items forwarded: (\d+) stored`)
	runTamper    = regexp.MustCompile(`(\d+) tamper events acknowledged by the head-end`)
	runReads     = regexp.MustCompile(`(\d+) of (\d+) requested reads taken and reported`)
	runCommands  = regexp.MustCompile(`(\d+) commands relayed, (\d+) refused by meters`)
)

// gatewayRound runs every gateway once, one after the other.
func (w *ucWorld) gatewayRound() (roundResult, error) {
	var r roundResult
	num := func(re *regexp.Regexp, s string, i int) int {
		m := re.FindStringSubmatch(s)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	for g := range w.Gateways {
		var out bytes.Buffer
		c, err := w.proc(fmt.Sprintf("gw-%02d", g), &out, "gateway", "run", "-config", w.path(fmt.Sprintf("gw-%02d.json", g)))
		if err != nil {
			return r, err
		}
		if err := c.Run(); err != nil || !runForwarded.MatchString(out.String()) {
			return r, fmt.Errorf("%w: gateway %d: %v\n%s", ErrUseCases, g, err, out.String())
		}
		s := out.String()
		r.commissioned += num(runForwarded, s, 1)
		r.stored += num(runForwarded, s, 3)
		r.tamperAcked += num(runTamper, s, 1)
		r.readsDone += num(runReads, s, 1)
		r.relayed += num(runCommands, s, 1)
		r.refusedByMeters += num(runCommands, s, 2)
		if strings.Contains(s, "unreachable") {
			r.failedOver++
		}
	}
	w.stored += r.stored
	return r, nil
}

// client is who's client of the head-end's API, with its certificate of
// the deployment's pki/, trusting the root alone, as a standard client does.
func (w *ucWorld) client(who string) (*sim.APIClient, error) {
	if c := w.clients[who]; c != nil {
		return c, nil
	}
	cert, err := tls.LoadX509KeyPair(w.path("pki/"+who+".crt"), w.path("pki/"+who+".key"))
	if err != nil {
		return nil, err
	}
	c := sim.NewAPIClient(w.addr, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: w.pool})
	w.clients[who] = c
	return c, nil
}

// call makes one request of the head-end as who and decodes a 2xx answer
// into out; it returns the status and, for a refusal, its class.
func (w *ucWorld) call(who, method, path string, body, out any) (int, string, error) {
	c, err := w.client(who)
	if err != nil {
		return 0, "", err
	}
	code, err := c.Call(context.Background(), method, path, body, out)
	var refused *sim.APIError
	switch {
	case errors.As(err, &refused):
		return refused.Status, refused.Class, nil
	case err != nil:
		return 0, "", fmt.Errorf("%w: as %s: %w", ErrUseCases, who, err)
	}
	return code, "", nil
}

// must is call that is an error on any status but want.
func (w *ucWorld) must(want int, who, method, path string, body, out any) error {
	code, class, err := w.call(who, method, path, body, out)
	if err == nil && code != want {
		err = fmt.Errorf("%w: %s %s as %s: %d %s, want %d", ErrUseCases, method, path, who, code, class, want)
	}
	return err
}

// fourEyes is the four-eyes workflow through the API: alice requests, her
// own approval is tried (own counts its refusal), then alice and bob sign
// the command with their own keys and bob's approval, carrying both, has
// the head-end sign it.
func (w *ucWorld) fourEyes(req wan.CommandRequest) (c wan.OperatorCommand, own int, err error) {
	if err := w.must(http.StatusCreated, "operator-alice", "POST", "/v1/operator/commands", req, &c); err != nil {
		return c, 0, err
	}
	code, class, err := w.call("operator-alice", "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, nil)
	if err != nil {
		return c, 0, err
	}
	if code == http.StatusConflict && class == wan.ClassSameOperator {
		own = 1
	}
	// Each signs the command with their own key (the meter checks both
	// approvals of a disconnect); the head-end embeds them and signs.
	var approvals wan.ApproveRequest
	for _, who := range []string{"operator-alice", "operator-bob"} {
		cl, err := w.client(who)
		if err != nil {
			return c, own, err
		}
		a, err := cl.Approval(context.Background(), c.ID)
		if err != nil {
			return c, own, fmt.Errorf("%w: %s's approval of command %d: %w", ErrUseCases, who, c.ID, err)
		}
		approvals.Approvals = append(approvals.Approvals, a)
	}
	if err := w.must(http.StatusOK, "operator-bob", "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), approvals, &c); err != nil {
		return c, own, err
	}
	if c.Status != wan.CommandReady {
		return c, own, fmt.Errorf("%w: %s after bob's approval: %s %s", ErrUseCases, req.Kind, c.Status, c.Reason)
	}
	return c, own, nil
}

// nextTrustList is meter i's installed trust list with the next version,
// signed by the trust-list signer: an operator change (UC7).
func (w *ucWorld) nextTrustList(i int) ([]byte, error) {
	v1, err := os.ReadFile(w.mf[i].TrustList)
	if err != nil {
		return nil, err
	}
	tl, err := protocol.PeekTrustList(v1)
	if err != nil {
		return nil, err
	}
	signer, err := protocol.ReadKey(w.path("pki/trust-list-signer.key"))
	if err != nil {
		return nil, err
	}
	tl.Version, tl.Issued = tl.Version+1, time.Now().Unix()
	return protocol.SignTrustList(tl, signer, rand.Reader)
}

// verifyExport has the customer verify the on-demand reading and its
// evidence, as the operator API exports them, with `verimeter verify` and
// the PKI's public keys alone; an altered copy must be rejected (UC10).
func (w *ucWorld) verifyExport(read wan.OperatorRead) error {
	if err := w.must(http.StatusOK, "operator-alice", "POST", "/v1/operator/tree-head", nil, nil); err != nil {
		return err
	}
	var ev wan.OperatorEvidence
	if err := w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/meters/%s/readings/%d/evidence", w.mf[0].Title, read.Counter), nil, &ev); err != nil {
		return err
	}
	signed, err1 := base64.StdEncoding.DecodeString(ev.Signed)
	proof, err2 := base64.StdEncoding.DecodeString(ev.Evidence)
	if err := errors.Join(err1, err2); err != nil || len(signed) < 100 {
		return fmt.Errorf("%w: evidence of reading %d: %v", ErrUseCases, read.Counter, err)
	}
	dir := w.path("export")
	var certs []byte
	for _, f := range []string{"subcas.pem", "meters.pem", "headend-log.crt"} {
		b, err := os.ReadFile(w.path("pki/" + f))
		if err != nil {
			return err
		}
		certs = append(certs, b...)
	}
	altered := bytes.Clone(signed)
	altered[len(altered)-67] ^= 1 // a bit of the signed value
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for n, b := range map[string][]byte{"certs.pem": certs, "reading.cbor": signed, "reading.cbor.log": proof, "altered.cbor": altered} {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return err
		}
	}
	verify := func(file string) (string, error) {
		out, err := exec.Command(w.Bin, "verify", "-roots", w.path("pki/root.crt"), "-certs", filepath.Join(dir, "certs.pem"), filepath.Join(dir, file)).CombinedOutput()
		return string(out), err
	}
	out, err := verify("reading.cbor")
	w.check("UC10 customer verification", "the exported reading and its log evidence verify offline (verimeter verify)",
		err == nil && strings.HasPrefix(out, "OK") && strings.Contains(out, "logged by") && strings.Contains(out, fmt.Sprint(read.Wh)), "%s", verdict(out))
	out, err = verify("altered.cbor")
	w.check("UC10 customer verification", "an altered copy is rejected", err != nil && strings.Contains(out, "REJECTED"), "%s", verdict(out))
	return nil
}

// verdict is the first line `verimeter verify` printed, without the
// file's path.
func verdict(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	word, rest, _ := strings.Cut(line, " ")
	if _, why, ok := strings.Cut(rest, ": "); ok {
		return word + ": " + why
	}
	return line
}

// supplierSwitch moves meter 0 to supplier-b at noon of its day; each
// interval of the day must be served to exactly one of the two suppliers,
// and verify (UC6).
func (w *ucWorld) supplierSwitch(day time.Time) error {
	noon := day.Add(12 * time.Hour)
	var contracts []wan.OperatorContract
	if err := w.must(http.StatusOK, "operator-alice", "POST", "/v1/operator/meters/"+w.mf[0].Title+"/supplier",
		wan.SupplierSwitch{Participant: "supplier-b", From: noon.Format(time.RFC3339), Until: noon.Add(30 * 24 * time.Hour).Format(time.RFC3339)}, &contracts); err != nil {
		return err
	}
	roots, err1 := protocol.ReadCertificates(w.path("pki/root.crt"))
	subs, err2 := protocol.ReadCertificates(w.path("pki/subcas.pem"))
	meters, err3 := protocol.ReadCertificates(w.path("pki/meters.pem"))
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	val, err := protocol.NewValidator(roots, subs, nil)
	if err != nil {
		return err
	}
	dir, err := protocol.NewMeterDirectory(val, meters)
	if err != nil {
		return err
	}
	v := protocol.NewVerifier(dir)
	owner := map[uint16]string{}
	twice, bad := 0, 0
	per := map[string]int{}
	for _, sup := range []string{"supplier-a", "supplier-b"} {
		var rep wan.ProofReply
		if err := w.must(http.StatusOK, sup, "GET", fmt.Sprintf("/v1/meters/%s/intervals?from=%s&to=%s", w.mf[0].Title, day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)), nil, &rep); err != nil {
			return err
		}
		for _, s := range rep.Proofs {
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				bad++
				continue
			}
			p, err := protocol.UnmarshalIntervalProof(raw)
			if err == nil {
				_, err = v.VerifyInterval(p)
			}
			if err != nil {
				bad++
				continue
			}
			if owner[p.Interval.Index] != "" {
				twice++
			}
			owner[p.Interval.Index] = sup
			per[sup]++
		}
	}
	w.check("UC6 supplier switch", "contracts of meter 0 after the switch", len(contracts) == 2, "%d", len(contracts))
	w.check("UC6 supplier switch", "the day's intervals, each served to exactly one supplier and verified", len(owner) == 96 && twice == 0 && bad == 0 && per["supplier-a"] == 48,
		"supplier-a %d, supplier-b %d, %d twice, %d bad", per["supplier-a"], per["supplier-b"], twice, bad)
	return nil
}

// meterChecks restarts each meter and reads its display (what it ran:
// meter 0's breaker open, meter 1 on tariff 3, every meter on software v5)
// and its logbook, as `verimeter inspect meter` boots it.
func (w *ucWorld) meterChecks() error {
	showing, installed := 0, 0
	for i, m := range w.meters {
		stopProc(m.cmd)
		nm, err := w.startMeter(i)
		if err != nil {
			return err
		}
		w.meters[i] = nm
		var d string
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(d, "security floor") && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			d = nm.out.String()
		}
		want := []string{"software v5"}
		switch i {
		case 0:
			want = append(want, "breaker open")
		case 1:
			want = append(want, "tariff T3")
		}
		ok := true
		for _, s := range want {
			ok = ok && strings.Contains(d, s)
		}
		if ok {
			showing++
		}
		// The logbook as `verimeter inspect meter` boots it.
		var insp struct {
			Version uint32 `json:"version"`
			Logbook []struct {
				Event      string `json:"event"`
				NewVersion uint32 `json:"new_version"`
			} `json:"logbook"`
		}
		out, err := exec.Command(w.Bin, "inspect", "meter", "-config", w.path(fmt.Sprintf("meter-%03d.json", i)), "-json").Output()
		if err != nil {
			return fmt.Errorf("%w: inspect meter %d: %w", ErrUseCases, i, err)
		}
		if err := json.Unmarshal(out, &insp); err != nil {
			return fmt.Errorf("%w: inspect meter %d: %w", ErrUseCases, i, err)
		}
		if n := len(insp.Logbook); n > 0 && insp.Logbook[n-1].Event == "installed" && insp.Logbook[n-1].NewVersion == 5 && insp.Version == 5 {
			installed++
		}
	}
	w.check("UC4 administration", "meters whose display shows what they ran (breaker open, tariff T3, software v5)", showing == w.Meters, "%d of %d", showing, w.Meters)
	w.check("UC5 firmware", "meters whose logbook ends with the installation of v5", installed == w.Meters, "%d of %d", installed, w.Meters)
	return nil
}

// databaseChecks reads the outcomes from the head-end's database with SQL
// of its own, after the head-ends stopped.
func (w *ucWorld) databaseChecks(sqlitePath string) error {
	var db *sql.DB
	var err error
	if w.Postgres != "" {
		db, err = sql.Open("pgx", w.Postgres)
	} else {
		db, err = sql.Open("sqlite", sqlitePath)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []struct {
		uc, what, query string
		want            int // -1: at least 20
	}{
		{"UC2 periodic metering", "items stored once (as the gateways' runs counted them)", `SELECT COUNT(*) FROM data`, w.stored},
		{"UC3 on-demand read", "on-demand readings stored", `SELECT COUNT(*) FROM data WHERE kind = 1`, 1},
		{"UC3 on-demand read", "read requests done", `SELECT COUNT(*) FROM read_requests WHERE status = 'done'`, 1},
		{"UC4 administration", "commands relayed, requested by alice and approved by bob", `SELECT COUNT(*) FROM operator_commands WHERE status = 'relayed' AND requested_by = 'operator alice' AND approved_by = 'operator bob'`, 4},
		{"UC4 administration", "command counters issued (never twice)", `SELECT COALESCE(SUM(issued), 0) FROM command_counters`, 4},
		{"UC5 firmware", "campaign meters installed", `SELECT COUNT(*) FROM campaign_meters WHERE campaign = 1 AND outcome = 'installed'`, w.Meters},
		{"UC6 supplier switch", "supplier-b's contracts", `SELECT COUNT(*) FROM contracts WHERE participant = 'supplier-b'`, 1},
		{"UC9 tamper", "tamper events stored", `SELECT COUNT(*) FROM tamper_events`, 1},
		{"UC9 tamper", "alarms acknowledged by bob", `SELECT COUNT(*) FROM tamper_alarms WHERE acked_by = 'operator bob'`, 1},
		{"audit", "operators' calls in the audit log", `SELECT COUNT(*) FROM audit WHERE action = 'operator-call' AND actor IN ('operator alice', 'operator bob')`, -1},
	} {
		var n int
		if err := db.QueryRow(q.query).Scan(&n); err != nil {
			return fmt.Errorf("%w: database: %s: %w", ErrUseCases, q.what, err)
		}
		ok := n == q.want || q.want < 0 && n >= 20
		w.check(q.uc, "database: "+q.what, ok, "%d", n)
	}
	return nil
}

// Firmware is a firmware image and its manifest for model at version,
// signed by the manufacturer and the metrology authority of the deployment
// in dir. The manifest names the meters' model (VM-E3); code built for
// another model is signed all the same, and the meter's self-test refuses
// it.
func Firmware(dir string, version uint32, model string) (manifest, image []byte, err error) {
	man, err := protocol.ReadKey(filepath.Join(dir, "pki", "manufacturer.key"))
	if err != nil {
		return nil, nil, err
	}
	auth, err := protocol.ReadKey(filepath.Join(dir, "pki", "authority.key"))
	if err != nil {
		return nil, nil, err
	}
	lr := []byte(strings.Repeat(fmt.Sprintf("%s legally relevant code v%d ", model, version), 6))
	other := []byte(fmt.Sprintf("VM-E3 communication stack v%d", version))
	m := protocol.Manifest{Model: "VM-E3", Version: version, SecurityVersion: 2 + version/16, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: time.Now().Unix()}
	signed, err := protocol.SignManifest(m, rand.Reader, protocol.ManifestSigner{KeyID: []byte("manufacturer"), Key: man}, protocol.ManifestSigner{KeyID: []byte("authority"), Key: auth})
	if err != nil {
		return nil, nil, err
	}
	return signed, append(lr, other...), nil
}

// Buffer is a bytes.Buffer a process's output goroutine writes while the
// caller reads it (a meter's display, a head-end's metrics address).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Reset empties the buffer (a restarted process writes into it afresh).
func (l *Buffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
