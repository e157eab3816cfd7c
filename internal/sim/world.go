package sim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
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

// MaxMetersPerGateway is what one PLC segment serves in the demo: the HDLC
// lower addresses 0x10..0xFD of one gateway (and within the 25 % airtime
// budget of plc/README.md for S-FSK).
const MaxMetersPerGateway = 238

// disconnectsPerHour is the simulated head-end's limit of disconnects: the
// market step's second disconnect within the hour is refused.
const disconnectsPerHour = 1

// PersistentMeters is how many meters of a demo keep their state in files.
const PersistentMeters = 1000

// Config sizes a run of the simulated world: the demo's flags, and the
// broken variants its tests use.
type Config struct {
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
	// ValidateTraces checks the roles' logs under a -spec-trace directory
	// against the spec and returns one result per module (the command's
	// trace validation, shared with the crash campaign); nil leaves the
	// logs unchecked and the report without trace rows.
	ValidateTraces func(dir string) []TraceResult
	// DuplicateBlock copies one stored block under another counter behind
	// the head-end's back (the test's broken variant): the duplicates row
	// must count it.
	DuplicateBlock bool
}

// ErrBadSize is a configuration the world cannot be built for; the
// error names the demo's flag.
var ErrBadSize = errors.New("bad size")

// Validate checks a configuration's sizes; the error names the flag.
func (cfg Config) Validate() error {
	switch {
	case cfg.Meters < 1:
		return fmt.Errorf("%w: -meters %d: at least 1 meter", ErrBadSize, cfg.Meters)
	case cfg.Gateways < 1:
		return fmt.Errorf("%w: -gateways %d: at least 1 gateway", ErrBadSize, cfg.Gateways)
	case cfg.Gateways > cfg.Meters:
		return fmt.Errorf("%w: -gateways %d exceeds -meters %d: every gateway's PLC segment needs a meter", ErrBadSize, cfg.Gateways, cfg.Meters)
	case cfg.Days < 1:
		return fmt.Errorf("%w: -days %d: at least 1 day", ErrBadSize, cfg.Days)
	}
	return nil
}

// world is everything the scenario builds.
type world struct {
	cfg     Config
	rng     *mrand.Rand
	t0      time.Time
	now     time.Time
	dir     string
	dbPath  string // the head-end's database (SQLite file or postgres:// URL)
	pki     *PKI
	root    *protocol.CA
	subs    map[string]*protocol.CA
	he      *headend.HeadEnd
	store   *headend.Store
	heKey   *ecdsa.PrivateKey
	logKey  *ecdsa.PrivateKey // signs the transparency log's tree heads
	logCert *x509.Certificate
	op      *ecdsa.PrivateKey // trust-list signer
	// The head-end's network API on the loopback, and its clients: the
	// operators alice and bob, and each market participant.
	api     *HeadEndServer
	alice   *APIClient
	bob     *APIClient
	opCerts []*x509.Certificate // alice's and bob's
	opKeys  []*ecdsa.PrivateKey
	parts   map[string]*x509.Certificate
	partKey map[string]*ecdsa.PrivateKey
	partAPI map[string]*APIClient
	man     protocol.ManifestSigner
	auth    protocol.ManifestSigner
	gws     []*gwNode
	meters  []*meterNode
	verify  *protocol.Verifier // an outsider's verifier: PKI roots and certificates only
	wanDown map[string]bool
	clock   statemachine.LamportClock
	rec     *statemachine.Recorder
	traces  *statemachine.TraceDir // -spec-trace
	// samples for -export
	readings [][]byte
	proofs   []protocol.IntervalProof
}

type gwNode struct {
	name string
	cfg  gateway.Config
	g    *gateway.Gateway
	seg  *Segment
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

// Ingest is the in-process WAN path of signed data (gateway.Uplink).
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

// Run runs the demo's steps in the README's order and returns the
// report: its rows and the figures they judge. A step that cannot go on
// (a role's I/O fails) ends the run with a failing row naming the step,
// and the rows so far stay.
func Run(cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
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
	rep := &Report{Dir: cfg.ReportDir}
	rep.Fig.Meters, rep.Fig.Gateways, rep.Fig.Days = cfg.Meters, cfg.Gateways, cfg.Days
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
		run  func(*Report) error
	}{
		{StepPKI, w.checkPKI},
		{StepCommission, w.commission},
		{StepReadings, w.runDays},
		{StepFirmware, w.firmware},
		{StepAttacker, w.attacks},
		{StepTamper, w.tamper},
		{StepOperator, w.operatorChange},
		{StepMarket, w.market},
		{StepMarket, w.commandsPolicy},
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
	results := validateTraces(cfg.ValidateTraces, cfg.SpecTrace)
	rep.Info = append(rep.Info, fmt.Sprintf("trace validation: %s of %s checked in %.1f s on %d cores", plural(results.total().Steps, "step"), plural(results.total().Groups, "group"), time.Since(t0).Seconds(), runtime.GOMAXPROCS(0)))
	total := results.total()
	rep.Fig.TraceSteps, rep.Fig.TraceLogs, rep.Fig.TraceGroups = total.Steps, total.Logs, total.Groups
	where := "-spec-trace DIR keeps the logs"
	if keep {
		where = "logs in " + cfg.SpecTrace
	}
	for _, res := range results {
		check := fmt.Sprintf("%s steps are a behaviour of spec/%s.tla", res.Who, res.Module)
		if res.Err != nil {
			rep.add(StepTrace, check, false,
				fmt.Sprintf("%s explained, then a step no behaviour explains", plural(res.Steps, "step")), "every logged step explained", res.Err.Error())
		} else {
			rep.add(StepTrace, check, res.Steps > 0,
				fmt.Sprintf("traces explained: %s in %s of %s (%s)", plural(res.Steps, "step"), plural(res.Logs, "log"), plural(res.Groups, "meter"), where),
				"every logged step explained, > 0 steps", "")
		}
	}
	if keep {
		rep.Info = append(rep.Info, "check one meter's logs again: verimeter trace-check -max-hidden 0 -spec spec/Commands.tla -config spec/trace/Commands.cfg "+filepath.Join(cfg.SpecTrace, "commands", "<meter>", "*.ndjson"),
			"and its channel: verimeter trace-check -max-hidden 0 -spec spec/Channel.tla -config spec/trace/Channel.cfg "+filepath.Join(cfg.SpecTrace, "channel", "<meter>", "*.ndjson"),
			"and its collection: verimeter trace-check -max-hidden 1 -spec spec/Collection.tla -config spec/trace/Collection.cfg "+filepath.Join(cfg.SpecTrace, "collection", "<meter>", "*.ndjson"),
			"and its firmware: verimeter trace-check -max-hidden 0 -spec spec/Firmware.tla -config spec/trace/Firmware.cfg "+filepath.Join(cfg.SpecTrace, "firmware", "<meter>", "meter.ndjson"),
			"and its tamper events: verimeter trace-check -max-hidden 0 -spec spec/Tamper.tla -config spec/trace/Tamper.cfg "+filepath.Join(cfg.SpecTrace, "tamper", "<meter>", "*.ndjson"),
			"and the head-end's market decisions on it: verimeter trace-check -max-hidden 0 -spec spec/Market.tla -config spec/trace/Market.cfg "+filepath.Join(cfg.SpecTrace, "market", "<meter>", "headend.ndjson"))
	}
	if cfg.Export != "" {
		if err := w.export(cfg.Export); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		rep.Info = append(rep.Info, fmt.Sprintf("exported %d readings and %d interval proofs to %s: verimeter verify -roots %s -certs %s %s",
			len(w.readings), len(w.proofs), cfg.Export, filepath.Join(cfg.Export, "root.pem"), filepath.Join(cfg.Export, "certs.pem"), filepath.Join(cfg.Export, "*.cbor")))
	}
	w.clearProgress()
	rep.Info = append(rep.Info, fmt.Sprintf("%d meters (%d with state on disk), %d gateways, %d day(s), seed %d, %.1f s wall time", cfg.Meters, min(cfg.Meters, PersistentMeters), cfg.Gateways, cfg.Days, cfg.Seed, time.Since(start).Seconds()))
	return rep, nil
}

// clearProgress blanks the progress bar's line before the report.
func (w *world) clearProgress() {
	if w.cfg.Progress != nil {
		fmt.Fprintf(w.cfg.Progress, "\r%-80s\r", "")
	}
}

func (w *world) close() {
	if w.api != nil {
		w.api.Close()
	}
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
	h, err := NewPKI(w.t0.Add(-24*time.Hour), rand.Reader)
	if err != nil {
		return err
	}
	w.pki = h
	w.root = h.Root
	for name, ca := range h.Subs {
		w.subs[name] = ca
	}
	w.heKey, w.op = key(), key()
	issue := func(ca, cn string, role protocol.Role, k *ecdsa.PrivateKey) (*x509.Certificate, error) {
		return w.pki.Issue(ca, protocol.Identity{CommonName: cn}, role, &k.PublicKey, w.t0.Add(-time.Hour), protocol.ParticipantValidity)
	}
	if _, err := issue("head-end-operator", "head-end", protocol.RoleHeadEnd, w.heKey); err != nil {
		return err
	}
	w.logKey = key()
	if w.logCert, err = issue("head-end-operator", "head-end transparency log", protocol.RoleHeadEnd, w.logKey); err != nil {
		return err
	}
	for _, name := range []string{"operator alice", "operator bob"} {
		k := key()
		c, err := issue("head-end-operator", name, protocol.RoleHeadEnd, k)
		if err != nil {
			return err
		}
		w.opCerts = append(w.opCerts, c)
		w.opKeys = append(w.opKeys, k)
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
		seg := NewSegment(plc.SFSK, 2, 0.02, w.cfg.Seed+uint64(i), w.t0)
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
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 1, Issued: w.t0.Unix(), Meter: title, Entries: w.trustEntries(spkiOf(g.cfg.ChannelKey))}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		// Meters persist their state to disk like devices do; beyond
		// PersistentMeters the simulation keeps it in memory (two open
		// files per meter would exhaust the process's descriptors).
		mdir := ""
		if i < PersistentMeters {
			mdir = filepath.Join(w.dir, fmt.Sprintf("meter-%05d", i))
			if err := os.MkdirAll(mdir, 0o700); err != nil {
				return err
			}
		}
		mc := meter.Config{Title: title, Model: "VM-E3", SigningKey: sk, ChannelKey: ck, Operator: &w.op.PublicKey, TrustList: tl,
			Manufacturers: map[string]*ecdsa.PublicKey{string(w.man.KeyID): &w.man.Key.PublicKey},
			Authorities:   map[string]*ecdsa.PublicKey{string(w.auth.KeyID): &w.auth.Key.PublicKey},
			Factory:       meter.Slot{Version: 4, SecurityVersion: 2, LR: []byte("VM-E3 legally relevant code v4"), Other: []byte("VM-E3 communication stack v4")},
			Dir:           mdir, Source: NewHousehold(w.cfg.Seed*1_000_003 + uint64(i)), SelfTest: selfTestOf(i, w.cfg.Meters), Rand: rand.Reader, Trace: w.traces}
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
	w.he = headend.New(headend.Config{Store: w.store, Meters: dirM, Validator: val, Key: w.heKey, LogKey: w.logKey, Now: func() time.Time { return w.now }, Rand: rand.Reader, Trace: w.traces,
		DisconnectsPerHour: disconnectsPerHour})
	// The operators and the participants reach the head-end over its API,
	// with their certificates, as in a deployment.
	if w.api, err = ServeHeadEnd(w.he, w.pki, w.t0.Add(-time.Hour)); err != nil {
		return err
	}
	now := func() time.Time { return w.now }
	w.alice = w.api.Client(w.opCerts[0], w.opKeys[0], now)
	w.bob = w.api.Client(w.opCerts[1], w.opKeys[1], now)
	w.partAPI = map[string]*APIClient{}
	for name, c := range w.parts {
		w.partAPI[name] = w.api.Client(c, w.partKey[name], now)
	}
	// An outsider (a customer, a court) verifies with the roots and the
	// meters' certificates only: a separate directory from the same PKI.
	outsider, err := protocol.NewMeterDirectory(val, signingCerts)
	if err != nil {
		return err
	}
	w.verify = protocol.NewVerifier(outsider)
	return nil
}

// TraceResult sums the validation of one spec module's logs in a run.
type TraceResult struct {
	Module              string // e.g. "Commands"
	Who                 string // the roles that log, e.g. "meters'"
	Groups, Logs, Steps int
	Err                 error // the first group no behaviour explains, or why the check could not run
}

// traceResults holds one result per validated module.
type traceResults []TraceResult

// total sums the modules' figures.
func (rs traceResults) total() (t TraceResult) {
	for _, r := range rs {
		t.Groups, t.Logs, t.Steps = t.Groups+r.Groups, t.Logs+r.Logs, t.Steps+r.Steps
	}
	return t
}

func validateTraces(validate func(string) []TraceResult, dir string) traceResults {
	if validate == nil {
		return nil
	}
	return validate(dir)
}

// errCalibration is the self-test failure forced on one meter, whose
// firmware install must then roll back (the firmware step).
var errCalibration = errors.New("calibration table checksum mismatch")

// selfTestOf is meter i's self-test of a new image: the middle meter's
// fails, every other passes.
func selfTestOf(i, meters int) func([]byte) error {
	if i != meters/2 {
		return nil
	}
	return func([]byte) error { return errCalibration }
}

// trustEntries is a meter's trust list behind the gateway whose channel
// key is gw: that gateway, the head-end's command key, and the operators'
// own keys as command approvers (alice's and bob's: a disconnect runs only
// with both their approvals).
func (w *world) trustEntries(gw []byte) []protocol.TrustEntry {
	es := []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: gw}, {Role: protocol.RoleHeadEnd, SPKI: spkiOf(w.heKey)}}
	for _, k := range w.opKeys {
		es = append(es, protocol.TrustEntry{Role: protocol.RoleApprover, SPKI: spkiOf(k)})
	}
	return es
}
