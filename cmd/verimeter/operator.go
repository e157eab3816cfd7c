//go:build !device

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

func init() {
	register(command{name: "operator", summary: "operator COMMAND: a head-end operator's client of the operator API (inventory, on-demand reads, four-eyes commands, alarms, contracts, audit log)", run: runOperator})
}

// operatorCommands are the client's commands: how many arguments each
// takes, and the request it makes of them.
var operatorCommands = []struct {
	name, args, help string
	nargs            [2]int // at least, at most
	req              func(a []string) (method, path string, body any, err error)
}{
	{"meters", "[AFTER]", "the meter inventory (page on after the meter AFTER)", [2]int{0, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/meters" + query("after", a, 0), nil, nil
	}},
	{"readings", "METER FROM TO", "a meter's signed items and intervals, FROM and TO RFC 3339", [2]int{3, 3}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/meters/" + url.PathEscape(a[0]) + "/readings?from=" + url.QueryEscape(a[1]) + "&to=" + url.QueryEscape(a[2]), nil, nil
	}},
	{"evidence", "METER COUNTER", "the inclusion proof of a stored item", [2]int{2, 2}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/meters/" + url.PathEscape(a[0]) + "/readings/" + url.PathEscape(a[1]) + "/evidence", nil, nil
	}},
	{"contracts", "METER", "a meter's contracts", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/meters/" + url.PathEscape(a[0]) + "/contracts", nil, nil
	}},
	{"switch-supplier", "METER PARTICIPANT FROM UNTIL", "move a meter to a new supplier", [2]int{4, 4}, func(a []string) (string, string, any, error) {
		return "POST", "/v1/operator/meters/" + url.PathEscape(a[0]) + "/supplier", wan.SupplierSwitch{Participant: a[1], From: a[2], Until: a[3]}, nil
	}},
	{"read", "METER", "ask for a meter's signed register reading now: its gateway takes it on its next run", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "POST", "/v1/operator/meters/" + url.PathEscape(a[0]) + "/reads", nil, nil
	}},
	{"read-request", "ID", "one read request: pending, done (the reading's counter and value) or failed", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/reads/" + url.PathEscape(a[0]), nil, nil
	}},
	{"commands", "[STATUS]", "commands of the four-eyes workflow (pending, signing, ready, refused)", [2]int{0, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/commands" + query("status", a, 0), nil, nil
	}},
	{"command", "ID", "one command", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/commands/" + url.PathEscape(a[0]), nil, nil
	}},
	{"request", "METER KIND [VALUE]", "request a command (tariff N, disconnect, reconnect, clock-set SECONDS, key-rotation, trust-list FILE: an operator change, FILE the list the trust-list signer signed)", [2]int{2, 3}, func(a []string) (string, string, any, error) {
		r := wan.CommandRequest{Meter: a[0], Kind: a[1]}
		if a[1] == "trust-list" {
			if len(a) != 3 {
				return "", "", nil, fmt.Errorf("trust-list takes the FILE of the signed list")
			}
			b, err := os.ReadFile(a[2])
			if err != nil {
				return "", "", nil, err
			}
			r.TrustList = base64.StdEncoding.EncodeToString(b)
			return "POST", "/v1/operator/commands", r, nil
		}
		if len(a) == 3 {
			v, err := strconv.ParseInt(a[2], 10, 64)
			switch {
			case err != nil:
				return "", "", nil, fmt.Errorf("VALUE %q: %w", a[2], err)
			case a[1] == "tariff" && v >= 0 && v <= 255:
				r.Tariff = uint8(v)
			case a[1] == "clock-set":
				r.ClockStep = v
			default:
				return "", "", nil, fmt.Errorf("VALUE is a tariff (0-255) or a clock-set step")
			}
		}
		return "POST", "/v1/operator/commands", r, nil
	}},
	{"sign", "ID", "the requester's approval of its own pending command ID: signed with -key over the command's to_approve, printed (base64) for the approver", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/commands/" + url.PathEscape(a[0]), nil, nil
	}},
	{"approve", "ID [REQUESTER-APPROVAL]", "approve another operator's command: signed with -key, with the requester's approval (`operator sign`; a disconnect needs both), then the head-end signs it", [2]int{1, 2}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/commands/" + url.PathEscape(a[0]), nil, nil
	}},
	{"wake-up", "GATEWAY", "sign a wake-up for a gateway; its signed field is what the side channel delivers to `gateway run -wakeup`", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "POST", "/v1/operator/gateways/" + url.PathEscape(a[0]) + "/wake-up", nil, nil
	}},
	{"alarms", "[open]", "tamper alarms (only open ones)", [2]int{0, 1}, func(a []string) (string, string, any, error) {
		if len(a) == 1 && a[0] != "open" {
			return "", "", nil, fmt.Errorf("alarms takes \"open\" or nothing")
		}
		return "GET", "/v1/operator/alarms" + map[bool]string{true: "?open=true"}[len(a) == 1], nil, nil
	}},
	{"ack", "ID", "acknowledge an alarm", [2]int{1, 1}, func(a []string) (string, string, any, error) {
		return "POST", "/v1/operator/alarms/" + url.PathEscape(a[0]) + "/ack", nil, nil
	}},
	{"audit", "[AFTER]", "export the audit log (entries after sequence number AFTER)", [2]int{0, 1}, func(a []string) (string, string, any, error) {
		return "GET", "/v1/operator/audit" + query("after", a, 0), nil, nil
	}},
	{"tree-head", "", "sign a tree head of the transparency log now", [2]int{0, 0}, func([]string) (string, string, any, error) {
		return "POST", "/v1/operator/tree-head", nil, nil
	}},
	{"openapi", "", "the head-end's OpenAPI document", [2]int{0, 0}, func([]string) (string, string, any, error) {
		return "GET", "/v1/openapi.json", nil, nil
	}},
}

// query is "?name=a[i]" when the argument is there.
func query(name string, a []string, i int) string {
	if len(a) <= i {
		return ""
	}
	return "?" + name + "=" + url.QueryEscape(a[i])
}

// errRefused is a refusal by the head-end (a JSON OperatorError).
var errRefused = errors.New("refused by the head-end")

func runOperator(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "a deployment of verimeter provision: its pki/operator-NAME.crt and .key, pki/root.crt and headend.addr")
	as := fs.String("as", "", "the operator NAME of -dir (alice, bob)")
	certF := fs.String("cert", "", "the operator's certificate chain (PEM)")
	keyF := fs.String("key", "", "the operator's private key (PEM)")
	caF := fs.String("cacert", "", "the root certificate the head-end's TLS certificate chains to")
	addr := fs.String("addr", "", "the head-end's HOST:PORT")
	addrFile := fs.String("addr-file", "", "a file holding the head-end's HOST:PORT (headend serve writes it)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on an answer after this long")
	var more []string
	more = append(more, "commands:")
	for _, c := range operatorCommands {
		more = append(more, fmt.Sprintf("  %-16s %-30s %s", c.name, c.args, c.help))
	}
	setUsage(fs, stderr, "usage: verimeter operator [-dir DIR -as NAME] [-cert FILE -key FILE -cacert FILE] [-addr HOST:PORT | -addr-file FILE] [-timeout D] COMMAND [ARG...]", more...)
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "verimeter operator: %s\n", msg)
		fs.Usage()
		return 2
	}
	if fs.NArg() == 0 {
		return usage("a COMMAND is required")
	}
	if *dir != "" {
		if *as == "" {
			return usage("-dir needs -as NAME")
		}
		def := func(p *string, v string) {
			if *p == "" {
				*p = v
			}
		}
		def(certF, filepath.Join(*dir, "pki", "operator-"+*as+".crt"))
		def(keyF, filepath.Join(*dir, "pki", "operator-"+*as+".key"))
		def(caF, filepath.Join(*dir, "pki", "root.crt"))
		if *addr == "" {
			def(addrFile, filepath.Join(*dir, "headend.addr"))
		}
	}
	if *certF == "" || *keyF == "" || *caF == "" {
		return usage("-cert, -key and -cacert (or -dir and -as) are required")
	}
	if (*addr == "") == (*addrFile == "") {
		return usage("one of -addr and -addr-file (or -dir) is required")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	for _, c := range operatorCommands {
		if c.name != name {
			continue
		}
		if len(rest) < c.nargs[0] || len(rest) > c.nargs[1] {
			return usage(fmt.Sprintf("%s takes %s", name, strings.TrimSpace(c.args+" (no more)")))
		}
		method, path, body, err := c.req(rest)
		if err != nil {
			return usage(fmt.Sprintf("%s: %v", name, err))
		}
		if *addrFile != "" {
			b, err := os.ReadFile(*addrFile)
			if err != nil {
				fmt.Fprintf(stderr, "verimeter operator: %v\n", err)
				return 1
			}
			*addr = strings.TrimSpace(string(b))
		}
		out, err := operatorCall(*certF, *keyF, *caF, *addr, *timeout, method, path, body)
		if err == nil && (name == "sign" || name == "approve") {
			out, err = operatorApprove(out, rest, *certF, *keyF, *caF, *addr, *timeout, name == "sign")
		}
		if err != nil {
			fmt.Fprintf(stderr, "verimeter operator: %s: %v\n", name, err)
			return 1
		}
		stdout.Write(out)
		return 0
	}
	return usage(fmt.Sprintf("unknown command %q", name))
}

// operatorApprove signs, with the operator's own key (keyF), the command
// whose answer to GET is cmdJSON, over its to_approve (the head-end never
// holds the operator's key, and the meter checks the signature): for
// `sign` it returns the approval (base64, a line), for `approve` it posts it
// after the requester's approval (rest[1], when given) and returns the
// head-end's answer.
func operatorApprove(cmdJSON []byte, rest []string, certF, keyF, caF, addr string, timeout time.Duration, signOnly bool) ([]byte, error) {
	var oc wan.OperatorCommand
	if err := json.Unmarshal(cmdJSON, &oc); err != nil {
		return nil, fmt.Errorf("the command: %w", err)
	}
	if oc.Status != wan.CommandPending || oc.ToApprove == "" {
		return nil, fmt.Errorf("command %d is %s, not pending", oc.ID, oc.Status)
	}
	b, err := base64.StdEncoding.DecodeString(oc.ToApprove)
	if err != nil {
		return nil, fmt.Errorf("to_approve: %w", err)
	}
	c, err := protocol.DecodeCommandToApprove(b)
	if err != nil {
		return nil, fmt.Errorf("to_approve: %w", err)
	}
	// What is signed must be what the operator sees: the command's meter
	// and kind as the API lists them.
	if hex.EncodeToString(c.Meter[:]) != oc.Meter || c.Kind != commandKindByName[oc.Kind] {
		return nil, fmt.Errorf("to_approve is a command of kind %d for %x, not the %s for %s listed", c.Kind, c.Meter, oc.Kind, oc.Meter)
	}
	k, err := protocol.ReadKey(keyF)
	if err != nil {
		return nil, err
	}
	a, err := protocol.SignApproval(c, k, rand.Reader)
	if err != nil {
		return nil, err
	}
	ab, err := a.Marshal()
	if err != nil {
		return nil, err
	}
	own := base64.StdEncoding.EncodeToString(ab)
	if signOnly {
		return []byte(own + "\n"), nil
	}
	var req wan.ApproveRequest
	if len(rest) == 2 {
		req.Approvals = []string{rest[1], own}
	}
	return operatorCall(certF, keyF, caF, addr, timeout, "POST", "/v1/operator/commands/"+url.PathEscape(rest[0])+"/approve", req)
}

// commandKindByName maps the API's kind names to the protocol's kinds.
var commandKindByName = map[string]protocol.CommandKind{
	"tariff": protocol.CmdTariff, "disconnect": protocol.CmdDisconnect, "reconnect": protocol.CmdReconnect,
	"clock-set": protocol.CmdClockSet, "key-rotation": protocol.CmdKeyRotation, "trust-list": protocol.CmdTrustList,
}

// operatorCall makes one request of the operator API over TLS 1.3 with the
// operator's certificate, the head-end verified against the root alone,
// and returns the answer indented; a refusal is errRefused with its status,
// class and message.
func operatorCall(certF, keyF, caF, addr string, timeout time.Duration, method, path string, body any) ([]byte, error) {
	cert, err := loadTLS(certF, keyF, nil)
	if err != nil {
		return nil, err
	}
	roots, err := readPEMCerts(caF)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+addr+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool}}}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var oe wan.OperatorError
		if json.Unmarshal(raw, &oe) == nil && oe.Class != "" {
			return nil, fmt.Errorf("%w: %s %s: %s", errRefused, resp.Status, oe.Class, oe.Error)
		}
		return nil, fmt.Errorf("%w: %s: %.300s", errRefused, resp.Status, raw)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
