package headend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// consoleTool finds a Debian tool of the browser test. `make test`
// installs them (.ci/deps.sh); a missing one fails the test naming make
// deps, except where apt-get is unavailable to install it: there the test
// skips, saying so.
func consoleTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if _, aptErr := exec.LookPath("apt-get"); aptErr != nil {
		t.Skipf("%s is missing and apt-get is unavailable on this machine to install %s: the console is not tested in a browser here", name, pkg)
	}
	t.Fatalf("%s is missing: run make deps (.ci/deps.sh installs Debian's %s): %v", name, pkg, err)
	return ""
}

// screenshotDir is where the browser test writes its screenshots:
// $VERIMETER_SCREENSHOTS, or verimeter-console in the temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("VERIMETER_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "verimeter-console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserProfile makes a home and a Chromium profile in which bob logs in
// with his certificate, over TLS the browser really checks:
//
//   - $HOME/.pki/nssdb, the NSS database Chromium reads on Linux, trusts
//     the deployment's root CA for TLS servers (certutil -t C,,) and holds
//     bob's certificate and key (a PKCS #12 file openssl makes, which
//     pk12util imports). No flag relaxes the certificate check.
//   - A server that asks for a client certificate makes Chromium ask the
//     user to choose one; headless, nobody answers and the page never
//     loads. The choice is Chromium's content setting
//     auto_select_certificate, which the enterprise policy
//     AutoSelectCertificateForUrls sets for a whole machine
//     (/etc/chromium/policies/managed): here it is set for this profile
//     alone, in the profile's Preferences file
//     (profile.content_settings.exceptions.auto_select_certificate, pattern
//     "https://127.0.0.1:port,*", filter on the certificate's subject CN),
//     which Chromium 156 headless honours. Nothing outside the test's
//     temporary directories is written.
func browserProfile(t *testing.T, f *fixture, bob tls.Certificate, base string) (home, profile string) {
	t.Helper()
	certutil := consoleTool(t, "certutil", "libnss3-tools")
	pk12util := consoleTool(t, "pk12util", "libnss3-tools")
	openssl := consoleTool(t, "openssl", "openssl")
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	root := write("root.pem", "CERTIFICATE", f.root.Raw)
	cert := write("bob.pem", "CERTIFICATE", bob.Leaf.Raw)
	der, err := x509.MarshalPKCS8PrivateKey(bob.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := write("bob-key.pem", "PRIVATE KEY", der)
	p12 := filepath.Join(dir, "bob.p12")
	run(openssl, "pkcs12", "-export", "-in", cert, "-inkey", keyFile, "-name", bob.Leaf.Subject.CommonName, "-out", p12, "-passout", "pass:")

	home = filepath.Join(dir, "home")
	nss := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	run(certutil, "-N", "--empty-password", "-d", "sql:"+nss)
	run(certutil, "-A", "-n", "verimeter root", "-t", "C,,", "-i", root, "-d", "sql:"+nss)
	run(pk12util, "-i", p12, "-W", "", "-d", "sql:"+nss)

	profile = filepath.Join(dir, "profile")
	if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o700); err != nil {
		t.Fatal(err)
	}
	choice := map[string]any{"setting": map[string]any{"filters": []any{map[string]any{"SUBJECT": map[string]any{"CN": bob.Leaf.Subject.CommonName}}}}}
	prefs := map[string]any{"profile": map[string]any{"content_settings": map[string]any{"exceptions": map[string]any{
		"auto_select_certificate": map[string]any{base + ",*": choice}}}}}
	b, err := json.Marshal(prefs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return home, profile
}

// TestConsoleInChromium drives the operator console in a headless
// Chromium logged in with operator bob's certificate: the meter's
// readings and load profile chart; the reconnect alice requested through
// the JSON API waits for an approval, bob clicks approve (a disconnect needs
// both operators' signed approvals, which a click cannot make), the gateway
// picks the signed command up and reports the meter's answer, and the
// page shows it relayed; a tamper event the gateway uploads raises an
// alarm the overview shows, and bob acknowledges it. The store is checked
// after each step, and a screenshot is written at each.
func TestConsoleInChromium(t *testing.T) {
	chromium := consoleTool(t, "chromium", "chromium")
	ctx := context.Background()
	// The browser checks the certificates against the real clock.
	f := newFixtureAt(t, time.Now().UTC().Truncate(24*time.Hour))
	s := serveOperator(t, f)
	alice, bob := operators(t, f)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	if _, err := f.he.Ingest(ctx, "gw-1", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}, {Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}}); err != nil {
		t.Fatal(err)
	}
	meter := fmt.Sprintf("%x", f.meter[:])
	var cmd wan.OperatorCommand
	if code, oe := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: meter, Kind: "reconnect"}, &cmd); code != http.StatusCreated {
		t.Fatalf("alice requests a reconnect: %d %+v", code, oe)
	}

	home, profile := browserProfile(t, f, bob, s.base)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.UserDataDir(profile),
		chromedp.Env("HOME="+home), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	bctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(bctx, opts...)
	t.Cleanup(cancelAlloc) // kills Chromium and waits for it
	cctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)

	dir := screenshotDir(t)
	var shots []string
	trySnap := func(name string) error {
		png, err := chromedp.Run(cctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", len(shots)+1, name))
		shots = append(shots, p)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			return err
		}
		t.Logf("screenshot %s", p)
		return nil
	}
	shot := func(name string) {
		t.Helper()
		if err := trySnap(name); err != nil {
			t.Fatal(err)
		}
	}
	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(cctx, chromedp.Navigate(s.base+path)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
	}
	// js evaluates an expression on the page. waitFor evaluates expr until
	// it is want, for at most 20 s; while the page reloads itself an
	// evaluation may fail, so it retries. The console's error page ends
	// the wait at once with its message.
	js := func(expr string) (string, error) { return chromedp.Run(cctx, chromedp.Evaluate[string](expr)) }
	waitFor := func(what, expr, want string) {
		t.Helper()
		var got, page string
		var err error
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && cctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
			if got, err = js(expr); err == nil && got == want {
				return
			}
			if page, _ = js(`(document.getElementById("error") || {}).textContent || ""`); page != "" {
				break
			}
		}
		if err := trySnap("failed"); err != nil {
			t.Log(err)
		}
		t.Fatalf("%s: the page shows %q (%v), want %q; error page: %q", what, got, err, want, page)
	}
	text := func(id string) string {
		return fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ""`, id)
	}

	// Logged in as bob: the overview names him.
	open("/console")
	waitFor("operator", text("operator"), bob.Leaf.Subject.CommonName)
	waitFor("approvals waiting", text("approvals-waiting"), "1")
	shot("overview")

	// The meters and a meter's load profile.
	open("/console/meters")
	waitFor("meter row", fmt.Sprintf(`String(!!document.getElementById(%q))`, "meter-"+meter), "true")
	shot("meters")
	open("/console/meters/" + meter)
	waitFor("load profile chart", `String(document.querySelector("svg#load-profile polyline#load-line") !== null && document.getElementById("load-line").getAttribute("points").split(" ").length > 10)`, "true")
	if n, err := js(text("interval-count")); err != nil || n == "0" || n == "" {
		t.Fatalf("interval values charted: %q %v", n, err)
	}
	shot("meter")

	// Bob approves alice's reconnect with a click.
	open("/console/commands")
	waitFor("approvals waiting", fmt.Sprintf(`String(!!document.getElementById("approve-%d"))`, cmd.ID), "true")
	shot("approval-waiting")
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.ID(fmt.Sprintf("approve-%d", cmd.ID)))); err != nil {
		t.Fatalf("click approve: %v", err)
	}
	status := fmt.Sprintf(`(document.getElementById("command-%d") || {dataset: {}}).dataset.status || ""`, cmd.ID)
	waitFor("after the approval", status, wan.CommandReady)
	shot("approved")
	c, err := f.store.operatorCommand(ctx, cmd.ID)
	if err != nil || c.status != wan.CommandReady || c.approvedBy != bob.Leaf.Subject.CommonName || !c.hasSigned {
		t.Fatalf("the store after bob's click: %+v %v", c, err)
	}
	keys := func([]byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return &f.he.cfg.Key.PublicKey, func(protocol.CommandKind) bool { return true }, nil
	}
	if signed, err := protocol.VerifyCommand(c.signed, f.meter, keys); err != nil || signed.Kind != protocol.CmdReconnect || signed.Counter != c.counter {
		t.Fatalf("the signed command: %+v %v", signed, err)
	}

	// The gateway picks it up and reports the meter's answer; the page,
	// reloading itself while the command is on its way, shows it done.
	var ready []wan.GatewayCommand
	if s.do(gw, "GET", "/v1/gateway/commands", nil, &ready); len(ready) != 1 || ready[0].ID != cmd.ID {
		t.Fatalf("the gateway is given %+v", ready)
	}
	if code, oe := s.do(gw, "POST", fmt.Sprintf("/v1/gateway/commands/%d/result", cmd.ID), wan.CommandResult{OK: true}, nil); code != http.StatusOK {
		t.Fatalf("the gateway's report: %d %+v", code, oe)
	}
	waitFor("after the gateway's report", status, wan.CommandRelayed)
	shot("relayed")
	if c, err := f.store.operatorCommand(ctx, cmd.ID); err != nil || c.status != wan.CommandRelayed {
		t.Fatalf("the store after the gateway's report: %+v %v", c, err)
	}

	// A tamper event, uploaded by the gateway, raises an alarm: the
	// overview, reloading itself, shows it.
	open("/console")
	waitFor("open alarms before", text("open-alarms"), "0")
	batch, err := (&protocol.TamperBatch{Items: [][]byte{f.tamperEvent(t, 1, protocol.EventCoverOpened)}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client(gw).Post(s.base+"/v1/tamper", "application/cbor", bytes.NewReader(batch))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tamper upload: %s %s", resp.Status, body)
	}
	alarms, err := f.he.alarms(ctx, true)
	if err != nil || len(alarms) != 1 {
		t.Fatalf("open alarms %+v %v", alarms, err)
	}
	alarm := alarms[0].ID
	waitFor("the alarm on the overview", fmt.Sprintf(`String(!!document.getElementById("overview-alarm-%d"))`, alarm), "true")
	shot("alarm")

	// Bob acknowledges it with a click.
	open("/console/alarms")
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.ID(fmt.Sprintf("ack-%d", alarm)))); err != nil {
		t.Fatalf("click acknowledge: %v", err)
	}
	waitFor("after the acknowledgement", fmt.Sprintf(`(document.getElementById("alarm-%d") || {dataset: {}}).dataset.state || ""`, alarm), "acknowledged")
	shot("acknowledged")
	if all, err := f.he.alarms(ctx, false); err != nil || len(all) != 1 || all[0].AckedBy != bob.Leaf.Subject.CommonName {
		t.Fatalf("the store after the acknowledgement: %+v %v", all, err)
	}

	// A firmware campaign under way: its progress.
	meters := campaignMeters(20) // stages: 1, 5, 20 meters
	if _, err := f.he.newCampaign(3, []byte("manifest"), []byte("image"), f.alice, f.bob, meters); err != nil {
		t.Fatal(err)
	}
	report(t, f.he, 3, work(t, f.he, 3, meters), map[string]int{}, func(string) bool { return false })
	open("/console/campaigns")
	waitFor("campaign progress", `(document.querySelector("#campaign-3 progress") || {}).value + " " + document.querySelector("#campaign-3").textContent.includes("2 of 3")`, "5 true")
	shot("campaigns")
	open("/console/audit")
	waitFor("audit log", `String(document.querySelectorAll("#audit tr").length > 5)`, "true")
	shot("audit")

	// The audit log has bob's console calls, the approval and the
	// acknowledgement among them.
	entries, err := f.store.auditPage(ctx, 0, maxListed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"operator-call POST /console/commands/" + fmt.Sprint(cmd.ID) + "/approve": false,
		"operator-call POST /console/alarms/" + fmt.Sprint(alarm) + "/ack":        false,
		"operator-call GET /console":                                              false,
		"operator-call GET /console/meters/" + meter:                              false,
		"tamper-alarm-acknowledged alarm " + fmt.Sprint(alarm):                    false,
	}
	for _, e := range entries {
		if e.Actor == bob.Leaf.Subject.CommonName {
			if _, ok := want[e.Action+" "+e.Detail]; ok {
				want[e.Action+" "+e.Detail] = true
			}
		}
	}
	for w, seen := range want {
		if !seen {
			t.Errorf("the audit log has no entry of bob's %q", w)
		}
	}

	// The screenshots are PNG images.
	for _, p := range shots {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 100 || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG image (%d bytes, %v)", p, len(b), err)
		}
	}
}

// consoleClient is a plain Go client with cert that trusts the fixture's
// root and does not follow redirects.
func consoleClient(f *fixture, cert tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(f.root)
	return &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
}

// TestConsoleRefusesCrossOrigin: the client certificate goes with any
// request, so a POST that a page of another origin may have made is
// refused with 403 (a foreign Origin, Sec-Fetch-Site cross-site or
// same-site, or neither header) and changes nothing; a same-origin one
// approves. The console's answers carry the headers that keep them out of
// caches and frames, with a content security policy; the four-eyes rule
// and the role check answer as HTML pages with the operator API's
// statuses; what a page shows is escaped.
func TestConsoleRefusesCrossOrigin(t *testing.T) {
	f := newFixture(t)
	s := serveOperator(t, f)
	alice, bob := operators(t, f)
	var cmd wan.OperatorCommand
	if code, oe := s.do(alice, "POST", "/v1/operator/commands", wan.CommandRequest{Meter: fmt.Sprintf("%x", f.meter[:]), Kind: "reconnect"}, &cmd); code != http.StatusCreated {
		t.Fatalf("request: %d %+v", code, oe)
	}
	approve := fmt.Sprintf("%s/console/commands/%d/approve", s.base, cmd.ID)
	host := strings.TrimPrefix(s.base, "https://")
	post := func(cert tls.Certificate, headers ...string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("POST", approve, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := consoleClient(f, cert).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "http://" + host},
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://" + host},
		{"Sec-Fetch-Site", "same-site"},
		{},
	} {
		resp, body := post(bob, h...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "console&#39;s own pages") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("a POST with %q: %s %q", h, resp.Status, body)
		}
	}
	if c, err := f.store.operatorCommand(context.Background(), cmd.ID); err != nil || c.status != wan.CommandPending {
		t.Fatalf("after the refused posts: %+v %v", c, err)
	}
	// The four-eyes rule, through the same code as the JSON API.
	if resp, body := post(alice, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "may not approve") {
		t.Fatalf("alice approving her own command: %s %q", resp.Status, body)
	}
	// A gateway is not an operator.
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	if resp, body := post(gw, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not an operator") {
		t.Fatalf("a gateway: %s %q", resp.Status, body)
	}
	if resp, body := post(bob, "Origin", "https://"+host); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/commands" {
		t.Fatalf("a same-origin approval: %s %q", resp.Status, body)
	}
	if c, err := f.store.operatorCommand(context.Background(), cmd.ID); err != nil || c.status != wan.CommandReady || c.approvedBy != "operator bob" {
		t.Fatalf("after the approval: %+v %v", c, err)
	}

	// Every page: the headers, the operator's name escaped.
	mallory := f.tlsCert(t, f.subs["head-end-operator"], `<script>alert("mallory")</script>`, protocol.RoleHeadEnd)
	for _, p := range []string{"/console", "/console/meters", "/console/meters/" + fmt.Sprintf("%x", f.meter[:]), "/console/commands", "/console/alarms", "/console/campaigns", "/console/audit", "/console/meters/xyz"} {
		resp, err := consoleClient(f, mallory).Get(s.base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusOK
		if strings.HasSuffix(p, "xyz") {
			want = http.StatusBadRequest
		}
		hd := resp.Header
		if resp.StatusCode != want || hd.Get("Cache-Control") != "no-store" || hd.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(hd.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: %s %v", p, resp.Status, hd)
		}
		if strings.Contains(string(b), "<script") || !strings.Contains(string(b), "&lt;script&gt;") {
			t.Errorf("GET %s: the operator's name is not escaped:\n%.400s", p, b)
		}
	}
}
