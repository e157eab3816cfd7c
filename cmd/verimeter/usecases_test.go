//go:build !device

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/internal/pgtest"
	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestUseCasesThroughTheOperatorAPI drives UC1–UC10 across real processes
// (`headend serve`, `meter run` ×2, `gateway run`), every operator action
// through the operator API over mutual TLS as operators alice and bob, and
// checks each outcome in the head-end's database (SQL of its own, not the
// API) and on the meters (their display after a restart, their logbook as
// `verimeter inspect` boots it).
func TestUseCasesThroughTheOperatorAPI(t *testing.T) { testUseCases(t, false) }

// TestUseCasesOnPostgresTwoHeadEnds is the same with two head-ends on one
// PostgreSQL database: everything up to the commands' approval goes
// through the first, which is then killed (SIGKILL); the gateway fails
// over to the second, which relays what the first signed and finishes the
// campaign the first released, and the operators go on on the second.
func TestUseCasesOnPostgresTwoHeadEnds(t *testing.T) { testUseCases(t, true) }

// ucWorld is the deployment of testUseCases and its clients.
type ucWorld struct {
	t       *testing.T
	ps      *procs.Set
	addr    string // the head-end the operators and participants call
	pool    *x509.CertPool
	clients map[string]*http.Client
}

// client is an HTTPS client with who's certificate of the deployment's
// pki/, trusting the root alone (no -k).
func (w *ucWorld) client(who string) *http.Client {
	if c := w.clients[who]; c != nil {
		return c
	}
	cert, err := loadTLS(w.ps.Path("pki/%s.crt", who), w.ps.Path("pki/%s.key", who), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: w.pool}}}
	w.clients[who] = c
	return c
}

// call makes one request of the head-end as who and decodes a 2xx answer
// into out; it returns the status and, for a refusal, its class.
func (w *ucWorld) call(who, method, path string, body, out any) (int, string) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+w.addr+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.client(who).Do(req)
	if err != nil {
		w.t.Fatalf("%s %s as %s: %v", method, path, who, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		var oe wan.OperatorError
		json.Unmarshal(b, &oe)
		return resp.StatusCode, oe.Class
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, ""
}

// must is call that fails the test on any status but want.
func (w *ucWorld) must(want int, who, method, path string, body, out any) {
	w.t.Helper()
	if code, class := w.call(who, method, path, body, out); code != want {
		w.t.Fatalf("%s %s as %s: %d %s, want %d", method, path, who, code, class, want)
	}
}

// command is the four-eyes workflow through the API: alice requests,
// her own approval is refused, bob's has the head-end sign it.
func (w *ucWorld) command(req wan.CommandRequest) wan.OperatorCommand {
	w.t.Helper()
	var c wan.OperatorCommand
	w.must(http.StatusCreated, "operator-alice", "POST", "/v1/operator/commands", req, &c)
	if code, class := w.call("operator-alice", "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, nil); code != http.StatusConflict || class != wan.ClassSameOperator {
		w.t.Fatalf("alice approving her own %s: %d %s", req.Kind, code, class)
	}
	w.must(http.StatusOK, "operator-bob", "POST", fmt.Sprintf("/v1/operator/commands/%d/approve", c.ID), nil, &c)
	if c.Status != wan.CommandReady || c.ApprovedBy != "operator bob" {
		w.t.Fatalf("%s after bob's approval: %+v", req.Kind, c)
	}
	return c
}

// meterProc is a meter process whose output the test reads.
type meterProc struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

// startMeter starts meter i (with extra flags) and waits for its socket.
func (w *ucWorld) startMeter(i int, extra ...string) *meterProc {
	w.t.Helper()
	sock := w.ps.Path("sock/meter-%03d", i)
	os.Remove(sock)
	m := &meterProc{out: &lockedBuffer{}}
	m.cmd = w.ps.Command(append([]string{"meter", "run", "-config", w.ps.Path("meter-%03d.json", i)}, extra...)...)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { m.stop() })
	w.ps.WaitFile(sock)
	return m
}

// stop interrupts the meter and waits for it (killed after 10 s).
func (m *meterProc) stop() {
	if m.cmd.ProcessState != nil {
		return
	}
	m.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
}

// display waits for the meter's display, printed when it starts.
func (m *meterProc) display(t *testing.T) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if s := m.out.String(); strings.Contains(s, "security floor") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no display from the meter: %s", m.out.String())
		}
	}
}

func testUseCases(t *testing.T, pg bool) {
	ps := procs.New(t, "vmu", 2, 1)
	w := &ucWorld{t: t, ps: ps, pool: x509.NewCertPool(), clients: map[string]*http.Client{}}
	root, err := protocol.ReadCertificate(ps.Path("pki/root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	w.pool.AddCert(root)
	var he headendFile
	if err := readJSON(ps.Path("headend.json"), &he); err != nil {
		t.Fatal(err)
	}
	var dsn, secondAddr string
	if pg {
		dsn = pgtest.Start(t)
		he.Postgres = dsn
		if err := writeJSON(ps.Path("headend.json"), he); err != nil {
			t.Fatal(err)
		}
		b := he
		b.AddrFile = ps.Path("headend-b.addr")
		if err := writeJSON(ps.Path("headend-b.json"), b); err != nil {
			t.Fatal(err)
		}
		var gw gatewayFile
		if err := readJSON(ps.Path("gw-00.json"), &gw); err != nil {
			t.Fatal(err)
		}
		gw.OtherHeadEnds = []string{b.AddrFile}
		if err := writeJSON(ps.Path("gw-00.json"), gw); err != nil {
			t.Fatal(err)
		}
		secondAddr = b.AddrFile
	}
	first := ps.StartHeadend()
	if pg {
		ps.Start("headend", "serve", "-config", ps.Path("headend-b.json"))
		ps.WaitFile(secondAddr)
	}
	w.addr = readAddrFile(t, ps.Path("headend.addr"))
	var m [2]meterFile
	for i := range m {
		if err := readJSON(ps.Path("meter-%03d.json", i), &m[i]); err != nil {
			t.Fatal(err)
		}
	}
	meters := []*meterProc{w.startMeter(0), w.startMeter(1, "-tamper", "cover")}

	forwarded := regexp.MustCompile(`(\d+) meters commissioned, (\d+) items forwarded: (\d+) stored, (\d+) duplicates`)
	storedTotal := 0
	gatewayRun := func(wants ...string) string {
		t.Helper()
		b, err := ps.Command("gateway", "run", "-config", ps.Path("gw-00.json")).CombinedOutput()
		out := string(b)
		f := forwarded.FindStringSubmatch(out)
		if err != nil || f == nil {
			t.Fatalf("gateway run: %v\n%s", err, out)
		}
		n, _ := strconv.Atoi(f[3])
		storedTotal += n
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Fatalf("gateway run: want %q in\n%s", want, out)
			}
		}
		return out
	}

	// UC1 commissioning and UC2 periodic metering: the gateway's first run
	// runs the key agreement with both meters and forwards their day; the
	// inventory lists both meters, each with its stored items and its
	// supplier. UC9: meter 1's cover was opened; its signed event travels
	// with the day and the head-end acknowledges it.
	gatewayRun("2 meters commissioned", "1 tamper events acknowledged by the head-end, 1 acknowledgements relayed")
	var inv []wan.OperatorMeter
	w.must(http.StatusOK, "operator-alice", "GET", "/v1/operator/meters", nil, &inv)
	if len(inv) != 2 || inv[0].Meter != m[0].Title || inv[1].Meter != m[1].Title || inv[0].Items == 0 || inv[1].Items == 0 || fmt.Sprint(inv[0].Suppliers) != "[supplier-a]" {
		t.Fatalf("inventory after the first run: %+v", inv)
	}
	day := time.Unix(m[0].Day*86400, 0).UTC()
	var items []wan.OperatorItem
	w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/meters/%s/readings?from=%s&to=%s", m[0].Title, day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)), nil, &items)
	if len(items) != 1 || items[0].Kind != "block" || len(items[0].Intervals) != 96 {
		t.Fatalf("meter 0's day: %+v", items)
	}

	// UC9 alarms: the cover event is an open alarm for meter 1; bob
	// acknowledges it.
	var alarms []wan.OperatorAlarm
	w.must(http.StatusOK, "operator-bob", "GET", "/v1/operator/alarms?open=true", nil, &alarms)
	if len(alarms) != 1 || alarms[0].Meter != m[1].Title {
		t.Fatalf("open alarms: %+v", alarms)
	}
	w.must(http.StatusOK, "operator-bob", "POST", fmt.Sprintf("/v1/operator/alarms/%d/ack", alarms[0].ID), nil, nil)
	w.must(http.StatusOK, "operator-bob", "GET", "/v1/operator/alarms?open=true", nil, &alarms)
	if len(alarms) != 0 {
		t.Fatalf("open alarms after the acknowledgement: %+v", alarms)
	}

	// UC3: alice asks for meter 0's register now.
	var read wan.OperatorRead
	w.must(http.StatusAccepted, "operator-alice", "POST", "/v1/operator/meters/"+m[0].Title+"/reads", nil, &read)
	// UC4: a disconnect of meter 0 and a tariff change of meter 1, each
	// requested by alice and approved by bob. UC8: meter 1's key rotation.
	// UC7: meter 0's operator change, its next trust list signed by the
	// trust-list signer.
	disconnect := w.command(wan.CommandRequest{Meter: m[0].Title, Kind: "disconnect"})
	tariff := w.command(wan.CommandRequest{Meter: m[1].Title, Kind: "tariff", Tariff: 3})
	rotation := w.command(wan.CommandRequest{Meter: m[1].Title, Kind: "key-rotation"})
	v1, err := os.ReadFile(m[0].TrustList)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := protocol.PeekTrustList(v1)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := protocol.ReadKey(ps.Path("pki/trust-list-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	tl.Version, tl.Issued = 2, time.Now().Unix()
	v2, err := protocol.SignTrustList(tl, signer, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	change := w.command(wan.CommandRequest{Meter: m[0].Title, Kind: "trust-list", TrustList: base64.StdEncoding.EncodeToString(v2)})
	if change.TrustListVersion != 2 {
		t.Fatalf("operator change: %+v", change)
	}
	// UC5: a firmware campaign for both meters, released by two operators.
	var fw firmwareFile
	if err := readJSON(firmwareMaker(t, ps.Work)(1, 5, false), &fw); err != nil {
		t.Fatal(err)
	}
	campaign := map[string]any{"id": 1, "manifest": fw.Manifest, "image": fw.Image, "meters": []string{m[0].Title, m[1].Title}}
	w.must(http.StatusAccepted, "operator-alice", "POST", "/v1/operator/campaigns", campaign, nil)
	if code, _ := w.call("operator-alice", "POST", "/v1/operator/campaigns/1/approve", nil, nil); code != http.StatusForbidden {
		t.Fatalf("campaign approved by its requester alone: %d", code)
	}
	w.must(http.StatusOK, "operator-bob", "POST", "/v1/operator/campaigns/1/approve", nil, nil)

	if pg {
		// The first head-end dies with all of that in the database.
		ps.Stop(first)
		w.addr = readAddrFile(t, secondAddr)
	}

	// The gateway's next run (over the second head-end, with two) takes
	// the reading, relays the four commands in counter order, and runs the
	// campaign's first stage; the runs after it finish the campaign.
	out := gatewayRun("1 of 1 requested reads taken and reported", "4 commands relayed, 0 refused by meters, 0 not delivered")
	if pg && !strings.Contains(out, "unreachable") {
		t.Fatalf("the gateway did not notice the first head-end's death:\n%s", out)
	}
	var camp struct {
		State     string `json:"state"`
		Installed int    `json:"installed"`
	}
	for run := 0; ; run++ {
		w.must(http.StatusOK, "operator-alice", "GET", "/v1/operator/campaigns/1", nil, &camp)
		if camp.State == "done" || run == 4 {
			break
		}
		gatewayRun("firmware outcomes reported")
	}
	if camp.State != "done" || camp.Installed != 2 {
		t.Fatalf("campaign after the runs: %+v", camp)
	}
	for _, c := range []wan.OperatorCommand{disconnect, tariff, rotation, change} {
		var got wan.OperatorCommand
		w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/commands/%d", c.ID), nil, &got)
		if got.Status != wan.CommandRelayed {
			t.Fatalf("%s after the relay: %+v", c.Kind, got)
		}
	}

	// UC3 done: the reading is stored, and UC10: its evidence, exported
	// through the API, verifies offline with the PKI's public keys alone
	// (`verimeter verify`), and an altered copy does not.
	w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/reads/%d", read.ID), nil, &read)
	if read.Status != wan.ReadDone || read.Counter == 0 || read.Gateway != gwTitle(t, ps) {
		t.Fatalf("read request after the run: %+v", read)
	}
	w.must(http.StatusOK, "operator-alice", "POST", "/v1/operator/tree-head", nil, nil)
	var ev wan.OperatorEvidence
	w.must(http.StatusOK, "operator-alice", "GET", fmt.Sprintf("/v1/operator/meters/%s/readings/%d/evidence", m[0].Title, read.Counter), nil, &ev)
	export := t.TempDir()
	signed, err := base64.StdEncoding.DecodeString(ev.Signed)
	if err != nil || len(signed) == 0 {
		t.Fatalf("evidence without the signed reading: %+v", ev)
	}
	proof, err := base64.StdEncoding.DecodeString(ev.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(export, "certs.pem")
	var pemCerts []byte
	for _, f := range []string{"subcas.pem", "meters.pem", "headend-log.crt"} {
		b, err := os.ReadFile(ps.Path("pki/%s", f))
		if err != nil {
			t.Fatal(err)
		}
		pemCerts = append(pemCerts, b...)
	}
	files := map[string][]byte{"certs.pem": pemCerts, "reading.cbor": signed, "reading.cbor.log": proof}
	altered := bytes.Clone(signed)
	altered[len(altered)-67] ^= 1
	files["altered.cbor"] = altered
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(export, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(file string) (string, error) {
		b, err := exec.Command(ps.Bin, "verify", "-roots", ps.Path("pki/root.crt"), "-certs", certs, filepath.Join(export, file)).CombinedOutput()
		return string(b), err
	}
	if out, err := verify("reading.cbor"); err != nil || !strings.HasPrefix(out, "OK") || !strings.Contains(out, "logged by") || !strings.Contains(out, fmt.Sprint(read.Wh)) {
		t.Fatalf("the customer's verification of the on-demand reading (%d Wh): %v\n%s", read.Wh, err, out)
	}
	if out, err := verify("altered.cbor"); err == nil || !strings.Contains(out, "REJECTED") {
		t.Fatalf("an altered reading: %v\n%s", err, out)
	}

	// UC6: meter 0 moves to supplier-b at noon of its day. Each interval
	// of the day is served to exactly one of the two suppliers, and each
	// verifies.
	noon := day.Add(12 * time.Hour)
	var contracts []wan.OperatorContract
	w.must(http.StatusOK, "operator-alice", "POST", "/v1/operator/meters/"+m[0].Title+"/supplier",
		wan.SupplierSwitch{Participant: "supplier-b", From: noon.Format(time.RFC3339), Until: noon.Add(30 * 24 * time.Hour).Format(time.RFC3339)}, &contracts)
	if len(contracts) != 2 {
		t.Fatalf("contracts after the switch: %+v", contracts)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{root}, mustCerts(t, ps.Path("pki/subcas.pem")), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := protocol.NewMeterDirectory(val, mustCerts(t, ps.Path("pki/meters.pem")))
	if err != nil {
		t.Fatal(err)
	}
	v := protocol.NewVerifier(dir)
	seen := map[uint16]string{}
	for _, sup := range []string{"supplier-a", "supplier-b"} {
		var rep wan.ProofReply
		w.must(http.StatusOK, sup, "GET", fmt.Sprintf("/v1/meters/%s/intervals?from=%s&to=%s", m[0].Title, day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)), nil, &rep)
		for _, s := range rep.Proofs {
			raw, _ := base64.StdEncoding.DecodeString(s)
			p, err := protocol.UnmarshalIntervalProof(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyInterval(p); err != nil {
				t.Fatalf("%s's interval does not verify: %v", sup, err)
			}
			if i := p.Interval.Index; seen[i] != "" {
				t.Fatalf("interval %d served to %s and %s", i, seen[i], sup)
			}
			seen[p.Interval.Index] = sup
		}
	}
	if len(seen) != 96 || seen[0] != "supplier-a" || seen[95] != "supplier-b" {
		t.Fatalf("the day's intervals by supplier: %d served, first to %q, last to %q", len(seen), seen[0], seen[95])
	}

	// The meters: restarted, each shows what it ran on its display (UC4:
	// meter 0's breaker open, meter 1 on tariff 3; UC5: software v5) and
	// its logbook holds the installation.
	for i, mp := range meters {
		mp.stop()
		d := w.startMeter(i).display(t)
		want := []string{"breaker open", "software v5"}
		if i == 1 {
			want = []string{"tariff T3", "software v5"}
		}
		for _, s := range want {
			if !strings.Contains(d, s) {
				t.Fatalf("meter %d's display lacks %q:\n%s", i, s, d)
			}
		}
		var insp meterInspection
		b, err := exec.Command(ps.Bin, "inspect", "meter", "-config", ps.Path("meter-%03d.json", i), "-json").Output()
		if err != nil || json.Unmarshal(b, &insp) != nil {
			t.Fatalf("inspect meter %d: %v\n%s", i, err, b)
		}
		if n := len(insp.Logbook); n == 0 || insp.Logbook[n-1].Event != "installed" || insp.Logbook[n-1].NewVersion != 5 || insp.Version != 5 {
			t.Fatalf("meter %d's logbook: %+v", i, insp)
		}
	}

	// The database, read with SQL of the test's own after the head-ends
	// stop.
	ps.StopAll()
	var db *sql.DB
	if pg {
		db, err = sql.Open("pgx", dsn)
	} else {
		db, err = sql.Open("sqlite", he.DB)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct {
		what, query string
		want        int
	}{
		{"items stored", `SELECT COUNT(*) FROM data`, storedTotal},
		{"on-demand readings stored", `SELECT COUNT(*) FROM data WHERE kind = 1`, 1},
		{"read requests done", `SELECT COUNT(*) FROM read_requests WHERE status = 'done'`, 1},
		{"commands relayed", `SELECT COUNT(*) FROM operator_commands WHERE status = 'relayed' AND requested_by = 'operator alice' AND approved_by = 'operator bob'`, 4},
		{"command counters of the two meters", `SELECT COALESCE(SUM(issued), 0) FROM command_counters`, 4},
		{"tamper events", `SELECT COUNT(*) FROM tamper_events`, 1},
		{"alarms acknowledged by bob", `SELECT COUNT(*) FROM tamper_alarms WHERE acked_by = 'operator bob'`, 1},
		{"campaign meters installed", `SELECT COUNT(*) FROM campaign_meters WHERE campaign = 1 AND outcome = 'installed'`, 2},
		{"supplier-b contracts", `SELECT COUNT(*) FROM contracts WHERE participant = 'supplier-b'`, 1},
		{"audit entries of the operators' calls", `SELECT COUNT(*) FROM audit WHERE action = 'operator-call' AND actor IN ('operator alice', 'operator bob')`, -1},
	} {
		var n int
		if err := db.QueryRow(q.query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if q.want >= 0 && n != q.want || q.want < 0 && n < 20 {
			t.Errorf("database: %d %s, want %d", n, q.what, q.want)
		}
	}

	// Every process's logs of every module are behaviours of the spec.
	traces, err := validateSpecTraces(ps.Trace)
	if err != nil {
		t.Fatalf("a log no behaviour of the spec explains: %v", err)
	}
	for _, mod := range []string{"Channel", "Collection", "Commands", "Firmware", "Tamper"} {
		if r := traces.module(mod); r.Steps == 0 {
			t.Errorf("no %s step logged by the processes", mod)
		}
	}
	t.Logf("%d items stored; read %d (%d Wh) verified offline; 4 commands relayed; campaign done (%d installed); spec traces: %d modules", storedTotal, read.Counter, read.Wh, camp.Installed, len(traces))
}

// gwTitle is the system title of gateway 0, the name its certificate
// gives it at the head-end.
func gwTitle(t *testing.T, ps *procs.Set) string {
	var gw gatewayFile
	if err := readJSON(ps.Path("gw-00.json"), &gw); err != nil {
		t.Fatal(err)
	}
	return gw.Title
}

// readAddrFile reads a head-end's address file.
func readAddrFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		t.Fatalf("head-end address %s: %v", p, err)
	}
	return string(bytes.TrimSpace(b))
}

// mustCerts reads a PEM file of certificates.
func mustCerts(t *testing.T, p string) []*x509.Certificate {
	t.Helper()
	c, err := readPEMCerts(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
