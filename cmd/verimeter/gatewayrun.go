package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

func init() {
	register(command{name: "gateway", summary: "gateway run -config FILE: commission the meters, collect a day, forward it to the head-end", run: runGateway})
}

func runGateway(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "usage: verimeter gateway run -config gateway.json")
		return 2
	}
	fs := flag.NewFlagSet("gateway run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "gateway configuration (JSON, from verimeter provision)")
	wait := fs.Duration("wait", 20*time.Second, "how long to wait for the head-end and the meters to come up")
	read := fs.Bool("read", false, "also take an on-demand signed reading from every meter (UC3)")
	fw := fs.String("firmware", "", "a firmware campaign (JSON: campaign, manifest, image) to relay to every meter after collecting it")
	specTrace := fs.String("spec-trace", "", "log the steps of the gateway's machines in this directory (continuing the logs of an earlier run), for trace validation")
	var o forwardOptions
	fs.IntVar(&o.batch, "batch", 500, "items per batch to the head-end")
	fs.IntVar(&o.reads, "reads", 1, "on-demand readings per meter with -read")
	fs.DurationVar(&o.retryFor, "retry-for", 0, "keep retrying the head-end with backoff for this long after a WAN fault (0: one attempt)")
	fs.DurationVar(&o.timeout, "wan-timeout", gateway.DefaultWANTimeout, "bound on one request to the head-end, answer included (finds half-open connections)")
	fs.StringVar(&o.metrics, "metrics", "", "serve the gateway's Prometheus metrics at http://ADDR/metrics during the run (plain HTTP: a loopback or management address)")
	fs.StringVar(&o.wakeup, "wakeup", "", "a signed wake-up from the head-end (base64, the signed field of `operator wake-up`, as a side channel delivers it): call the head-end only if it is authentic and newer than the last one accepted")
	setUsage(fs, stderr, "usage: verimeter gateway run -config gateway.json [-wait D] [-read] [-reads N] [-firmware FILE] [-batch N] [-retry-for D] [-wan-timeout D] [-spec-trace DIR] [-metrics ADDR] [-wakeup FILE]")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "verimeter gateway run: -config FILE is required; arguments are flags only")
		fs.Usage()
		return 2
	}
	if o.batch < 1 || o.reads < 1 || o.retryFor < 0 || o.timeout <= 0 {
		fmt.Fprintln(stderr, "verimeter gateway: -batch and -reads must be positive, -retry-for not negative, -wan-timeout positive")
		return 2
	}
	if err := gatewayRun(*cfgPath, *wait, *read, *fw, *specTrace, o, stdout); err != nil {
		fmt.Fprintf(stderr, "verimeter gateway: %v\n", err)
		return 1
	}
	return 0
}

// forwardOptions are how a gateway run forwards its queue to the head-end,
// and where it serves its metrics.
type forwardOptions struct {
	batch, reads      int
	retryFor, timeout time.Duration
	metrics           string // -metrics: the listener's address; "" none
	wakeup            string // -wakeup: the file of a signed wake-up; "" none (the run calls the head-end anyway)
}

// wakeUp is a signed wake-up and the head-end command key it must be
// signed with (its certificate checked against the PKI).
type wakeUp struct {
	signed []byte
	key    *ecdsa.PublicKey
}

// readWakeUp reads the signed wake-up of -wakeup (base64, surrounding
// space ignored) and the head-end's command key from its certificate
// chain, which must be valid for role head-end now.
func readWakeUp(path, certPath string, val *protocol.Validator) (*wakeUp, error) {
	if certPath == "" {
		return nil, errors.New("-wakeup: the configuration names no headend_command_cert to check it with")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-wakeup: %w", err)
	}
	signed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("-wakeup %s: not base64: %w", path, err)
	}
	chain, err := protocol.ReadChain(certPath)
	if err != nil {
		return nil, fmt.Errorf("headend_command_cert: %w", err)
	}
	if err := val.Check(chain[0], protocol.RoleHeadEnd, time.Now()); err != nil {
		return nil, fmt.Errorf("headend_command_cert: %w", err)
	}
	k, ok := chain[0].PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("headend_command_cert %s: not an ECDSA key", certPath)
	}
	return &wakeUp{signed: signed, key: k}, nil
}

// startGatewayMetrics serves the metrics of g and its PLC link at addr
// until the returned stop is called (metrics.go; nil in device builds,
// which link no metrics library).
var startGatewayMetrics func(addr string, g *gateway.Gateway, link *gateway.SocketPLC, stdout io.Writer) (stop func() error, err error)

func gatewayRun(path string, wait time.Duration, read bool, fwPath, specTrace string, o forwardOptions, stdout io.Writer) (err error) {
	traces, err := openSpecTrace(specTrace)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, traces.Close()) }()
	var f gatewayFile
	if err := readJSON(path, &f); err != nil {
		return err
	}
	title, err := protocol.ParseSystemTitle(f.Title)
	if err != nil {
		return err
	}
	ck, err := protocol.ReadKey(f.ChannelKey)
	if err != nil {
		return err
	}
	roots, err := readPEMCerts(f.Roots)
	if err != nil {
		return err
	}
	subs, err := readPEMCerts(f.SubCAs)
	if err != nil {
		return err
	}
	cert, err := loadTLS(f.TLSCert, f.TLSKey, subs)
	if err != nil {
		return err
	}
	val, err := protocol.NewValidator(roots, subs, nil)
	if err != nil {
		return err
	}
	var wake *wakeUp
	if o.wakeup != "" {
		if wake, err = readWakeUp(o.wakeup, f.HeadEndCommandCert, val); err != nil {
			return err
		}
	}
	var fw *firmwareFile
	if fwPath != "" {
		fw = new(firmwareFile)
		if err := readJSON(fwPath, fw); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(wait)
	addrFiles := append([]string{f.HeadEndAddr}, f.OtherHeadEnds...)
	for {
		if _, err = readAddrs(addrFiles); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.Remove(f.Socket)
	plcSock, err := gateway.NewSocketPLC(f.Socket, 5*time.Second)
	if err != nil {
		return err
	}
	defer plcSock.Close()
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	g, err := gateway.New(gateway.Config{Name: f.Name, Title: title, ChannelKey: ck, Dir: f.Dir, Rand: rand.Reader, Segment: plcSock, Trace: traces})
	if err != nil {
		return err
	}
	defer g.Close()
	if o.metrics != "" {
		if startGatewayMetrics == nil {
			return errors.New("-metrics: this build has no metrics (device build)")
		}
		stop, err := startGatewayMetrics(o.metrics, g, plcSock, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	if r := g.Queue().Report(); r.TornBytes > 0 || r.Upgraded {
		fmt.Fprintf(stdout, "gateway %s: %s\n", f.Name, r)
	}
	if tapPath := os.Getenv("VERIMETER_PLC_TAP"); tapPath != "" {
		tf, err := os.OpenFile(tapPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer tf.Close()
		plcSock.Tap = tapWriter(g, tf)
	}
	for _, m := range f.Meters {
		mt, err := protocol.ParseSystemTitle(m.Title)
		if err != nil {
			return err
		}
		mk, err := certKey(m.ChannelCert)
		if err != nil {
			return err
		}
		if err := plcSock.Attach(mt, m.Socket, m.Addr); err != nil {
			return err
		}
		// Wait for the meter to be on the line before the first frame: an
		// HDLC link that gave up on an absent peer stays failed.
		for {
			if _, err := os.Stat(m.Socket); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for {
			err = g.Commission(mt, mk)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("commission %s: %w", m.Title, err)
		}
		// What the meter still keeps from earlier runs (its head-end
		// acknowledgement not relayed, or a gateway before this one lost
		// or dropped it) is collected again first.
		if _, err := g.CollectKept(mt); err != nil {
			return fmt.Errorf("collect kept items of %s: %w", m.Title, err)
		}
		if err := g.CollectDay(mt, f.Day); err != nil {
			return fmt.Errorf("collect %s: %w", m.Title, err)
		}
		if _, err := g.CollectTamper(mt); err != nil {
			return fmt.Errorf("collect tamper events of %s: %w", m.Title, err)
		}
		for r := 0; read && r < o.reads; r++ {
			if _, err := g.ReadNow(mt); err != nil {
				return fmt.Errorf("read %s: %w", m.Title, err)
			}
		}
		if fw != nil {
			// The meter's legally relevant core decides; a refusal (bad
			// manifest, failed self-test) is an outcome, not a failure.
			fmt.Fprintf(stdout, "firmware %s campaign %d: transfer\n", m.Title, fw.Campaign)
			switch err := g.Firmware(mt, fw.Campaign, fw.Manifest, fw.Image); {
			case err == nil:
				fmt.Fprintf(stdout, "firmware %s campaign %d: installed\n", m.Title, fw.Campaign)
			case errors.Is(err, gateway.ErrMeterRefus):
				fmt.Fprintf(stdout, "firmware %s campaign %d: refused: %v\n", m.Title, fw.Campaign, err)
			default:
				return fmt.Errorf("firmware %s: %w", m.Title, err)
			}
		}
	}
	verifyHeadEnd := func(c *x509.Certificate) error { return val.Check(c, protocol.RoleHeadEnd, time.Now()) }
	addr, err := liveHeadEnd(addrFiles, cert, verifyHeadEnd, stdout)
	if err != nil {
		return err
	}
	up := gateway.NewHTTPSUplink(addr, cert, verifyHeadEnd)
	up.SetTimeout(o.timeout)
	if wake != nil {
		// A wake-up refused (or not made durable) ends the run before any
		// call: the gateway calls the head-end only when it asked.
		if err := g.AcceptWakeUp(wake.signed, wake.key); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: wake-up accepted\n", f.Name)
	}
	// Readings operators asked for (UC3) are taken now, so that this
	// run's forward carries them.
	reads, err := takeRequestedReads(g, up, stdout)
	if err != nil {
		return err
	}
	var fwd gateway.Forwarded
	if o.retryFor == 0 {
		fwd.Items, fwd.Result, err = g.Flush(context.Background(), up, o.batch)
	} else {
		fwd, err = g.Forward(context.Background(), up, o.batch, gateway.Backoff{Min: 20 * time.Millisecond, Max: 2 * time.Second, For: o.retryFor})
	}
	if err != nil {
		return err
	}
	if err := relayDataAcks(g, f.Meters, stdout); err != nil {
		return err
	}
	if err := reportReads(g, up, reads, stdout); err != nil {
		return err
	}
	if err := forwardTamper(g, up, f.Meters, stdout); err != nil {
		return err
	}
	if err := pickUpCampaigns(g, up, f.Meters, o.retryFor, stdout); err != nil {
		return err
	}
	if err := relayCommands(g, up, stdout); err != nil {
		return err
	}
	reportRefusals(stdout, f.Name, g.Refused.Total(), g.Refused.ByClass(), g.Refused.Last())
	res := fwd.Result
	fmt.Fprintf(stdout, "%s: %d meters commissioned, %d items forwarded: %d stored, %d duplicates, %d intervals, %d rejected, %d WAN faults retried; %d items and %d tamper events still queued\n",
		f.Name, len(f.Meters), fwd.Items, res.Stored, res.Duplicates, res.Intervals, len(res.Rejected), fwd.Faults, g.Queue().Len(), g.TamperQueued())
	if len(res.Rejected) > 0 {
		return fmt.Errorf("head-end rejected %d items: %v", len(res.Rejected), res.Rejected[0])
	}
	return nil
}

// readAddrs reads the head-end addresses the files name (headend serve
// writes its address file when it listens), in order, skipping files not
// written yet; none written is an error.
func readAddrs(files []string) ([]string, error) {
	var addrs []string
	var errs []error
	for _, p := range files {
		b, err := os.ReadFile(p)
		switch a := strings.TrimSpace(string(b)); {
		case err != nil:
			errs = append(errs, err)
		case a == "":
			errs = append(errs, fmt.Errorf("%s: empty", p))
		default:
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no head-end address: %w", errors.Join(errs...))
	}
	return addrs, nil
}

// liveHeadEnd returns the first head-end, in the configuration's order,
// that completes a TLS handshake with the gateway's certificate and shows
// a head-end certificate: the head-ends of a scaled-out deployment share
// one database, so any live one takes the gateway's whole run. A head-end
// skipped is printed. With one head-end, or when none answers, it is the
// first: the forward's own retries (-retry-for) then ride out a WAN fault.
func liveHeadEnd(files []string, cert tls.Certificate, verify func(*x509.Certificate) error, stdout io.Writer) (string, error) {
	addrs, err := readAddrs(files)
	if err != nil {
		return "", err
	}
	if len(addrs) == 1 {
		return addrs[0], nil
	}
	for _, a := range addrs {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
			InsecureSkipVerify: true, // the chain and role are checked by verify against the SM-PKI roots, as the uplink does
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("no certificate")
				}
				return verify(cs.PeerCertificates[0])
			}}}
		c, err := d.Dial("tcp", a)
		if err != nil {
			fmt.Fprintf(stdout, "head-end %s unreachable: %v\n", a, err)
			continue
		}
		c.Close()
		return a, nil
	}
	fmt.Fprintf(stdout, "no head-end answers; trying %s\n", addrs[0])
	return addrs[0], nil
}

// reportRefusals prints what the gateway refused from its meters during
// the run, for the engineer reading the run's output: the count in each
// class (the same classes `-metrics` exports) and the errors of the last
// refusals the gateway kept (at most gateway.MaxRefusalsKept), oldest
// first. A run that refused nothing prints nothing.
func reportRefusals(w io.Writer, name string, total int, byClass [wan.NumRejectClasses]uint64, last []error) {
	if total == 0 {
		return
	}
	var classes []string
	for c, n := range byClass {
		if n > 0 {
			classes = append(classes, fmt.Sprintf("%s %d", wan.RejectClass(c), n))
		}
	}
	fmt.Fprintf(w, "%s: refused %d APDUs from meters (%s); the last %d of at most %d kept:\n",
		name, total, strings.Join(classes, ", "), len(last), gateway.MaxRefusalsKept)
	for _, err := range last {
		fmt.Fprintf(w, "  refused: %v\n", err)
	}
}

// tapWriter records every secured APDU on the medium as a JSON line (who
// sealed it under which session key, its invocation counter, a hash of the
// bytes), so the crash campaign can prove no (key, nonce) pair sealed two
// different APDUs.
func tapWriter(g *gateway.Gateway, w io.Writer) gateway.Tap {
	return func(meter protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
		if len(apdu) == 0 || apdu[0] == protocol.TagKeyAgreement {
			return
		}
		key, ok := g.SessionKeyID(meter)
		h, _, err := protocol.ParseSecured(apdu)
		if !ok || err != nil {
			return
		}
		sender := "gateway"
		if dir == gateway.Up {
			sender = "meter"
		}
		sum := sha256.Sum256(apdu)
		fmt.Fprintf(w, "{\"meter\":\"%x\",\"sender\":\"%s\",\"key\":\"%x\",\"ctr\":%d,\"sha\":\"%x\"}\n", meter, sender, key, h.Counter, sum[:8])
	}
}
