//go:build !device

package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// waitAddr waits for the head-end to write its address file.
func waitAddr(t *testing.T, file string, done <-chan error) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			return string(b)
		}
		select {
		case err := <-done:
			t.Fatalf("head-end stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", file)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// curlGet has curl (the root as its only CA, no -k) GET path as who (a
// certificate of the deployment's pki/) and returns the status and body.
func curlGet(t *testing.T, curl, pki, addr, who, path string) (int, []byte) {
	t.Helper()
	body := filepath.Join(t.TempDir(), "body")
	out, err := exec.Command(curl, "-sS", "--max-time", "20", "-o", body, "-w", "%{http_code}",
		"--cacert", filepath.Join(pki, "root.crt"), "--cert", filepath.Join(pki, who+".crt"), "--key", filepath.Join(pki, who+".key"), "https://"+addr+path).CombinedOutput()
	if err != nil {
		t.Fatalf("curl as %s: %v\n%s", who, err, out)
	}
	var code int
	if _, err := fmt.Sscanf(string(out), "%d", &code); err != nil {
		t.Fatalf("curl status %q: %v", out, err)
	}
	b, _ := os.ReadFile(body)
	return code, b
}

// TestCurlOnTheOperatorAPI: curl, with an operator's certificate and key
// as provision writes them and the root as its only CA (no -k), gets the
// meter inventory from a loopback head-end (200); with a supplier's or a
// gateway's certificate it gets 403 and the JSON refusal.
func TestCurlOnTheOperatorAPI(t *testing.T) {
	curl := requireTool(t, "curl")
	work := t.TempDir()
	if err := provision(work, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- headendServe(filepath.Join(work, "headend.json"), nil, io.Discard, io.Discard, stop) }()
	defer func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("head-end: %v", err)
		}
	}()
	addr := waitAddr(t, filepath.Join(work, "headend.addr"), done)
	pki := filepath.Join(work, "pki")
	code, body := curlGet(t, curl, pki, addr, "operator-alice", "/v1/operator/meters")
	var meters []wan.OperatorMeter
	if code != 200 || json.Unmarshal(body, &meters) != nil || len(meters) != 2 || meters[0].Suppliers[0] != "supplier-a" {
		t.Fatalf("curl as operator alice: %d %s", code, body)
	}
	for _, who := range []string{"supplier-a", "gw-00-tls"} {
		code, body := curlGet(t, curl, pki, addr, who, "/v1/operator/meters")
		var oe wan.OperatorError
		if code != 403 || json.Unmarshal(body, &oe) != nil || oe.Class != wan.ClassForbidden {
			t.Errorf("curl as %s: %d %s, want 403 forbidden", who, code, body)
		}
	}
}

// TestOperatorCommandAcrossProcesses: `verimeter operator`, as two
// operators of a provisioned deployment, against `verimeter headend serve`
// run as a process: alice requests a disconnect, the head-end restarts,
// alice's own approval is refused (four eyes), bob's has the head-end sign
// it, and it is listed ready; the audit log names both.
func TestOperatorCommandAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "d")
	if err := provision(work, 2, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(work, "headend.addr")
	var he *exec.Cmd
	var heErr bytes.Buffer
	var exited chan struct{}
	start := func() {
		os.Remove(addrFile)
		he = exec.Command(bin, "headend", "serve", "-config", filepath.Join(work, "headend.json"))
		he.Stdout, he.Stderr = io.Discard, &heErr
		if err := he.Start(); err != nil {
			t.Fatal(err)
		}
		exited = make(chan struct{})
		died := make(chan error, 1)
		go func() { died <- he.Wait(); close(exited) }()
		waitAddr(t, addrFile, died)
	}
	stopHE := func() {
		he.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			he.Process.Kill()
			<-exited
		}
	}
	op := func(as string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		c := exec.Command(bin, append([]string{"operator", "-dir", work, "-as", as}, args...)...)
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	start()
	defer func() { stopHE() }()
	var m0 meterFile
	if err := readJSON(filepath.Join(work, "meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	out, errs, code := op("alice", "request", m0.Title, "disconnect")
	var c wan.OperatorCommand
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.Status != wan.CommandPending || c.RequestedBy != "operator alice" {
		t.Fatalf("alice's request: exit %d %s %s", code, out, errs)
	}
	stopHE()
	// The head-end restarts with a limit of one disconnect an hour
	// (provision wrote the default).
	var hf headendFile
	if err := readJSON(filepath.Join(work, "headend.json"), &hf); err != nil || hf.DisconnectsPerHour != defaultDisconnectsPerHour {
		t.Fatalf("provision's disconnects_per_hour: %d, %v", hf.DisconnectsPerHour, err)
	}
	hf.DisconnectsPerHour = 1
	if err := writeJSON(filepath.Join(work, "headend.json"), hf); err != nil {
		t.Fatal(err)
	}
	start()
	id := fmt.Sprint(c.ID)
	if _, errs, code := op("alice", "approve", id); code != 1 || !strings.Contains(errs, wan.ClassSameOperator) {
		t.Fatalf("alice approving her own request: exit %d %s", code, errs)
	}
	// Without alice's own signed approval, bob's cannot make a disconnect:
	// the head-end refuses it (the meter would too).
	if _, errs, code := op("bob", "approve", id, "AAAA"); code != 1 || !strings.Contains(errs, wan.ClassBadRequest) {
		t.Fatalf("bob's approval with a malformed requester approval: exit %d %s", code, errs)
	}
	mine, errs, code := op("alice", "sign", id)
	if code != 0 || strings.TrimSpace(mine) == "" {
		t.Fatalf("alice's approval: exit %d %s", code, errs)
	}
	out, errs, code = op("bob", "approve", id, strings.TrimSpace(mine))
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.Status != wan.CommandReady || c.ApprovedBy != "operator bob" || c.Counter != 1 || c.Signed == "" {
		t.Fatalf("bob's approval: exit %d %s %s", code, out, errs)
	}
	// A second disconnect within the hour is above the limit: refused
	// (422, class refused), it stays pending.
	var m1 meterFile
	if err := readJSON(filepath.Join(work, "meter-001.json"), &m1); err != nil {
		t.Fatal(err)
	}
	out, errs, code = op("alice", "request", m1.Title, "disconnect")
	var c2 wan.OperatorCommand
	if code != 0 || json.Unmarshal([]byte(out), &c2) != nil {
		t.Fatalf("alice's second request: exit %d %s %s", code, out, errs)
	}
	if _, errs, code := op("bob", "approve", fmt.Sprint(c2.ID)); code != 1 || !strings.Contains(errs, "422") || !strings.Contains(errs, wan.ClassRefused) {
		t.Fatalf("a disconnect above the hourly limit: exit %d %s", code, errs)
	}
	out, _, _ = op("alice", "commands", "ready")
	var ready []wan.OperatorCommand
	if json.Unmarshal([]byte(out), &ready) != nil || len(ready) != 1 || ready[0].ID != c.ID {
		t.Fatalf("ready commands: %s", out)
	}
	out, _, _ = op("bob", "audit")
	var audit []wan.OperatorAuditEntry
	if err := json.Unmarshal([]byte(out), &audit); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Actor+": "+e.Action)
	}
	all := strings.Join(actions, "\n")
	for _, want := range []string{"operator alice: command-requested", "operator alice: command-approval-refused", "operator alice: command", "operator bob: operator-call"} {
		if !strings.Contains(all, want+"\n") && !strings.HasSuffix(all, want) {
			t.Errorf("audit log lacks %q:\n%s", want, all)
		}
	}
	if _, errs, code := op("bob", "request", m0.Title, "explode"); code != 1 || !strings.Contains(errs, wan.ClassBadRequest) {
		t.Fatalf("a bad request: exit %d %s", code, errs)
	}
	if t.Failed() {
		t.Logf("head-end stderr:\n%s", heErr.String())
	}
}

// TestCommandFromOperatorsToMeter: the whole command workflow across
// processes: a gateway run forwards its meters' data, alice requests a
// tariff switch for a meter, bob approves it, the gateway's next run picks
// the signed command up on its outbound connection, relays it over PLC,
// and the meter's acceptance is reported back: the command is relayed.
func TestCommandFromOperatorsToMeter(t *testing.T) {
	ps := procs.New(t, "vmo", 2, 1)
	bin, work := ps.Bin, ps.Work
	ps.StartHeadend()
	for i := range 2 {
		ps.StartMeter(i)
	}
	gatewayRun := func() string {
		out, err := ps.Command("gateway", "run", "-config", ps.Path("gw-00.json")).CombinedOutput()
		if err != nil {
			t.Fatalf("gateway: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := gatewayRun(); !strings.Contains(out, "0 commands relayed") {
		t.Fatalf("first gateway run: %s", out)
	}
	op := func(as string, args ...string) []byte {
		out, err := exec.Command(bin, append([]string{"operator", "-dir", work, "-as", as}, args...)...).Output()
		if err != nil {
			t.Fatalf("operator %s %v: %v", as, args, err)
		}
		return out
	}
	var m0 meterFile
	if err := readJSON(filepath.Join(work, "meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	var c wan.OperatorCommand
	if err := json.Unmarshal(op("alice", "request", m0.Title, "tariff", "2"), &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(op("bob", "approve", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandReady {
		t.Fatalf("approval: %+v %v", c, err)
	}
	if out := gatewayRun(); !strings.Contains(out, "1 commands relayed, 0 refused by meters, 0 not delivered") {
		t.Fatalf("second gateway run: %s", out)
	}
	if err := json.Unmarshal(op("alice", "command", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandRelayed {
		t.Fatalf("after the relay: %+v %v", c, err)
	}
	// The next run has nothing left to relay.
	if out := gatewayRun(); !strings.Contains(out, "0 commands relayed") {
		t.Fatalf("third gateway run: %s", out)
	}
}

// TestWakeUpFromOperatorToGateway: UC4 across processes. alice signs a
// wake-up for a gateway through the operator API; delivered to `gateway
// run -wakeup` (as a side channel would), it makes the gateway call and
// forward its queue. The same wake-up delivered again, to the next run,
// is refused and that run does not call; so is a wake-up the head-end
// never signed.
func TestWakeUpFromOperatorToGateway(t *testing.T) {
	ps := procs.New(t, "vmw", 1, 1)
	ps.StartHeadend()
	ps.StartMeter(0)
	var gw gatewayFile
	if err := readJSON(ps.Path("gw-00.json"), &gw); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ps.Bin, "operator", "-dir", ps.Work, "-as", "alice", "wake-up", gw.Title).Output()
	if err != nil {
		t.Fatalf("operator wake-up: %v", err)
	}
	var w wan.OperatorWakeUp
	if err := json.Unmarshal(out, &w); err != nil || w.Counter != 1 || w.Gateway != gw.Title {
		t.Fatalf("operator wake-up: %s %v", out, err)
	}
	wakeFile := filepath.Join(t.TempDir(), "wakeup.b64")
	if err := os.WriteFile(wakeFile, []byte(w.Signed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() (string, error) {
		out, err := ps.Command("gateway", "run", "-config", ps.Path("gw-00.json"), "-wakeup", wakeFile).CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err != nil || !strings.Contains(out, "gw-00: wake-up accepted") || !regexp.MustCompile(`items forwarded: [1-9][0-9]* stored`).MatchString(out) {
		t.Fatalf("gateway run with a fresh wake-up: %v\n%s", err, out)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "wake-up refused: counter 1 not above 1") || strings.Contains(out, "items forwarded") {
		t.Fatalf("gateway run with the wake-up replayed: %v\n%s", err, out)
	}
	title, err := protocol.ParseSystemTitle(gw.Title)
	if err != nil {
		t.Fatal(err)
	}
	thief, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged, err := protocol.SignCommand(protocol.Command{Meter: title, Counter: 9, Kind: protocol.CmdWakeUp}, thief, protocol.SubjectKeyID(&thief.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wakeFile, []byte(base64.StdEncoding.EncodeToString(forged)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "wake-up refused") || strings.Contains(out, "items forwarded") {
		t.Fatalf("gateway run with a forged wake-up: %v\n%s", err, out)
	}
}

// TestOperatorChangeFromOperatorsToMeter: the operator change across
// processes. The trust-list signer signs a meter's next trust list, alice
// requests it through the operator API, bob approves, and the gateway's
// next run relays it: the meter installs it. The old list requested and
// approved the same way is relayed too, and the meter refuses it (its
// version is not above the installed one).
func TestOperatorChangeFromOperatorsToMeter(t *testing.T) {
	ps := procs.New(t, "vmc", 1, 1)
	ps.StartHeadend()
	ps.StartMeter(0)
	gatewayRun := func() string {
		out, err := ps.Command("gateway", "run", "-config", ps.Path("gw-00.json")).CombinedOutput()
		if err != nil {
			t.Fatalf("gateway: %v\n%s", err, out)
		}
		return string(out)
	}
	gatewayRun()
	var m0 meterFile
	if err := readJSON(ps.Path("meter-000.json"), &m0); err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(m0.TrustList)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := protocol.PeekTrustList(v1)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := protocol.ReadKey(filepath.Join(ps.Work, "pki", "trust-list-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	tl.Version, tl.Issued = 2, time.Now().Unix()
	v2, err := protocol.SignTrustList(tl, signer, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"v1.bin": v1, "v2.bin": v2} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	op := func(as string, args ...string) []byte {
		out, err := exec.Command(ps.Bin, append([]string{"operator", "-dir", ps.Work, "-as", as}, args...)...).Output()
		if err != nil {
			t.Fatalf("operator %s %v: %v", as, args, err)
		}
		return out
	}
	change := func(file string, version uint64) wan.OperatorCommand {
		var c wan.OperatorCommand
		if err := json.Unmarshal(op("alice", "request", m0.Title, "trust-list", filepath.Join(dir, file)), &c); err != nil || c.TrustListVersion != version {
			t.Fatalf("request %s: %+v %v", file, c, err)
		}
		if err := json.Unmarshal(op("bob", "approve", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandReady {
			t.Fatalf("approval of %s: %+v %v", file, c, err)
		}
		return c
	}
	c := change("v2.bin", 2)
	if out := gatewayRun(); !strings.Contains(out, "1 commands relayed, 0 refused by meters, 0 not delivered") {
		t.Fatalf("gateway run relaying the new list: %s", out)
	}
	if err := json.Unmarshal(op("alice", "command", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandRelayed {
		t.Fatalf("after the relay: %+v %v", c, err)
	}
	c = change("v1.bin", 1)
	if out := gatewayRun(); !strings.Contains(out, "0 commands relayed, 1 refused by meters, 0 not delivered") {
		t.Fatalf("gateway run relaying the old list: %s", out)
	}
	if err := json.Unmarshal(op("alice", "command", fmt.Sprint(c.ID)), &c); err != nil || c.Status != wan.CommandFailed {
		t.Fatalf("the old list after the relay: %+v %v", c, err)
	}
}
