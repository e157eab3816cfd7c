//go:build !device

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/wan"
)

func init() {
	register(command{name: "demo", summary: "the whole system in one process: meters, gateways on simulated PLC, head-end, market, attacker; prints a report", run: runDemo})
}

// maxMetersPerGateway is what one PLC segment serves in the demo: the HDLC
// lower addresses 0x10..0xFD of one gateway (and within the 25 % airtime
// budget of plc/README.md for S-FSK).
const maxMetersPerGateway = 238

// persistentMeters is how many meters of a demo keep their state in files.
const persistentMeters = 1000

// demoConfig sizes a demo run.
type demoConfig struct {
	Meters, Gateways, Days int
	Seed                   uint64
	DB                     string // SQLite path; "" for a temporary one
	Trace                  io.Writer
	Progress               io.Writer
	// BreakSignature alters one stored signature after ingest (the test's
	// broken variant): the verification check must turn red.
	BreakSignature bool
	// Export, when set, is a directory to write a sample of signed data for
	// `verimeter verify`: root.pem, certs.pem, readings and interval proofs.
	Export string
	// SpecTrace, when set, is a directory where the head-end, gateways and
	// meters log the steps of their generated machines (one group of logs
	// per meter), which the demo then validates against the spec.
	SpecTrace string
	// ReportDir receives the detail of each failing check (-report-dir).
	ReportDir string
	// DuplicateBlock copies one stored block under another counter behind
	// the head-end's back (the test's broken variant): the duplicates row
	// must count it.
	DuplicateBlock bool
}

// demoUsage is the demo's synopsis; TestUsageMatchesFlags keeps it in
// step with the flags.
const demoUsage = "usage: verimeter demo [-meters N] [-gateways N] [-days N] [-seed N] [-db FILE] [-trace FILE] [-spec-trace DIR] [-export DIR] [-report-dir DIR]"

// errDemoUsage is a bad size for the demo: exit status 2, the flag named.
var errDemoUsage = errors.New("bad size")

func demoFlags(cfg *demoConfig, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, demoUsage)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Meters, "meters", 200, "number of meters (at least 1)")
	fs.IntVar(&cfg.Gateways, "gateways", 4, "number of gateways, one PLC segment each (1 to -meters)")
	fs.IntVar(&cfg.Days, "days", 1, "days of 15-minute readings (at least 1)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of consumption, medium and attacker")
	fs.StringVar(&cfg.DB, "db", "", "head-end database: a SQLite file, or postgres://... for an empty PostgreSQL database (default: a temporary SQLite file)")
	trace := fs.String("trace", "", "write an NDJSON trace of every APDU on the medium to this file")
	fs.StringVar(&cfg.SpecTrace, "spec-trace", "", "keep the logs of the roles' steps (which the demo validates against the spec) in this directory, for verimeter trace-check")
	fs.StringVar(&cfg.Export, "export", "", "write a sample of signed readings and interval proofs, with the root and certificates, to this directory (for verimeter verify)")
	fs.StringVar(&cfg.ReportDir, "report-dir", "", "write the detail of each failing check to a file in this directory (default: a new temporary directory, named in the report)")
	return fs, trace
}

// validate checks a configuration's sizes; the error names the flag.
func (cfg demoConfig) validate() error {
	switch {
	case cfg.Meters < 1:
		return fmt.Errorf("%w: -meters %d: at least 1 meter", errDemoUsage, cfg.Meters)
	case cfg.Gateways < 1:
		return fmt.Errorf("%w: -gateways %d: at least 1 gateway", errDemoUsage, cfg.Gateways)
	case cfg.Gateways > cfg.Meters:
		return fmt.Errorf("%w: -gateways %d exceeds -meters %d: every gateway's PLC segment needs a meter", errDemoUsage, cfg.Gateways, cfg.Meters)
	case cfg.Days < 1:
		return fmt.Errorf("%w: -days %d: at least 1 day", errDemoUsage, cfg.Days)
	}
	return nil
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	var cfg demoConfig
	fs, trace := demoFlags(&cfg, stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "verimeter demo: unexpected argument %q (the demo takes flags only)\n%s\n", fs.Arg(0), demoUsage)
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n%s\n", err, demoUsage)
		return 2
	}
	if need := (cfg.Meters + maxMetersPerGateway - 1) / maxMetersPerGateway; cfg.Gateways < need {
		fmt.Fprintf(stderr, "verimeter demo: %d meters need %d gateways (a PLC segment serves at most %d); using %d\n", cfg.Meters, need, maxMetersPerGateway, need)
		cfg.Gateways = need
	}
	// The progress bar redraws one line with carriage returns: only a
	// terminal shows it as a bar, a log file or a pipe would fill up.
	if isTerminal(stderr) {
		cfg.Progress = stderr
	}
	if *trace != "" {
		f, err := os.Create(*trace)
		if err != nil {
			fmt.Fprintf(stderr, "verimeter demo: -trace: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Trace = f
	}
	rep, err := runScenario(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	if err := rep.writeDetails(); err != nil {
		fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
		return 1
	}
	rep.write(stdout)
	if !rep.ok() {
		fmt.Fprintf(stderr, "verimeter demo: some checks failed; details in %s\n", rep.dir)
		return 1
	}
	return 0
}

// world is everything the scenario builds.
type world struct {
	failSelfTest protocol.SystemTitle // the meter whose self-test fails (the firmware step's rollback)
	cfg          demoConfig
	rng          *mrand.Rand
	t0           time.Time
	now          time.Time
	dir          string
	dbPath       string // the head-end's database (SQLite file or postgres:// URL)
	root         *protocol.CA
	subs         map[string]*protocol.CA
	he           *headend.HeadEnd
	store        *headend.Store
	heKey        *ecdsa.PrivateKey
	logKey       *ecdsa.PrivateKey // signs the transparency log's tree heads
	logCert      *x509.Certificate
	op           *ecdsa.PrivateKey // trust-list signer
	alice        headend.Approver
	bob          headend.Approver
	parts        map[string]*x509.Certificate
	partKey      map[string]*ecdsa.PrivateKey
	man          protocol.ManifestSigner
	auth         protocol.ManifestSigner
	gws          []*gwNode
	meters       []*meterNode
	verify       *protocol.Verifier // an outsider's verifier: PKI roots and certificates only
	wanDown      map[string]bool
	clock        statemachine.LamportClock
	rec          *statemachine.Recorder
	traces       *statemachine.TraceDir // -spec-trace
	// samples for -export
	readings [][]byte
	proofs   []protocol.IntervalProof
}

type gwNode struct {
	name string
	cfg  gateway.Config
	g    *gateway.Gateway
	seg  *gateway.Segment
	dir  string
}

type meterNode struct {
	cfg        meter.Config
	m          *meter.Meter
	gw         *gwNode
	addr       uint8
	channelPub *ecdsa.PublicKey
	cert       *x509.Certificate
	switched   bool // changes supplier at noon of day 0
	supplier   string
}

// uplink is the in-process WAN between a gateway and the head-end; it can
// be down.
type uplink struct{ w *world }

func (u uplink) Ingest(ctx context.Context, gw string, items []wan.Item) (wan.IngestResult, error) {
	if u.w.wanDown[gw] {
		return wan.IngestResult{}, gateway.ErrWANDown
	}
	return u.w.he.Ingest(ctx, gw, items)
}

func key() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func spkiOf(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return b
}

func (w *world) progress(done, total int, what string) {
	if w.cfg.Progress == nil {
		return
	}
	const width = 30
	n := done * width / max(total, 1)
	fmt.Fprintf(w.cfg.Progress, "\r[%s%s] %3d%% %-40s", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/max(total, 1), what)
}

// runScenario runs the demo's steps in the README's order and returns the
// report: its rows and the figures they judge. A step that cannot go on
// (a role's I/O fails) ends the run with a failing row naming the step,
// and the rows so far stay.
func runScenario(cfg demoConfig) (*demoReport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "verimeter-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w := &world{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0xde70)), dir: dir, subs: map[string]*protocol.CA{}, parts: map[string]*x509.Certificate{}, partKey: map[string]*ecdsa.PrivateKey{}, wanDown: map[string]bool{}}
	// The first day starts at midnight UTC; time is virtual.
	w.t0 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	w.now = w.t0
	if cfg.Trace != nil {
		w.rec = statemachine.NewRecorder(cfg.Trace)
	}
	rep := &demoReport{dir: cfg.ReportDir}
	rep.fig.Meters, rep.fig.Gateways, rep.fig.Days = cfg.Meters, cfg.Gateways, cfg.Days
	if err := w.setupPKI(); err != nil {
		return nil, fmt.Errorf("PKI: %w", err)
	}
	// The roles always log the steps of their generated machines, and the
	// demo validates them against the spec; -spec-trace keeps the logs.
	keep := cfg.SpecTrace != ""
	if !keep {
		cfg.SpecTrace = filepath.Join(dir, "spec-trace")
		w.cfg.SpecTrace = cfg.SpecTrace
	}
	if w.traces, err = statemachine.NewTraceDir(cfg.SpecTrace); err != nil {
		return nil, err
	}
	if err := w.setupRoles(); err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	defer w.close()
	steps := []struct {
		step string
		run  func(*demoReport) error
	}{
		{stepPKI, w.checkPKI},
		{stepCommission, w.commission},
		{stepReadings, w.runDays},
		{stepFirmware, w.firmware},
		{stepAttacker, w.attacks},
		{stepTamper, w.tamper},
		{stepOperator, w.operatorChange},
		{stepMarket, w.market},
		{stepMarket, w.commandsPolicy},
	}
	for _, s := range steps {
		if err := s.run(rep); err != nil {
			rep.add(s.step, "step ran to its end", false, "stopped", "every step runs", err.Error())
			w.clearProgress()
			return rep, nil
		}
	}
	if err := w.traces.Close(); err != nil {
		return nil, fmt.Errorf("spec traces: %w", err)
	}
	t0 := time.Now()
	results, _ := validateSpecTraces(cfg.SpecTrace)
	rep.info = append(rep.info, fmt.Sprintf("trace validation: %s of %s checked in %.1f s on %d cores", plural(results.total().Steps, "step"), plural(results.total().Groups, "group"), time.Since(t0).Seconds(), runtime.GOMAXPROCS(0)))
	total := results.total()
	rep.fig.TraceSteps, rep.fig.TraceLogs, rep.fig.TraceGroups = total.Steps, total.Logs, total.Groups
	where := "-spec-trace DIR keeps the logs"
	if keep {
		where = "logs in " + cfg.SpecTrace
	}
	for _, res := range results {
		check := fmt.Sprintf("%s steps are a behaviour of spec/%s.tla", res.Who, res.Module)
		if res.Err != nil {
			rep.add(stepTrace, check, false,
				fmt.Sprintf("%s explained, then a step no behaviour explains", plural(res.Steps, "step")), "every logged step explained", res.Err.Error())
		} else {
			rep.add(stepTrace, check, res.Steps > 0,
				fmt.Sprintf("traces explained: %s in %s of %s (%s)", plural(res.Steps, "step"), plural(res.Logs, "log"), plural(res.Groups, "meter"), where),
				"every logged step explained, > 0 steps", "")
		}
	}
	if keep {
		rep.info = append(rep.info, "check one meter's logs again: verimeter trace-check -max-hidden 0 -spec spec/Commands.tla -config spec/trace/Commands.cfg "+filepath.Join(cfg.SpecTrace, "commands", "<meter>", "*.ndjson"),
			"and its channel: verimeter trace-check -max-hidden 0 -spec spec/Channel.tla -config spec/trace/Channel.cfg "+filepath.Join(cfg.SpecTrace, "channel", "<meter>", "*.ndjson"),
			"and its collection: verimeter trace-check -max-hidden 1 -spec spec/Collection.tla -config spec/trace/Collection.cfg "+filepath.Join(cfg.SpecTrace, "collection", "<meter>", "*.ndjson"),
			"and its firmware: verimeter trace-check -max-hidden 0 -spec spec/Firmware.tla -config spec/trace/Firmware.cfg "+filepath.Join(cfg.SpecTrace, "firmware", "<meter>", "meter.ndjson"),
			"and its tamper events: verimeter trace-check -max-hidden 0 -spec spec/Tamper.tla -config spec/trace/Tamper.cfg "+filepath.Join(cfg.SpecTrace, "tamper", "<meter>", "*.ndjson"))
	}
	if cfg.Export != "" {
		if err := w.export(cfg.Export); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		rep.info = append(rep.info, fmt.Sprintf("exported %d readings and %d interval proofs to %s: verimeter verify -roots %s -certs %s %s",
			len(w.readings), len(w.proofs), cfg.Export, filepath.Join(cfg.Export, "root.pem"), filepath.Join(cfg.Export, "certs.pem"), filepath.Join(cfg.Export, "*.cbor")))
	}
	w.clearProgress()
	rep.info = append(rep.info, fmt.Sprintf("%d meters (%d with state on disk), %d gateways, %d day(s), seed %d, %.1f s wall time", cfg.Meters, min(cfg.Meters, persistentMeters), cfg.Gateways, cfg.Days, cfg.Seed, time.Since(start).Seconds()))
	return rep, nil
}

// clearProgress blanks the progress bar's line before the report.
func (w *world) clearProgress() {
	if w.cfg.Progress != nil {
		fmt.Fprintf(w.cfg.Progress, "\r%-80s\r", "")
	}
}

func (w *world) close() {
	for _, m := range w.meters {
		m.m.Close()
	}
	for _, g := range w.gws {
		g.g.Close()
	}
	if w.store != nil {
		w.store.Close()
	}
}

func (w *world) setupPKI() error {
	var err error
	// The same hierarchy as `pki init` and provision (protocol/PKI.md).
	h, err := protocol.NewHierarchy(w.t0.Add(-24*time.Hour), func() (*ecdsa.PrivateKey, error) { return key(), nil }, rand.Reader)
	if err != nil {
		return err
	}
	w.root = h.Root
	for name, ca := range h.Subs {
		w.subs[name] = ca
	}
	w.heKey, w.op = key(), key()
	issue := func(ca, cn string, role protocol.Role, k *ecdsa.PrivateKey) (*x509.Certificate, error) {
		return w.subs[ca].Issue(protocol.Identity{CommonName: cn}, []protocol.Role{role}, &k.PublicKey, w.t0.Add(-time.Hour), protocol.ParticipantValidity)
	}
	if _, err := issue("head-end-operator", "head-end", protocol.RoleHeadEnd, w.heKey); err != nil {
		return err
	}
	w.logKey = key()
	if w.logCert, err = issue("head-end-operator", "head-end transparency log", protocol.RoleHeadEnd, w.logKey); err != nil {
		return err
	}
	for _, name := range []string{"operator alice", "operator bob"} {
		c, err := issue("head-end-operator", name, protocol.RoleHeadEnd, key())
		if err != nil {
			return err
		}
		if name == "operator alice" {
			w.alice = headend.Approver{Name: name, Cert: c}
		} else {
			w.bob = headend.Approver{Name: name, Cert: c}
		}
	}
	for _, p := range []struct {
		name string
		role protocol.Role
	}{{"supplier Nordstrom", protocol.RoleSupplier}, {"supplier Suedwind", protocol.RoleSupplier}, {"supplier Lapsed", protocol.RoleSupplier}, {"grid operator Netz", protocol.RoleGridOperator}} {
		k := key()
		c, err := issue("market-participant", p.name, p.role, k)
		if err != nil {
			return err
		}
		w.parts[p.name], w.partKey[p.name] = c, k
	}
	w.man = protocol.ManifestSigner{KeyID: []byte("manufacturer VM"), Key: key()}
	w.auth = protocol.ManifestSigner{KeyID: []byte("metrology authority"), Key: key()}
	return nil
}

func (w *world) setupRoles() error {
	var err error
	dbPath := w.cfg.DB
	if dbPath == "" {
		dbPath = filepath.Join(w.dir, "headend.db")
	}
	w.dbPath = dbPath
	if strings.HasPrefix(dbPath, "postgres://") || strings.HasPrefix(dbPath, "postgresql://") {
		w.store, err = headend.OpenPostgres(dbPath)
	} else {
		w.store, err = headend.OpenStore(dbPath)
	}
	if err != nil {
		return err
	}
	// "Supplier Lapsed" loses its accreditation at noon of the first day.
	crl, err := w.subs["market-participant"].NewCRL([]protocol.Revocation{{Serial: w.parts["supplier Lapsed"].SerialNumber, RevokedAt: w.t0.Add(12 * time.Hour), InvalidAt: w.t0.Add(12 * time.Hour), ReasonCode: 9}}, 1, w.t0.Add(12*time.Hour), w.t0.Add(30*24*time.Hour))
	if err != nil {
		return err
	}
	var subCerts []*x509.Certificate
	names := make([]string, 0, len(w.subs))
	for n := range w.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		subCerts = append(subCerts, w.subs[n].Cert)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{w.root.Cert}, subCerts, []*x509.RevocationList{crl})
	if err != nil {
		return err
	}
	// Gateways.
	for i := range w.cfg.Gateways {
		name := fmt.Sprintf("gw-%02d", i)
		gdir := filepath.Join(w.dir, name)
		if err := os.MkdirAll(gdir, 0o700); err != nil {
			return err
		}
		seg := gateway.NewSegment(plc.SFSK, 2, 0.02, w.cfg.Seed+uint64(i), w.t0)
		n := &gwNode{name: name, seg: seg, dir: gdir}
		n.cfg = gateway.Config{Name: name, Title: protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, byte(i >> 8), byte(i)}, ChannelKey: key(), Dir: gdir, Rand: rand.Reader, Segment: seg, Trace: w.traces}
		if n.g, err = gateway.New(n.cfg); err != nil {
			return err
		}
		if _, err := w.subs["gateway-operator"].Issue(protocol.DeviceIdentity(n.cfg.Title, ""), []protocol.Role{protocol.RoleGateway}, &n.cfg.ChannelKey.PublicKey, w.t0.Add(-time.Hour), protocol.DeviceValidity); err != nil {
			return err
		}
		if w.rec != nil {
			nodeName := name
			seg.Tap = func(m protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
				c, _ := w.clock.Tick()
				act := "down"
				if dir == gateway.Up {
					act = "up"
				}
				w.rec.Record("plc", nodeName, c, act, map[string]any{"meter": fmt.Sprintf("%x", m), "bytes": len(apdu), "tag": apdu[0]}, map[string]any{"airtime_ms": seg.Medium().TotalAirtime().Milliseconds()})
			}
		}
		w.gws = append(w.gws, n)
	}
	// Meters.
	var signingCerts []*x509.Certificate
	for i := range w.cfg.Meters {
		g := w.gws[i%len(w.gws)]
		title := protocol.SystemTitle{'V', 'M', 'R', 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		sk, ck := key(), key()
		cert, err := w.subs["manufacturer"].Issue(protocol.DeviceIdentity(title, "Nord"), []protocol.Role{protocol.RoleMeterSigning}, &sk.PublicKey, w.t0.Add(-24*time.Hour), protocol.DeviceValidity)
		if err != nil {
			return err
		}
		signingCerts = append(signingCerts, cert)
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 1, Issued: w.t0.Unix(), Meter: title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spkiOf(g.cfg.ChannelKey)}, {Role: protocol.RoleHeadEnd, SPKI: spkiOf(w.heKey)}}}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		// Meters persist their state to disk like devices do; beyond
		// persistentMeters the simulation keeps it in memory (two open
		// files per meter would exhaust the process's descriptors).
		mdir := ""
		if i < persistentMeters {
			mdir = filepath.Join(w.dir, fmt.Sprintf("meter-%05d", i))
			if err := os.MkdirAll(mdir, 0o700); err != nil {
				return err
			}
		}
		mc := meter.Config{Title: title, Model: "VM-E3", SigningKey: sk, ChannelKey: ck, Operator: &w.op.PublicKey, TrustList: tl,
			Manufacturers: map[string]*ecdsa.PublicKey{string(w.man.KeyID): &w.man.Key.PublicKey},
			Authorities:   map[string]*ecdsa.PublicKey{string(w.auth.KeyID): &w.auth.Key.PublicKey},
			Factory:       meter.Slot{Version: 4, SecurityVersion: 2, LR: []byte("VM-E3 legally relevant code v4"), Other: []byte("VM-E3 communication stack v4")},
			Dir:           mdir, Seed: w.cfg.Seed*1_000_003 + uint64(i), Rand: rand.Reader, Trace: w.traces,
			SelfTest: func([]byte) error {
				if w.failSelfTest == title {
					return errors.New("calibration table checksum mismatch")
				}
				return nil
			}}
		m, err := meter.New(mc)
		if err != nil {
			return err
		}
		node := &meterNode{cfg: mc, m: m, gw: g, addr: byte(16 + i/len(w.gws)), channelPub: &ck.PublicKey, cert: cert}
		if err := g.seg.Attach(title, node.addr, m); err != nil {
			return err
		}
		w.meters = append(w.meters, node)
		w.progress(i+1, w.cfg.Meters, "manufacturing meters")
	}
	dirM, err := protocol.NewMeterDirectory(val, signingCerts)
	if err != nil {
		return err
	}
	w.he = headend.New(headend.Config{Store: w.store, Meters: dirM, Validator: val, Key: w.heKey, LogKey: w.logKey, Now: func() time.Time { return w.now }, Rand: rand.Reader, Trace: w.traces})
	// An outsider (a customer, a court) verifies with the roots and the
	// meters' certificates only: a separate directory from the same PKI.
	outsider, err := protocol.NewMeterDirectory(val, signingCerts)
	if err != nil {
		return err
	}
	w.verify = protocol.NewVerifier(outsider)
	return nil
}

// checkPKI checks every certificate the deployment holds as a standard
// client would: crypto/x509's own verification, with the root as the only
// trust anchor and the sub-CAs as intermediates.
func (w *world) checkPKI(rep *demoReport) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(w.root.Cert)
	certs := []*x509.Certificate{w.root.Cert}
	names := make([]string, 0, len(w.subs))
	for n := range w.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		inter.AddCert(w.subs[n].Cert)
		certs = append(certs, w.subs[n].Cert)
	}
	parts := make([]string, 0, len(w.parts))
	for n := range w.parts {
		parts = append(parts, n)
	}
	sort.Strings(parts)
	for _, n := range parts {
		certs = append(certs, w.parts[n])
	}
	certs = append(certs, w.alice.Cert, w.bob.Cert)
	for _, n := range w.meters {
		certs = append(certs, n.cert)
	}
	var failed []string
	for _, c := range certs {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: w.t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.Subject, err))
			continue
		}
		rep.fig.CertsChained++
	}
	rep.fig.CertsChecked = len(certs)
	rep.add(stepPKI, "certificates chain to the root (crypto/x509, root as only anchor)", rep.fig.CertsChained == len(certs),
		fmt.Sprintf("%d of %d certificates: root, %d sub-CAs, %d participants, 2 operators, %s", rep.fig.CertsChained, len(certs), len(names), len(parts), plural(len(w.meters), "meter")),
		fmt.Sprintf("all %d", len(certs)), strings.Join(failed, "\n"))
	return nil
}

// commission runs UC1 for every meter (a signed ephemeral ECDH key
// agreement with its gateway over the PLC segment) and enters the
// contracts.
func (w *world) commission(rep *demoReport) error {
	var air time.Duration
	for _, g := range w.gws {
		air -= g.seg.Medium().TotalAirtime()
	}
	var failed []string
	for i, n := range w.meters {
		if err := n.gw.g.Commission(n.cfg.Title, n.channelPub); err != nil {
			failed = append(failed, fmt.Sprintf("meter %x: %v", n.cfg.Title, err))
			continue
		}
		rep.fig.Commissioned++
		n.supplier = "supplier Nordstrom"
		if i%2 == 1 {
			n.supplier = "supplier Suedwind"
		}
		if i == 2 {
			n.supplier = "supplier Lapsed"
		}
		// Every tenth meter switches supplier at noon (meter 0 always, so
		// that one meter is enough for the step).
		n.switched = i%10 == 0 && i != 2
		end := w.t0.Add(time.Duration(w.cfg.Days) * 24 * time.Hour)
		if err := w.store.AddContract(n.supplier, protocol.RoleSupplier, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		if err := w.store.AddContract("grid operator Netz", protocol.RoleGridOperator, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		w.progress(i+1, len(w.meters), "commissioning (signed key agreement)")
	}
	for _, g := range w.gws {
		air += g.seg.Medium().TotalAirtime()
	}
	rep.add(stepCommission, "meters commissioned by their gateway (signed ECDH key agreement)", rep.fig.Commissioned == len(w.meters),
		fmt.Sprintf("%d of %d meters on %s, %.0f s airtime", rep.fig.Commissioned, len(w.meters), plural(len(w.gws), "segment"), air.Seconds()),
		fmt.Sprintf("all %d", len(w.meters)), strings.Join(failed, "\n"))
	if len(failed) > 0 {
		return fmt.Errorf("%d meters not commissioned", len(failed))
	}
	return nil
}

func day0(t time.Time) int64 { return t.Unix() / 86400 }

// runDays runs the days of readings (step 3) and their collection
// overnight (step 4).
func (w *world) runDays(rep *demoReport) error {
	ctx := context.Background()
	f := &rep.fig
	f.IngestRejected, f.WakeUpRefused = map[string]int{}, map[string]int{}
	airStart := make([]time.Duration, len(w.gws))
	for i, g := range w.gws {
		airStart[i] = g.seg.Medium().TotalAirtime()
	}
	var ingestTime time.Duration
	var ingested, ivs int
	var rejected []string
	tariffs := w.meters[:min(5, len(w.meters))]
	f.TariffTargets = len(tariffs)
	var resend []wan.Item
	for d := range w.cfg.Days {
		day := day0(w.t0) + int64(d)
		for i := range 96 {
			w.now = w.t0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*15*time.Minute)
			for _, n := range w.meters {
				if _, err := n.m.Measure(day, i); err != nil {
					return err
				}
				f.ReadingsTaken++
			}
			if d == 0 && i == 48 {
				// Noon: every tenth meter switches supplier (UC6).
				for _, n := range w.meters {
					if !n.switched {
						continue
					}
					if err := w.store.SwitchSupplier(n.cfg.Title, "supplier Suedwind", w.now, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)); err != nil {
						return err
					}
					f.SwitchedMeters++
				}
				// An on-demand read for a customer's move-out (UC3).
				n := w.meters[0]
				r, err := n.gw.g.ReadNow(n.cfg.Title)
				if err != nil {
					return fmt.Errorf("on-demand read: %w", err)
				}
				w.readings = append(w.readings, r)
				f.OnDemandReads++
			}
			if i == 64 {
				// A tariff change for the evening peak (UC4), signed by the
				// head-end, run once by each meter.
				for _, n := range tariffs {
					c, err := w.he.IssueCommand(headend.Approver{Name: "supplier Nordstrom", Cert: w.parts["supplier Nordstrom"]}, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdTariff, Tariff: 2})
					if err != nil {
						return fmt.Errorf("tariff: %w", err)
					}
					if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
						return fmt.Errorf("tariff on %x: %w", n.cfg.Title, err)
					}
				}
			}
			w.progress(d*96+i+1, w.cfg.Days*96, fmt.Sprintf("day %d, %02d:%02d", d+1, i/4, i%4*15))
		}
		// Collection overnight (UC2). Gateway 0's WAN is down during its
		// first flush; gateway 1 (gateway 0 when it is the only one)
		// restarts after collecting.
		w.now = w.t0.Add(time.Duration(d+1)*24*time.Hour + 30*time.Minute)
		for gi, g := range w.gws {
			for _, n := range w.meters {
				if n.gw != g {
					continue
				}
				if err := g.g.CollectDay(n.cfg.Title, day); err != nil {
					return fmt.Errorf("collect %x: %w", n.cfg.Title, err)
				}
			}
			w.progress(gi+1, len(w.gws), "collecting load-profile blocks")
		}
		if d == 0 {
			// One batch of the last gateway will reach the head-end twice,
			// as after a crash between the head-end's commit and the
			// gateway's acknowledgement.
			resend = append(resend, w.gws[len(w.gws)-1].g.Queue().Pending(20)...)
			w.wanDown[w.gws[0].name] = true
			if _, _, err := w.gws[0].g.Flush(ctx, uplink{w}, 500); !errors.Is(err, gateway.ErrWANDown) {
				return fmt.Errorf("flush with the WAN down: %w", err)
			}
			f.QueuedDuringOutage = w.gws[0].g.Queue().Len()
			// A gateway restarts: its queue comes back from disk.
			g := w.gws[min(1, len(w.gws)-1)]
			f.QueueBeforeRestart = g.g.Queue().Len()
			if err := w.restartGateway(g); err != nil {
				return err
			}
			f.QueueAfterRestart = g.g.Queue().Len()
		}
		w.wanDown[w.gws[0].name] = false
		if d == 0 {
			// The WAN is back: the head-end wakes gateway 0 with a signed
			// wake-up (the gateway never listens on the WAN); a replay of it
			// and one signed by an attacker are refused.
			g0 := w.gws[0]
			wake, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: g0.cfg.Title, Kind: protocol.CmdWakeUp})
			if err != nil {
				return err
			}
			t := time.Now()
			n, res, err := g0.g.WakeUp(ctx, wake, &w.heKey.PublicKey, uplink{w})
			if err != nil {
				return fmt.Errorf("wake-up: %w", err)
			}
			ingestTime += time.Since(t)
			ingested += n
			f.DeliveredAfterWakeUp = n
			ivs += res.Intervals
			for _, e := range res.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
			_, _, replayErr := g0.g.WakeUp(ctx, wake, &w.heKey.PublicKey, uplink{w})
			forgedWake, _ := protocol.SignCommand(protocol.Command{Meter: g0.cfg.Title, Counter: 1 << 40, Kind: protocol.CmdWakeUp}, key(), protocol.SubjectKeyID(&w.heKey.PublicKey), rand.Reader)
			_, _, forgedErr := g0.g.WakeUp(ctx, forgedWake, &w.heKey.PublicKey, uplink{w})
			tally(f.WakeUpRefused, replayErr, gateway.ErrWakeUp)
			tally(f.WakeUpRefused, forgedErr, gateway.ErrWakeUp)
		}
		for _, g := range w.gws {
			t := time.Now()
			n, res, err := g.g.Flush(ctx, uplink{w}, 500)
			if err != nil {
				return fmt.Errorf("flush %s: %w", g.name, err)
			}
			ingestTime += time.Since(t)
			ingested += n
			ivs += res.Intervals
			for _, e := range res.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
		}
		if len(resend) > 0 && d == 0 {
			r2, err := w.he.Ingest(ctx, w.gws[len(w.gws)-1].name, resend)
			if err != nil {
				return err
			}
			f.ResentRecognised = r2.Duplicates
			for _, e := range r2.Rejected {
				f.IngestRejected[reasonClass(e)]++
				rejected = append(rejected, e.Error())
			}
		}
	}
	for _, n := range tariffs {
		if n.m.Tariff() == 2 {
			f.TariffMeters++
		}
	}
	if w.cfg.DuplicateBlock {
		if err := w.duplicateOneBlock(); err != nil {
			return err
		}
	}
	var err error
	if f.ItemsStored, f.IntervalsStored, err = w.store.Counts(); err != nil {
		return err
	}
	if w.cfg.BreakSignature {
		if err := w.breakOneSignature(); err != nil {
			return err
		}
	}
	var verifyFailures []string
	if f.SignaturesVerified, f.SignaturesBad, f.DuplicateIntervals, verifyFailures, err = w.verifyStored(); err != nil {
		return err
	}
	for i, g := range w.gws {
		air := g.seg.Medium().TotalAirtime() - airStart[i]
		meters := 0
		for _, n := range w.meters {
			if n.gw == g {
				meters++
			}
		}
		f.Airtime = append(f.Airtime, segmentAirtime{Segment: g.name, Meters: meters, Airtime: air.Seconds(),
			Utilisation: air.Seconds() / (float64(w.cfg.Days) * 86400)})
	}

	// Step 3: the day of readings.
	want := len(w.meters) * 96 * w.cfg.Days
	rep.add(stepReadings, "quarter-hour readings taken", f.ReadingsTaken == want,
		plural(f.ReadingsTaken, "interval"), fmt.Sprintf("%d meters x 96 x %s = %d", len(w.meters), plural(w.cfg.Days, "day"), want), "")
	rep.add(stepReadings, "supplier switch at noon (UC6)", f.SwitchedMeters >= 1,
		plural(f.SwitchedMeters, "meter"), "every tenth meter, at least 1", "")
	rep.add(stepReadings, "on-demand read for a move-out (UC3)", f.OnDemandReads == 1,
		plural(f.OnDemandReads, "signed reading"), "1", "")
	rep.add(stepReadings, "tariff command at 16:00 (UC4)", f.TariffMeters == f.TariffTargets,
		fmt.Sprintf("%d of %d meters on tariff 2", f.TariffMeters, f.TariffTargets), fmt.Sprintf("all %d", f.TariffTargets), "")

	// Step 4: collection.
	rep.add(stepCollection, "intervals stored at the head-end", f.IntervalsStored == f.ReadingsTaken,
		fmt.Sprintf("%s in %s", plural(f.IntervalsStored, "interval"), plural(f.ItemsStored, "signed item")),
		fmt.Sprintf("= readings taken (%d)", f.ReadingsTaken), "")
	f.IntervalsLost = f.ReadingsTaken - (f.IntervalsStored - f.DuplicateIntervals)
	rep.add(stepCollection, "readings lost", f.IntervalsLost == 0,
		plural(f.IntervalsLost, "interval"), "0", "")
	rep.add(stepCollection, "intervals stored twice", f.DuplicateIntervals == 0,
		plural(f.DuplicateIntervals, "interval"), "0", "")
	rep.add(stepCollection, "resent items recognised as duplicates", f.ResentRecognised == len(resend) && len(resend) > 0,
		fmt.Sprintf("%d of %d items", f.ResentRecognised, len(resend)), fmt.Sprintf("all %d, none stored again", len(resend)), "")
	rep.add(stepCollection, "items refused at ingest", len(rejected) == 0,
		fmt.Sprintf("%d (%s)", len(rejected), classes(f.IngestRejected)), "0", strings.Join(rejected, "\n"))
	rep.add(stepCollection, "WAN outage: gateway 0 holds its items, sends them on a signed wake-up", f.QueuedDuringOutage > 0 && f.DeliveredAfterWakeUp == f.QueuedDuringOutage,
		fmt.Sprintf("%d items queued, %d delivered", f.QueuedDuringOutage, f.DeliveredAfterWakeUp), "all queued delivered, > 0", "")
	rep.add(stepCollection, "replayed and forged wake-ups refused", f.WakeUpRefused["wake-up not authentic or replayed"] == 2,
		fmt.Sprintf("%d of 2 (%s)", sum(f.WakeUpRefused)-f.WakeUpRefused["not refused"], classes(f.WakeUpRefused)), "2 of 2, wake-up not authentic or replayed", "")
	rep.add(stepCollection, "gateway restart keeps its queue", f.QueueAfterRestart == f.QueueBeforeRestart,
		fmt.Sprintf("%d of %d items after restart", f.QueueAfterRestart, f.QueueBeforeRestart), fmt.Sprintf("all %d", f.QueueBeforeRestart), "")
	rep.add(stepCollection, "signatures verified by an outsider (roots and meter certificates only)", f.SignaturesBad == 0 && f.SignaturesVerified == f.ItemsStored,
		fmt.Sprintf("%d of %d items", f.SignaturesVerified, f.ItemsStored), fmt.Sprintf("all %d", f.ItemsStored), strings.Join(verifyFailures, "\n"))
	worst := f.Airtime[0]
	var parts []string
	for _, a := range f.Airtime {
		if a.Utilisation > worst.Utilisation {
			worst = a
		}
		parts = append(parts, fmt.Sprintf("%s %.2f %%", a.Segment, 100*a.Utilisation))
	}
	fig := strings.Join(parts, ", ")
	if len(parts) > 4 {
		fig = fmt.Sprintf("max %.2f %% (%s) over %d segments", 100*worst.Utilisation, worst.Segment, len(parts))
	}
	var airDetail []string
	for _, a := range f.Airtime {
		airDetail = append(airDetail, fmt.Sprintf("%s: %d meters, %.0f s airtime, %.2f %% of %s", a.Segment, a.Meters, a.Airtime, 100*a.Utilisation, plural(w.cfg.Days, "day")))
	}
	rep.add(stepCollection, "PLC airtime utilisation per segment (readings, collection)", worst.Utilisation <= maxSegmentUtilisation,
		fig, fmt.Sprintf("<= %.0f %% per S-FSK segment", 100*maxSegmentUtilisation), strings.Join(airDetail, "\n"))
	rate := float64(ivs) / max(ingestTime.Seconds(), 1e-9)
	rep.info = append(rep.info, fmt.Sprintf("ingest: %d interval values from %d signed items in %.0f ms (%.0f values/s, TLS not in the loop in-process)", ivs, ingested, ingestTime.Seconds()*1000, rate))
	return nil
}

// duplicateOneBlock copies the first stored block under another counter,
// behind the head-end's back (the broken variant DuplicateBlock): the
// same quarter hours are then stored twice.
func (w *world) duplicateOneBlock() error {
	if w.dbPath == "" || strings.Contains(w.dbPath, "://") {
		return errors.New("duplicate block: only with a SQLite database")
	}
	db, err := sql.Open("sqlite", "file:"+w.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`INSERT INTO data (meter, counter, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals)
		SELECT meter, counter + 1000000, kind, signed_at, ingested_at, gateway, value, raw, span_end, intervals
		FROM data WHERE kind = ? ORDER BY meter, counter LIMIT 1`, int(wan.KindBlock))
	return err
}

// breakOneSignature flips a bit of one stored signature, behind the
// head-end's back (the broken variant the demo's test uses to show the
// checks can fail).
func (w *world) breakOneSignature() error {
	if w.dbPath == "" || strings.Contains(w.dbPath, "://") {
		return errors.New("break signature: only with a SQLite database")
	}
	db, err := sql.Open("sqlite", "file:"+w.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var meter []byte
	var ctr int64
	var raw []byte
	if err := db.QueryRow(`SELECT meter, counter, raw FROM data ORDER BY meter, counter LIMIT 1`).Scan(&meter, &ctr, &raw); err != nil {
		return err
	}
	raw[len(raw)-1] ^= 1
	_, err = db.Exec(`UPDATE data SET raw = ? WHERE meter = ? AND counter = ?`, raw, meter, ctr)
	return err
}

// verifyStored re-verifies every stored item as an outsider would, and
// counts the quarter hours that verified blocks store more than once.
// failures names the items that did not verify.
func (w *world) verifyStored() (ok, bad, dupIntervals int, failures []string, err error) {
	type slot struct {
		meter protocol.SystemTitle
		at    int64
	}
	seen := map[slot]bool{}
	err = w.store.Each(func(kind wan.Kind, raw []byte) {
		var verr error
		switch kind {
		case wan.KindReading:
			_, verr = w.verify.VerifyReading(raw)
		case wan.KindBlock:
			var b protocol.SignedBlock
			if b, verr = protocol.UnmarshalSignedBlock(raw); verr == nil {
				var h protocol.BlockHeader
				if h, verr = w.verify.VerifyBlock(b); verr == nil {
					for _, iv := range b.Intervals {
						s := slot{h.Meter, h.Start + int64(iv.Index)*int64(h.Period)}
						if seen[s] {
							dupIntervals++
						}
						seen[s] = true
					}
				}
			}
		case wan.KindEvent:
			_, verr = w.verify.VerifyEvent(raw)
		}
		if verr != nil {
			bad++
			if len(failures) < 100 {
				failures = append(failures, fmt.Sprintf("item %d (kind %d, %d bytes): %s: %v", ok+bad, kind, len(raw), reasonClass(verr), verr))
			}
		} else {
			ok++
		}
	})
	return ok, bad, dupIntervals, failures, err
}

func (w *world) firmware(rep *demoReport) error {
	lr := []byte(strings.Repeat("VM-E3 legally relevant code v5 ", 33))
	other := []byte(strings.Repeat("VM-E3 communication stack v5 ", 35))
	image := append(append([]byte(nil), lr...), other...)
	m := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: w.now.Unix()}
	bad, err := protocol.SignManifest(m, rand.Reader, w.man) // no authority signature
	if err != nil {
		return err
	}
	good, err := protocol.SignManifest(m, rand.Reader, w.man, w.auth)
	if err != nil {
		return err
	}
	// One meter's self-test fails: it must roll back.
	victim := w.meters[len(w.meters)/2]
	w.failSelfTest = victim.cfg.Title
	attempts := map[*meterNode]int{}
	run := func(c *headend.Campaign) (installed, failed, reached int, err error) {
		done := 0
		for _, share := range c.Stages {
			upto := int(float64(len(w.meters))*share + 0.5)
			upto = max(upto, 1)
			for ; done < upto; done++ {
				n := w.meters[done]
				ferr := n.gw.g.Firmware(n.cfg.Title, c.ID, c.Manifest, c.Image)
				if ferr != nil && !errors.Is(ferr, gateway.ErrMeterRefus) {
					return 0, 0, done, ferr
				}
				attempts[n]++
				c.Report(ferr == nil)
				w.progress(done+1, len(w.meters), fmt.Sprintf("firmware campaign %d", c.ID))
			}
			c.StageDone()
			if c.Stopped {
				break
			}
		}
		i, f := c.Outcome()
		return i, f, done, nil
	}
	f := &rep.fig
	f.CampaignsRefused = map[string]int{}
	var air time.Duration
	for _, g := range w.gws {
		air -= g.seg.Medium().TotalAirtime()
	}
	c1, err := w.he.NewCampaign(1, bad, image, w.alice, w.bob)
	if err != nil {
		return err
	}
	_, f1, reached1, err := run(c1)
	if err != nil {
		return err
	}
	f.Stage1Reached, f.Stage1Refused = reached1, f1
	rep.add(stepFirmware, "campaign without the metrology authority's signature", c1.Stopped && f1 == reached1 && reached1 > 0,
		fmt.Sprintf("refused by %d of %d meters of stage 1; campaign %s", f1, reached1, map[bool]string{true: "stopped", false: "not stopped"}[c1.Stopped]),
		"every meter reached refuses, campaign stops", "")
	_, oneErr := w.he.NewCampaign(2, good, image, w.alice, w.alice)
	tally(f.CampaignsRefused, oneErr, headend.ErrApproval)
	rep.add(stepFirmware, "campaign approved by one person", errors.Is(oneErr, headend.ErrApproval),
		fmt.Sprintf("refused: %s", classes(f.CampaignsRefused)), "refused, second approver missing", "")
	c2, err := w.he.NewCampaign(2, good, image, w.alice, w.bob)
	if err != nil {
		return err
	}
	inst, fail, _, err := run(c2)
	if err != nil {
		return err
	}
	v5, v4 := 0, 0
	for _, n := range w.meters {
		switch n.m.Core().Version() {
		case 5:
			v5++
		case 4:
			v4++
		}
		for _, e := range n.m.Core().Logbook() {
			if e.Event == "rolled back" {
				f.RolledBack++
			}
		}
	}
	f.Installed, f.SelfTestFailed = inst, fail
	rep.add(stepFirmware, "dual-signed v5 in stages of 5, 25, 100 %", v5 == len(w.meters)-1 && inst == v5,
		fmt.Sprintf("%d of %d meters on v5, %d failed its self-test", inst, len(w.meters), fail),
		fmt.Sprintf("all but the meter whose self-test fails (%d)", len(w.meters)-1), "")
	rep.add(stepFirmware, "forced self-test failure rolled back", f.RolledBack == 1 && victim.m.Core().Version() == 4 && v4 == 1,
		fmt.Sprintf("%s; meter %x on v%d", plural(f.RolledBack, "rollback"), victim.cfg.Title, victim.m.Core().Version()), "1 rollback, back on v4", "")
	logOK := true
	var missing []string
	for _, n := range w.meters {
		e := len(n.m.Core().Logbook())
		f.LogbookEntries += e
		f.FirmwareAttempts += attempts[n]
		if e != attempts[n] {
			logOK = false
			missing = append(missing, fmt.Sprintf("meter %x: %d entries for %d attempts", n.cfg.Title, e, attempts[n]))
		}
	}
	rep.add(stepFirmware, "WELMEC 7.2 logbook entry for every attempt", logOK,
		fmt.Sprintf("%d entries for %d attempts", f.LogbookEntries, f.FirmwareAttempts), "one per attempt, every meter", strings.Join(missing, "\n"))
	for _, g := range w.gws {
		air += g.seg.Medium().TotalAirtime()
	}
	rep.info = append(rep.info, fmt.Sprintf("firmware: a %d-byte image, %.0f s of PLC airtime over %s for both campaigns",
		len(image), air.Seconds(), plural(len(w.gws), "segment")))
	return nil
}

// attacks is the Dolev-Yao attacker on the PLC medium (step 6): it
// records what crosses the medium and replays, reorders, alters and forges.
// Each attack class counts what it tried and why each try was refused.
func (w *world) attacks(rep *demoReport) error {
	newTally := func(class string) *attackTally {
		return &attackTally{class: class, reasons: map[string]int{}}
	}
	replayDown := newTally("replayed request to a meter")
	replayUp := newTally("replayed meter data to the gateway")
	reorder := newTally("reordered requests")
	tamper := newTally("tampered ciphertext")
	forged := newTally("forged key agreement")
	try := func(t *attackTally, err error, want ...error) {
		t.tried++
		c := reasonClass(err)
		if c == "" {
			c = "accepted"
		}
		t.reasons[c]++
		for _, e := range want {
			if errors.Is(err, e) {
				t.reject++
				return
			}
		}
	}
	// The attacker records what crosses the medium.
	type rec struct {
		meter protocol.SystemTitle
		dir   gateway.Direction
		apdu  []byte
	}
	var seen []rec
	for _, g := range w.gws {
		prev := g.seg.Tap
		g.seg.Tap = func(m protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
			if prev != nil {
				prev(m, dir, apdu)
			}
			seen = append(seen, rec{m, dir, append([]byte(nil), apdu...)})
		}
	}
	sample := w.meters[:min(len(w.meters), 20)]
	for _, n := range sample {
		if _, err := n.gw.g.ReadNow(n.cfg.Title); err != nil {
			continue
		}
	}
	byMeter := map[protocol.SystemTitle]*meterNode{}
	for _, n := range w.meters {
		byMeter[n.cfg.Title] = n
	}
	for _, r := range seen {
		n := byMeter[r.meter]
		if len(r.apdu) == 0 || r.apdu[0] == protocol.TagKeyAgreement {
			continue
		}
		if r.dir == gateway.Down {
			try(replayDown, n.gw.seg.InjectDown(r.meter, r.apdu), protocol.ErrOutOfOrder, protocol.ErrReplay)
		} else {
			try(replayUp, n.gw.g.OpenFromMeter(r.meter, r.apdu), protocol.ErrReplay)
		}
	}
	for _, n := range sample {
		a1, err1 := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		a2, err2 := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		if err1 != nil || err2 != nil {
			continue
		}
		// Deliver the later one first: it is accepted; the earlier one
		// then arrives out of order and is refused.
		n.gw.seg.InjectDown(n.cfg.Title, a2)
		try(reorder, n.gw.seg.InjectDown(n.cfg.Title, a1), protocol.ErrOutOfOrder)
		a3, err := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		if err != nil {
			continue
		}
		a3[7+w.rng.IntN(len(a3)-7)] ^= 1 << w.rng.IntN(8)
		try(tamper, n.gw.seg.InjectDown(n.cfg.Title, a3), protocol.ErrAuthentication)
		// A key agreement signed with the attacker's own key.
		_, init, err := protocol.StartKeyAgreement(protocol.Suite1, n.gw.cfg.Title, n.cfg.Title, key(), nil, rand.Reader)
		if err != nil {
			continue
		}
		wire, _ := init.Marshal()
		try(forged, n.gw.seg.InjectDown(n.cfg.Title, append([]byte{protocol.TagKeyAgreement}, wire...)), meter.ErrUntrusted)
	}
	for _, t := range []*attackTally{replayDown, replayUp, reorder, tamper, forged} {
		rep.fig.Attacks = append(rep.fig.Attacks, *t)
		rep.add(stepAttacker, t.class, t.tried > 0 && t.reject == t.tried,
			fmt.Sprintf("%d of %d refused (%s)", t.reject, t.tried, classes(t.reasons)), "all refused, > 0 tried", "")
	}
	return nil
}

// market is step 8: every participant fetches what its contract covers and
// verifies each interval offline; the switched meters' quarter hours are
// split between the old and the new supplier; participants without a
// contract or with a revoked certificate are refused.
func (w *world) market(rep *demoReport) error {
	ctx := context.Background()
	f := &rep.fig
	f.FetchRefused = map[string]int{}
	w.now = w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour + 2*time.Hour)
	from, to := w.t0, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)
	noon := w.t0.Add(12 * time.Hour)
	perMeter := 96 * w.cfg.Days
	// Each participant verifies a block's signature once and every interval
	// of it against the signed Merkle root.
	verified := map[string]map[string]protocol.BlockHeader{}
	var failures []string
	verify := func(who string, ps []protocol.IntervalProof) map[int64]bool {
		cache := verified[who]
		if cache == nil {
			cache = map[string]protocol.BlockHeader{}
			verified[who] = cache
		}
		out := map[int64]bool{}
		for _, p := range ps {
			h, ok := cache[string(p.Sign1)]
			var err error
			if !ok {
				if h, err = w.verify.VerifyBlockHeader(p.Sign1); err == nil {
					cache[string(p.Sign1)] = h
				}
			}
			if err == nil {
				err = protocol.VerifyIntervalAgainst(h, p.Interval, p.Path)
			}
			if err != nil {
				f.IntervalsBad++
				if len(failures) < 100 {
					failures = append(failures, fmt.Sprintf("%s: interval %d: %v", who, p.Interval.Index, err))
				}
				continue
			}
			f.IntervalsVerified++
			out[h.Start+int64(p.Interval.Index)*int64(h.Period)] = true
		}
		return out
	}
	var partition []string
	for i, n := range w.meters {
		w.progress(i+1, len(w.meters), "market participants fetch and verify")
		g, err := w.he.Fetch(ctx, w.parts["grid operator Netz"], n.cfg.Title, from, to)
		if err != nil {
			return fmt.Errorf("grid operator's fetch for %x: %w", n.cfg.Title, err)
		}
		f.IntervalsEntitled += perMeter
		verify("grid operator Netz", g)
		if n.supplier == "supplier Lapsed" {
			continue // revoked at noon: refused below
		}
		f.IntervalsEntitled += perMeter
		if !n.switched {
			a, err := w.he.Fetch(ctx, w.parts[n.supplier], n.cfg.Title, from, to)
			if err != nil {
				return fmt.Errorf("%s's fetch for %x: %w", n.supplier, n.cfg.Title, err)
			}
			verify(n.supplier, a)
			continue
		}
		a, errA := w.he.Fetch(ctx, w.parts[n.supplier], n.cfg.Title, from, to)
		b, errB := w.he.Fetch(ctx, w.parts["supplier Suedwind"], n.cfg.Title, from, to)
		if err := errors.Join(errA, errB); err != nil {
			return fmt.Errorf("fetch for switched meter %x: %w", n.cfg.Title, err)
		}
		// The old supplier sees only before noon, the new one only from
		// noon of the first day; every quarter hour goes to exactly one.
		seenA, seenB := verify(n.supplier, a), verify("supplier Suedwind", b)
		bad := 0
		for ts := range seenA {
			if ts >= noon.Unix() && ts < from.Add(24*time.Hour).Unix() {
				bad++ // the old supplier sees after the switch
			}
		}
		for ts := range seenB {
			if ts < noon.Unix() || seenA[ts] {
				bad++ // the new supplier sees before the switch
			}
		}
		if len(seenA)+len(seenB) != perMeter {
			bad += perMeter - len(seenA) - len(seenB)
		}
		if bad != 0 {
			partition = append(partition, fmt.Sprintf("meter %x: old supplier %d, new supplier %d quarter hours, %d misplaced", n.cfg.Title, len(seenA), len(seenB), bad))
		}
		f.PartitionViolations += max(bad, -bad)
		if len(w.proofs) == 0 && len(a) > 0 && len(b) > 0 {
			w.proofs = append(w.proofs, a[0], a[len(a)-1], b[0], b[len(b)-1])
		}
	}
	rep.add(stepMarket, "supplier switch: each quarter hour to exactly one supplier", f.PartitionViolations == 0 && f.SwitchedMeters > 0,
		fmt.Sprintf("%d misplaced over %s", f.PartitionViolations, plural(f.SwitchedMeters, "switched meter")),
		"0; old supplier until 12:00, new from 12:00", strings.Join(partition, "\n"))
	rep.add(stepMarket, "participants verify every interval offline (signature, Merkle proof)", f.IntervalsBad == 0 && f.IntervalsVerified == f.IntervalsEntitled,
		fmt.Sprintf("%d of %d intervals", f.IntervalsVerified, f.IntervalsEntitled),
		fmt.Sprintf("all their contracts cover (%d; the revoked supplier's excepted)", f.IntervalsEntitled), strings.Join(failures, "\n"))
	// A supplier asking for a period or a meter outside its contracts is
	// refused: the new supplier for the morning before the switch, and a
	// supplier for another supplier's meter.
	tries, refusedNoContract := 0, 0
	_, err := w.he.Fetch(ctx, w.parts["supplier Suedwind"], w.meters[0].cfg.Title, from, noon)
	tries++
	if tally(f.FetchRefused, err, headend.ErrNotEntitled) {
		refusedNoContract++
	}
	for _, n := range w.meters {
		if n.supplier == "supplier Nordstrom" && !n.switched {
			_, err := w.he.Fetch(ctx, w.parts["supplier Suedwind"], n.cfg.Title, from, to)
			tries++
			if tally(f.FetchRefused, err, headend.ErrNotEntitled) {
				refusedNoContract++
			}
			break
		}
	}
	rep.add(stepMarket, "participant without a contract for meter and period refused", refusedNoContract == tries,
		fmt.Sprintf("%d of %d requests refused", refusedNoContract, tries), "all, no contract for meter and period", "")
	revoked := map[string]int{}
	_, err = w.he.Fetch(ctx, w.parts["supplier Lapsed"], w.meters[min(2, len(w.meters)-1)].cfg.Title, from, to)
	ok := tally(revoked, err, headend.ErrParticipant) && errors.Is(err, protocol.ErrRevoked)
	for k, v := range revoked {
		f.FetchRefused[k] += v
	}
	rep.add(stepMarket, "participant whose certificate was revoked at noon refused", ok,
		fmt.Sprintf("refused: %s", classes(revoked)), "refused, certificate revoked", "")
	return nil
}

// commandsPolicy checks who may disconnect a meter (UC4) and that an
// approved disconnect runs once.
func (w *world) commandsPolicy(rep *demoReport) error {
	f := &rep.fig
	f.CommandRefused, f.RepeatRefused = map[string]int{}, map[string]int{}
	n := w.meters[len(w.meters)-1]
	_, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	ok1 := tally(f.CommandRefused, err, headend.ErrApproval)
	_, err = w.he.IssueCommand(headend.Approver{Name: "supplier Nordstrom", Cert: w.parts["supplier Nordstrom"]}, &w.bob, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	ok2 := tally(f.CommandRefused, err, headend.ErrRole)
	rep.add(stepMarket, "disconnect without a second approver, or by a supplier, refused", ok1 && ok2,
		fmt.Sprintf("2 tried: %s", classes(f.CommandRefused)), "1 second approver missing, 1 role not permitted", "")
	c, err := w.he.IssueCommand(w.alice, &w.bob, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	if err != nil {
		return err
	}
	if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
		return err
	}
	f.DisconnectRuns++
	// Delivered again: the gateway refuses a command it relayed; after a
	// restart it has forgotten, and the meter refuses the old counter.
	again := n.gw.g.Command(n.cfg.Title, c)
	if err := w.restartGateway(n.gw); err != nil {
		return err
	}
	afterRestart := n.gw.g.Command(n.cfg.Title, c)
	ok1 = tally(f.RepeatRefused, again, gateway.ErrRelayed)
	ok2 = tally(f.RepeatRefused, afterRestart, gateway.ErrMeterRefus)
	rep.add(stepMarket, "approved disconnect runs once", f.DisconnectRuns == 1 && ok1 && ok2,
		fmt.Sprintf("ran %d time; 2 repeats: %s", f.DisconnectRuns, classes(f.RepeatRefused)),
		"once; repeat refused by the gateway, after its restart by the meter", "")
	log, err := w.store.AuditLog()
	if err != nil {
		return err
	}
	f.AuditEntries = len(log)
	rep.add(stepMarket, "head-end audit log", len(log) > 0, fmt.Sprintf("%d entries", len(log)), "> 0", "")
	return nil
}

// restartGateway closes a gateway and opens it again from its directory (its
// queue comes back, what it relayed is forgotten) and recommissions its
// meters.
func (w *world) restartGateway(g *gwNode) error {
	g.g.Close()
	ng, err := gateway.New(g.cfg)
	if err != nil {
		return err
	}
	g.g = ng
	for _, n := range w.meters {
		if n.gw == g {
			if err := g.g.Commission(n.cfg.Title, n.channelPub); err != nil {
				return fmt.Errorf("recommission after restart: %w", err)
			}
		}
	}
	return nil
}

// export writes the PKI root, the manufacturer sub-CA and meter
// certificates, and sample signed data for verimeter verify.
func (w *world) export(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := protocol.WriteCertificate(filepath.Join(dir, "root.pem"), w.root.Cert); err != nil {
		return err
	}
	var pemCerts []byte
	add := func(c *x509.Certificate) {
		pemCerts = append(pemCerts, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	add(w.subs["manufacturer"].Cert)
	add(w.subs["head-end-operator"].Cert)
	add(w.logCert)
	for _, n := range w.meters {
		add(n.cert)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs.pem"), pemCerts, 0o644); err != nil {
		return err
	}
	// A tree head on demand, so every exported item has its inclusion proof
	// (FILE.log): the evidence that keeps it valid after a revocation.
	ctx := context.Background()
	if _, err := w.he.SignTreeHead(ctx); err != nil {
		return err
	}
	write := func(name string, content, sign1 []byte) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
		ev, err := w.he.EvidenceFor(ctx, sign1)
		if err != nil {
			return err
		}
		b, err := ev.Marshal()
		if err != nil {
			return err
		}
		return os.WriteFile(path+".log", b, 0o644)
	}
	for i, r := range w.readings {
		if err := write(fmt.Sprintf("reading-%d.cbor", i), r, r); err != nil {
			return err
		}
	}
	for i, p := range w.proofs {
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		if err := write(fmt.Sprintf("interval-%d.cbor", i), b, p.Sign1); err != nil {
			return err
		}
	}
	return nil
}

// operatorChange hands the meters of gateway 0's segment to a new gateway
// operator (UC6): the head-end sends each meter an operator-signed trust
// list (version 2) naming the new gateway, relayed by the old one; the new
// gateway then commissions them, and the old gateway is refused.
func (w *world) operatorChange(rep *demoReport) error {
	old := w.gws[0]
	nk := key()
	title := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 1, 0, 0}
	if _, err := w.subs["gateway-operator"].Issue(protocol.DeviceIdentity(title, ""), []protocol.Role{protocol.RoleGateway}, &nk.PublicKey, w.now.Add(-time.Hour), protocol.DeviceValidity); err != nil {
		return err
	}
	cfg := gateway.Config{Name: "gw-new-operator", Title: title, ChannelKey: nk, Rand: rand.Reader, Segment: old.seg, Trace: w.traces}
	ng, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	node := &gwNode{name: cfg.Name, cfg: cfg, g: ng, seg: old.seg}
	w.gws = append(w.gws, node)
	moved, refused := 0, 0
	for _, n := range w.meters {
		if n.gw != old {
			continue
		}
		n.gw = node // from now on the meter answers only the new operator's gateway
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 2, Issued: w.now.Unix(), Meter: n.cfg.Title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spkiOf(nk)}, {Role: protocol.RoleHeadEnd, SPKI: spkiOf(w.heKey)}}}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		c, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdTrustList, Payload: tl})
		if err != nil {
			return err
		}
		if err := old.g.Command(n.cfg.Title, c); err != nil { // the old operator relays the hand-over
			return fmt.Errorf("trust list to %x: %w", n.cfg.Title, err)
		}
		if err := ng.Commission(n.cfg.Title, n.channelPub); err != nil {
			return fmt.Errorf("new operator commissioning %x: %w", n.cfg.Title, err)
		}
		if _, err := ng.ReadNow(n.cfg.Title); err != nil {
			return fmt.Errorf("new operator reading %x: %w", n.cfg.Title, err)
		}
		moved++
		if err := old.g.Commission(n.cfg.Title, n.channelPub); errors.Is(err, gateway.ErrMeterRefus) {
			refused++
		}
	}
	sent, res, err := ng.Flush(context.Background(), uplink{w}, 500)
	if err != nil {
		return err
	}
	f := &rep.fig
	f.Moved, f.OldGatewayRefused, f.MovedStored = moved, refused, res.Stored
	rep.add(stepOperator, "meters take the new trust list, the new operator's gateway commissions and reads them", moved > 0 && sent == moved && res.Stored == moved,
		fmt.Sprintf("%d of %d meters of segment %s; %d readings stored", moved, moved, old.name, res.Stored),
		fmt.Sprintf("all %d, one reading each", moved), "")
	rep.add(stepOperator, "old operator's gateway refused by the meters", refused == moved,
		fmt.Sprintf("%d of %d commissioning attempts refused", refused, moved), "all, refused by the meter", "")
	return nil
}
